"""The README's "Use it with scikit-learn, pandas and Hugging Face datasets" examples run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

SECTION = "## Use it with scikit-learn, pandas and Hugging Face datasets"


def _blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return re.findall(r"```python\n(.*?)```", readme[start:end], flags=re.S)


def test_the_section_has_the_three_examples():
    blocks = _blocks()
    assert len(blocks) == 3
    assert "GridSearchCV" in blocks[0] and "cross_val_score" in blocks[0] and "from_detector" in blocks[0]
    assert "to_frame" in blocks[1] and "pd.DataFrame" in blocks[1]
    assert "datasets.Dataset" in blocks[2]


def test_the_examples_run(monkeypatch, tmp_path, capsys):
    pytest.importorskip("pandas")
    pytest.importorskip("datasets")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _blocks():  # in order, one namespace: later examples reuse `sentences` and `labels`
        exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(1, 14)" in out  # the bundled model as an estimator
    search, frame, docs = namespace["search"], namespace["frame"], namespace["docs"]
    assert search.best_params_["C_grid"] in (0.1, 1.0, 10.0)
    assert list(namespace["best"].classes_) == ["loaded_language", "name_calling_labeling", "doubt", "flag_waving"]
    assert namespace["best"].predict(["Those traitors and thugs run this evil regime!"])[0].tolist() == [1, 1, 0, 0]
    assert frame["source"].tolist() == ["a.txt", "a.txt", "b.txt", "b.txt"]
    assert [set(t) for t in frame["techniques"]] == [{"loaded_language", "name_calling_labeling"}, set(), set(),
                                                     {"doubt"}]
    assert len(docs) == 24 and list(namespace["clf"].classes_) == list(namespace["best"].classes_)
