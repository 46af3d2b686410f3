"""Every code block of the README, the documentation site (docs/) and the model cards does what it shows.

- ```python blocks run, in order, one namespace per page, in a scratch folder that holds a link to
  ``seeds/`` (so the examples read the seed article as they would from the repository root and write
  their files somewhere harmless). A block preceded by ``<!-- docs-test: skip REASON -->`` is not run;
  the reason must say which test covers it instead.
- ```sh blocks: every ``propdetect ...`` command in them parses with the real command line parser
  (so an option renamed or removed breaks the docs' build), and every ``python training/X.py`` or
  ``benchmarks/...`` path they name exists. Placeholders written ``...`` are not parsed.
- Pages include files with ``--8<-- "path"`` (pymdownx.snippets, as mkdocs.yml configures it); the
  included text is checked as part of the page.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from propdetect.cli import build_parser
from tests.conftest import ROOT

PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
SKIP = re.compile(r"<!-- docs-test: skip (.+?) -->\s*$")
FENCE = re.compile(r"^(`{3,})(\w*)\s*$")


def _snippet(spec: str) -> str:
    """pymdownx.snippets' ``path`` or ``path:start:end`` (1-based lines, end optional)."""
    path, _, lines = spec.partition(":")
    text = (ROOT / path).read_text(encoding="utf-8")
    if lines:
        start, _, end = lines.partition(":")
        text = "\n".join(text.split("\n")[int(start) - 1:int(end) if end else None])
    return _expand(text)


def _expand(text: str) -> str:
    return re.sub(r'^--8<-- "([^"]+)"\s*$', lambda m: _snippet(m.group(1)), text, flags=re.M)


def blocks(page: Path) -> list[tuple[str, str, str | None, int]]:
    """(language, code, skip reason or None, line) of each fenced block of a page, snippets expanded."""
    lines = _expand(page.read_text(encoding="utf-8")).split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith(m.group(1)):
            j += 1
        prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = SKIP.match(prev)
        out.append((m.group(2), "\n".join(lines[i + 1:j]) + "\n", skip.group(1) if skip else None, i + 1))
        i = j + 1
    return out


def _ids(pages: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in pages]


def test_the_docs_are_found():
    names = set(_ids(PAGES))
    assert {"README.md", "docs/index.md", "docs/models/fast.md", "docs/guides/sklearn-pandas.md"} <= names
    python = [b for p in PAGES for b in blocks(p) if b[0] == "python"]
    assert len(python) >= 15 and sum(b[2] is None for b in python) >= 13
    assert all(b[2] and "test" in b[2] for b in python if b[2] is not None), "a skip must name the test that covers it"


PYTHON_PAGES = [p for p in PAGES if any(lang == "python" and not skip for lang, _, skip, _ in blocks(p))]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=_ids(PYTHON_PAGES))
def test_python_blocks_run(page, monkeypatch, tmp_path, capsys):
    code = [(c, line) for lang, c, skip, line in blocks(page) if lang == "python" and not skip]
    if any(re.search(r"^import pandas|pd\.DataFrame", c, re.M) for c, _ in code):
        pytest.importorskip("pandas")
    if any("import datasets" in c for c, _ in code):
        pytest.importorskip("datasets")
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for c, line in code:
        # line numbers in a traceback point into the page
        exec(compile("\n" * line + c, str(page), "exec"), namespace)
    capsys.readouterr()
    if page.name == "sklearn-pandas.md":
        _check_sklearn_page(namespace)


def _check_sklearn_page(ns: dict) -> None:
    search, frame, docs, best = ns["search"], ns["frame"], ns["docs"], ns["best"]
    assert search.best_params_["C_grid"] in (0.1, 1.0, 10.0)
    assert list(best.classes_) == ["loaded_language", "name_calling_labeling", "doubt", "flag_waving"]
    assert best.predict(["Those traitors and thugs run this evil regime!"])[0].tolist() == [1, 1, 0, 0]
    assert frame["source"].tolist() == ["a.txt", "a.txt", "b.txt", "b.txt"]
    assert [set(t) for t in frame["techniques"]] == [{"loaded_language", "name_calling_labeling"}, set(), set(),
                                                     {"doubt"}]
    assert len(docs) == 24 and list(ns["clf"].classes_) == list(best.classes_)


def _commands(code: str) -> list[list[str]]:
    """The ``propdetect``, ``python training/...`` and ``python -m pytest benchmarks...`` commands of a shell block."""
    code = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in code.split("\n"):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # an unbalanced quote inside a comment's prose
            words = shlex.split(line.split(" #")[0], comments=True)
        cmd: list[str] = []
        for w in words + ["&&"]:
            if w in ("&&", "|", ";", "||"):
                if cmd:
                    out.append(cmd)
                cmd = []
            else:
                cmd.append(w)
    return out


def _strip_redirections(words: list[str]) -> list[str]:
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w in (">", ">>", "<", "2>", "2>&1"):
            skip = w != "2>&1"
        elif not w.startswith(("2>", ">")):
            out.append(w)
    return out


SHELL = [(p, c, line) for p in PAGES for lang, c, _, line in blocks(p) if lang in ("sh", "bash", "console")]


def test_shell_blocks_are_found():
    commands = [cmd for _, c, _ in SHELL for cmd in _commands(c)]
    assert sum(cmd[0] == "propdetect" for cmd in commands) >= 40


@pytest.mark.parametrize("page,code,line", SHELL, ids=[f"{p.relative_to(ROOT)}:{n}" for p, _, n in SHELL])
def test_shell_commands_parse(page, code, line):
    parser = build_parser()
    for cmd in _commands(code):
        cmd = _strip_redirections(cmd)
        if cmd[0] == "propdetect" and "..." not in cmd:
            try:
                parser.parse_args(cmd[1:])
            except SystemExit as exc:  # argparse's exit: 0 for --version/--help, 2 for a usage error
                assert exc.code == 0, f"{page.name}:{line}: `{shlex.join(cmd)}` does not parse"
        elif cmd[0] in ("python", "python3"):
            paths = [w for w in cmd[1:] if w.startswith(("training/", "benchmarks/", "tests/"))]
            for p in paths:
                assert (ROOT / p.split("::")[0]).exists(), f"{page.name}:{line}: {p} does not exist"
