"""The README's "Annotate, retrain, repeat" examples (suggest, spaCy) run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

SECTION = "## Annotate, retrain, repeat"


def _blocks(marker: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return [b for b in re.findall(r"```python\n(.*?)```", readme[start:end], flags=re.S) if marker in b]


def test_the_suggest_example_runs(capsys):
    (block,) = _blocks("propdetect.suggest(")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]
    assert all(line.split()[2] == "True" for line in lines)  # offsets index the caller's text
    assert all("threshold" in line for line in lines)


def test_the_spacy_example_runs(capsys):
    pytest.importorskip("spacy", reason="spaCy is not installed (pip install 'propdetect[spacy]')")
    (block,) = _blocks("nlp.add_pipe(")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    shown = re.search(r"# (\[.*), \.\.\.\]", block).group(1)  # the output the README shows, shortened
    assert out.startswith(shown)
    assert namespace["analysis"].flagged and len(namespace["docs"]) == 2
    assert "name_calling_labeling" in namespace["html"]


def test_the_section_has_the_loop_figure():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION):]
    figure = re.search(r"!\[[^\]]*\]\(([^)]+\.png)\)", section)
    assert figure and (ROOT / figure.group(1)).is_file()
