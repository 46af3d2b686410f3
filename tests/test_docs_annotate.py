"""The examples of docs/guides/annotation.md (suggest, spaCy) run as written, and the page shows the loop figure."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

PAGE = ROOT / "docs" / "guides" / "annotation.md"


def _blocks(marker: str) -> list[str]:
    page = PAGE.read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", page, flags=re.S) if marker in b]


def test_the_suggest_example_runs(capsys):
    (block,) = _blocks("propdetect.suggest(")
    namespace: dict = {}
    exec(compile(block, str(PAGE), "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]
    assert all(line.split()[2] == "True" for line in lines)  # offsets index the caller's text
    assert all("threshold" in line for line in lines)


def test_the_spacy_example_runs(capsys):
    pytest.importorskip("spacy", reason="spaCy is not installed (pip install 'propdetect[spacy]')")
    (block,) = _blocks("nlp.add_pipe(")
    namespace: dict = {}
    exec(compile(block, str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out
    shown = re.search(r"# (\[.*), \.\.\.\]", block).group(1)  # the output the README shows, shortened
    assert out.startswith(shown)
    assert namespace["analysis"].flagged and len(namespace["docs"]) == 2
    assert "name_calling_labeling" in namespace["html"]


def test_the_page_has_the_loop_figure():
    figure = re.search(r"!\[[^\]]*\]\(([^)]+\.png)\)", PAGE.read_text(encoding="utf-8"))
    assert figure and (PAGE.parent / figure.group(1)).resolve().is_file()
