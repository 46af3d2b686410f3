"""propdetect.train(): inputs, determinism, save/load, techniques without examples."""

from __future__ import annotations

import numpy as np
import pytest

import propdetect
from propdetect._corpus import DataError
from tests.conftest import _DOCS, TINY_CONFIG

# Four sentences, like every tiny training document: the document-length feature is
# constant in that data, and scores of documents of another length are not what
# these tests are about.
PROBES = [
    "These evil traitors and thugs are destroying our nation!",
    "The council meets on Tuesday.",
    "Can we really trust these so-called experts?",
    "Our proud nation and our flag will never bow.",
]


def _rows() -> list[dict]:
    return [{"doc_id": f"d{i}", "text": s, "techniques": sorted(labels)}
            for i, doc in enumerate(_DOCS) for s, labels in doc]


@pytest.fixture(scope="module")
def trained():
    messages: list[str] = []
    det = propdetect.train(_rows(), TINY_CONFIG, progress=messages.append)
    return det, messages


def _scores(det) -> np.ndarray:
    return det.predict_proba_doc(PROBES)


def test_train_returns_a_detector_that_finds_clear_cases(trained):
    det, _ = trained
    assert isinstance(det, propdetect.Detector)
    a = det.detect("\n".join(PROBES))
    assert "doubt" in a.sentences[2].techniques
    assert "flag_waving" in a.sentences[3].techniques
    assert a.sentences[1].techniques == ()
    assert det.metadata["training_data"]["documents"] == len(_DOCS)  # grouped by doc_id


def test_same_data_config_and_seed_give_identical_predictions(trained):
    again = propdetect.train(_rows(), TINY_CONFIG.to_dict())  # config as a dict works too
    np.testing.assert_array_equal(_scores(trained[0]), _scores(again))
    assert trained[0].thresholds == again.thresholds


def test_saved_model_loads_with_the_same_predictions(trained, tmp_path):
    det, _ = trained
    det.save(tmp_path / "m")
    loaded = propdetect.Detector.load(tmp_path / "m")
    np.testing.assert_allclose(_scores(loaded), _scores(det), rtol=0, atol=1e-6)
    assert loaded.metadata["training_data"]["digest"] == det.metadata["training_data"]["digest"]


def test_technique_without_positive_example_is_reported_and_left_out(trained):
    det, messages = trained
    assert "repetition" not in det.techniques and "doubt" in det.techniques
    assert "repetition" in det.metadata["left_out_techniques"]
    assert any("repetition has no positive example: left out" in m for m in messages)
    assert set(det.detect("Repeat repeat repeat.").sentences[0].scores) == set(det.techniques)


def test_train_from_a_hugging_face_dataset_matches_dicts(trained):
    datasets = pytest.importorskip("datasets")
    det = propdetect.train(datasets.Dataset.from_list(_rows()), TINY_CONFIG)
    np.testing.assert_array_equal(_scores(det), _scores(trained[0]))


def test_train_refuses_unusable_input():
    with pytest.raises(ValueError, match="unknown training option"):
        propdetect.train(_rows(), {"cv_fold": 3})
    with pytest.raises(DataError, match="examples: item 2: unknown technique label 'Telepathy'"):
        propdetect.train([{"text": "a", "techniques": []}, {"text": "b", "techniques": ["Telepathy"]}])
    with pytest.raises(ValueError, match="no technique has a positive example"):
        propdetect.train([{"text": "a", "techniques": []}, {"text": "b", "techniques": []}])


def test_parallel_training_gives_the_same_model(tiny_docs):
    from propdetect._train import fit_detector

    one = fit_detector(tiny_docs, TINY_CONFIG, n_jobs=1)
    two = fit_detector(tiny_docs, TINY_CONFIG, n_jobs=2)
    for key in ("coef", "intercept", "calib_a", "calib_b", "thresholds"):
        np.testing.assert_array_equal(one._arrays[key], two._arrays[key])


def test_char_ngram_model_round_trips_and_scores_the_same(tiny_docs, tmp_path):
    from dataclasses import replace

    from propdetect._train import fit_detector

    det = fit_detector(tiny_docs, replace(TINY_CONFIG, char_ngrams=(3, 5), char_min_df=1))
    assert any(t.startswith("#") for t in det._featurizer.terms())
    again = propdetect.Detector.load(det.save(tmp_path / "m"))
    text = "Disgusting corrupt traitors and thugs!\nThe library opens at nine."
    assert again.detect(text).to_dict() == det.detect(text).to_dict()


def test_vector_variant_is_searched_near_the_cheap_variants_best_C():
    from propdetect._train import _searched

    grid = [0.5, 2.0, 8.0]
    wide, narrow = np.arange(161), np.arange(11)

    def steps(f1_of_cheap):
        tried = {}
        gen = _searched([wide, narrow], grid, tried)
        out = [next(gen)]
        tried.update({(1, C): (f, None) for C, f in zip(grid, f1_of_cheap)})
        out += list(gen)
        return out

    # the cheap (narrow) variant over the whole grid first, then the wide one at its
    # best C and the next larger one; at the top of the grid, the next smaller one
    assert steps([0.3, 0.4, 0.35]) == [(1, grid), (0, [2.0, 8.0])]
    assert steps([0.5, 0.4, 0.35]) == [(1, grid), (0, [0.5, 2.0])]
    assert steps([0.1, 0.2, 0.35]) == [(1, grid), (0, [2.0, 8.0])]
    assert steps([0.3, 0.3, 0.3]) == [(1, grid), (0, [0.5, 2.0])]  # ties: the first C
    # one variant (no word vectors, or the "any technique" head): the whole grid
    assert list(_searched([wide], grid, {})) == [(0, grid)]
    assert list(_searched([wide], [1.0], {})) == [(0, [1.0])]


def test_search_keeps_the_first_best_pair_in_variant_then_C_order(monkeypatch):
    """_fit_technique's choice among the pairs it tried: the best F1, the first on ties
    in (variant, C) order, as trying every pair would choose when the best is tried."""
    from propdetect import _train
    from propdetect._config import TrainingConfig
    from propdetect._solver import Design
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(0)
    n = 60
    y = (rng.random(n) < 0.4).astype(int)
    Xs = csr_matrix(rng.random((n, 8)) * (rng.random((n, 8)) < 0.5))
    design = Design.of(Xs, rng.normal(size=(n, 4)) + y[:, None])
    folds = np.arange(n) % 3
    f1 = {(1, 0.5): 0.50, (1, 2.0): 0.60, (1, 8.0): 0.55, (0, 2.0): 0.60, (0, 8.0): 0.70}
    calls = []

    def fake_best_threshold(z, yy):
        key = order[len(calls)]
        calls.append(key)
        return 0.5, f1[key]

    order = [(1, 0.5), (1, 2.0), (1, 8.0), (0, 2.0), (0, 8.0)]
    monkeypatch.setattr(_train, "best_threshold", lambda z, yy: fake_best_threshold(z, yy) if len(calls) < 5
                        else (0.5, 0.0))
    cfg = TrainingConfig(C_grid=[0.5, 2.0, 8.0])
    r = _train._fit_technique(design, [np.arange(4), np.arange(2)], y, folds, 3, cfg)
    assert calls == order  # 5 pairs tried, not 6
    assert (r["variant"], r["C"]) == (0, 8.0)
    f1[0, 8.0] = 0.60  # a tie with (1, 2.0) and (0, 2.0): variant 0 comes first, then C=2
    calls.clear()
    r = _train._fit_technique(design, [np.arange(4), np.arange(2)], y, folds, 3, cfg)
    assert (r["variant"], r["C"]) == (0, 2.0)
