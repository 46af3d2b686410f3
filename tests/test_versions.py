"""Models move between library versions (issue 24): same scores to 1e-6 under any supported one.

Two recorded sets of scores, both made by ``tests/make_version_scores.py``:

* ``tests/data/versions/tiny_model/``: the tiny model of tests/conftest.py trained under
  the oldest supported scikit-learn (1.6.0, constraints/oldest.txt), and the scores it
  gave there (``tiny_scores.json``);
* ``bundled_scores.json``: the bundled fast and accurate models' scores under the newest
  versions (scikit-learn 1.9.1, onnxruntime 1.32.0, tokenizers 0.23.3).

CI runs this file twice: in the main job (newest versions: the 1.6.0 model crosses
versions) and in the oldest-versions job (the bundled models, trained under 1.9.1 and
recorded with onnxruntime 1.32, cross versions). ``test_a_model_crosses_versions`` makes
sure that each run does compare two versions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from propdetect import Detector
from propdetect._detector import bundled_model_path
from propdetect._persist import installed_version

from . import make_version_scores as mv

REGENERATE = ("if the model or the texts changed on purpose, regenerate with "
              "`python tests/make_version_scores.py bundled` (newest versions)")


def _recorded(path) -> dict[str, Any]:
    if not path.is_file():
        pytest.fail(f"{path} is missing: {REGENERATE}")
    return json.loads(path.read_text(encoding="utf-8"))


def _assert_same_scores(det: Detector, texts: dict[str, str], recorded: dict[str, Any]) -> None:
    for name, text in texts.items():
        got, want = mv.scores_of(det, text), recorded[name]
        assert [s["span"] for s in got] == [s["span"] for s in want], name
        np.testing.assert_allclose(np.array([s["scores"] for s in got]), np.array([s["scores"] for s in want]),
                                   rtol=0, atol=mv.TOLERANCE, err_msg=f"{name}: scores moved")
        assert [s["techniques"] for s in got] == [s["techniques"] for s in want], name


def test_recorded_texts_are_the_texts():
    assert _recorded(mv.BUNDLED)["texts"] == mv.texts(), REGENERATE
    assert _recorded(mv.TINY_SCORES)["texts"] == mv.texts(), "regenerate with `python tests/make_version_scores.py tiny`"


@pytest.mark.parametrize("name", ["fast", "accurate"])
def test_bundled_model_scores_as_recorded_under_the_newest_versions(name):
    """The fast model under any NumPy; the accurate one under any onnxruntime and tokenizers >= the floors."""
    data = _recorded(mv.BUNDLED)
    det = Detector.load(name)
    if det.metadata["model_version"] != data["models"][name]["model_version"]:
        pytest.fail(f"the scores were recorded with {data['models'][name]['model_version']}, the bundled "
                    f"{name} model is {det.metadata['model_version']}: {REGENERATE}")
    _assert_same_scores(det, data["texts"], data["models"][name]["scores"])


def test_model_trained_under_another_sklearn_loads_and_scores_the_same():
    data = _recorded(mv.TINY_SCORES)
    det = Detector.load(mv.TINY_MODEL)
    assert det.metadata["versions"]["scikit-learn"] == data["versions"]["scikit-learn"] == "1.6.0"
    _assert_same_scores(det, data["texts"], data["scores"])


def test_training_under_this_sklearn_gives_the_same_model():
    """Training is not version-bound either: the recipe gives the 1.6.0 model's scores here."""
    from propdetect._train import fit_detector
    from tests.conftest import TINY_CONFIG, _DOCS, make_document

    data = _recorded(mv.TINY_SCORES)
    docs = [make_document(f"doc{i}", d) for i, d in enumerate(_DOCS)]
    det = fit_detector(docs, replace(TINY_CONFIG, vectors=None), name="tiny")
    assert det.metadata["versions"]["scikit-learn"] == installed_version("scikit-learn")
    _assert_same_scores(det, data["texts"], data["scores"])


def test_a_model_crosses_versions():
    """In every job, some model above was made under another scikit-learn than the installed one,
    and some scores were recorded under other runtime versions (or the newest are installed)."""
    installed = installed_version("scikit-learn")
    trained = {json.loads((p / "metadata.json").read_text(encoding="utf-8"))["versions"]["scikit-learn"]
               for p in (mv.TINY_MODEL, bundled_model_path("fast"))}
    assert trained - {installed}, f"every model was trained under the installed scikit-learn {installed}"
    recorded = _recorded(mv.BUNDLED)["versions"]
    assert recorded["scikit-learn"] != "1.6.0" and recorded["onnxruntime"] != "1.30.0", \
        "the bundled scores must be recorded under the newest versions, not the oldest"
