"""Model v2 parts: word vectors, the "any technique" head and decision rule, span cues,
the token model that picks evidence, threshold control, and the format they are saved in."""

from __future__ import annotations

import numpy as np
import pytest

import propdetect
from propdetect._config import TrainingConfig
from propdetect._corpus import LabelledDocument
from propdetect._cues import fit_cue_table
from propdetect._heads import decide
from propdetect._persist import ModelFormatError
from propdetect._vectors import BUNDLED_VECTORS, WordVectors, bundled_vectors
from tests.conftest import _DOCS, TINY_CONFIG

SEED = "seeds/kursk-region.txt"


@pytest.fixture(scope="module")
def seed_text():
    from tests.conftest import ROOT

    return (ROOT / SEED).read_text(encoding="utf-8")


# -- word vectors --------------------------------------------------------------------

def test_pooling_is_mean_max_and_frequency_weighted_mean():
    wv = WordVectors(["the", "evil", "regime"], np.array([[1.0, 1.0], [4.0, 0.0], [0.0, 2.0]]))
    out = wv.pool([["the", "evil", "regime", "zzz"]])[0]
    np.testing.assert_allclose(out[:2], [5 / 3, 1.0])          # mean of the known words
    np.testing.assert_allclose(out[2:4], [4.0, 2.0])           # element-wise max
    w = np.array([1, 2, 3]) / (np.array([1, 2, 3]) + 100.0)    # SIF weights by rank
    np.testing.assert_allclose(out[4:], (w[:, None] * wv.matrix).sum(0) / w.sum(), rtol=1e-6)
    assert wv.pool([["zzz"], []]).tolist() == [[0.0] * 6, [0.0] * 6]


def test_vectors_round_trip_as_plain_arrays(tmp_path):
    wv = WordVectors(["évil", "régime"], np.array([[0.5, -1.0], [2.0, 0.25]]), name="x")
    arrays = wv.to_arrays()
    assert arrays["wv_words"].dtype == np.uint8 and arrays["wv_vectors"].dtype == np.float16
    back = WordVectors.from_arrays(arrays)
    assert back.words == ["évil", "régime"]
    np.testing.assert_allclose(back.matrix, wv.matrix)
    again = WordVectors.load(wv.save(tmp_path / "v.npz"))
    assert again.words == wv.words
    with pytest.raises(ValueError, match="missing"):
        WordVectors.from_arrays({"wv_words": arrays["wv_words"]})


def test_shipped_vectors_cover_words_no_training_sentence_had():
    wv = bundled_vectors()
    assert wv.name == BUNDLED_VECTORS and len(wv) == 50_000 and wv.dim == 50
    for w in ("fascism", "nazism", "tyranny", "patriots"):
        assert w in wv.index
    # neighbours in the vector space are neighbours in meaning
    m = wv.matrix / np.linalg.norm(wv.matrix, axis=1, keepdims=True)
    sim = m @ m[wv.index["fascism"]]
    assert sim[wv.index["nazism"]] > sim[wv.index["rainfall"]] + 0.3


# -- decision rule -------------------------------------------------------------------

def test_flag_follows_the_propaganda_probability_and_always_names_a_technique():
    p = np.array([[0.05, 0.02], [0.9, 0.1], [0.3, 0.5]])
    thr = np.array([0.5, 0.6])
    out = decide(p, thr, np.array([0.7, 0.2, 0.9]), 0.5)
    # flagged with nothing above threshold: the most likely relative to its threshold
    assert out[0].tolist() == [True, False]
    assert not out[1].any()                       # not flagged: nothing, whatever its scores
    assert out[2].tolist() == [False, True]


def test_bundled_sentences_flag_exactly_when_the_propaganda_score_reaches_its_threshold(seed_text):
    det = propdetect.Detector.load()
    assert det.propaganda_threshold is not None
    for s in det.detect(seed_text).sentences:
        assert s.propaganda_score is not None and 0.0 <= s.propaganda_score <= 1.0
        assert bool(s.techniques) == (s.propaganda_score >= det.propaganda_threshold)
        assert s.to_dict()["propaganda_score"] == s.propaganda_score


# -- thresholds you can set ----------------------------------------------------------

def test_thresholds_are_read_only_and_with_thresholds_makes_a_new_detector(seed_text):
    det = propdetect.Detector.load()
    with pytest.raises(AttributeError):
        det.thresholds = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        det.thresholds["doubt"] = 0.9  # type: ignore[index]
    loose = det.with_thresholds(0.0)
    strict = det.with_thresholds(1.0)
    assert all(s.techniques for s in loose.detect(seed_text).sentences)
    assert not any(s.techniques for s in strict.detect(seed_text).sentences)
    assert det.detect(seed_text) == propdetect.detect(seed_text)  # the original is unchanged
    one = det.with_thresholds({"appeal to threat": 0.77})
    assert one.thresholds["appeal_to_fear_prejudice"] == 0.77
    assert one.thresholds["doubt"] == det.thresholds["doubt"]


@pytest.mark.parametrize("bad, match", [
    (1.5, "probability"), ({"doubt": -0.1}, "probability"), ({"doubt": "high"}, "probability"),
    ({"no such technique": 0.5}, "no such technique"),
])
def test_bad_thresholds_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        propdetect.Detector.load().with_thresholds(bad)


def test_changed_thresholds_survive_save_and_load(tmp_path):
    det = propdetect.Detector.load().with_thresholds({"doubt": 0.42, "propaganda": 0.33})
    back = propdetect.Detector.load(det.save(tmp_path / "m"))
    assert back.thresholds["doubt"] == pytest.approx(0.42)
    assert back.propaganda_threshold == pytest.approx(0.33)


# -- span-supervised parts, on a tiny span-annotated corpus -------------------------

def _span_docs() -> list[LabelledDocument]:
    """The tiny fixture with gold spans on the words that carry each technique."""
    marked = {"traitors", "thugs", "criminals", "liars", "monsters", "evil", "vicious",
              "corrupt", "disgusting", "shocking", "horrific", "so-called", "flag",
              "patriots", "nation", "really"}
    docs = []
    for i, doc in enumerate(_DOCS):
        text = "\n".join(s for s, _ in doc) + "\n"
        spans, gold, pos = [], [], 0
        for s, labels in doc:
            spans.append((pos, pos + len(s)))
            for m in __import__("re").finditer(r"[\w-]+", s):
                if m.group().lower() in marked:
                    for t in sorted(labels):
                        gold.append((t, pos + m.start(), pos + m.end()))
            pos += len(s) + 1
        docs.append(LabelledDocument(f"doc{i}", text, tuple(spans),
                                     tuple(frozenset(l) for _, l in doc), tuple(gold)))
    return docs


@pytest.fixture(scope="module")
def span_detector():
    from propdetect._train import fit_detector

    from dataclasses import replace

    return fit_detector(_span_docs(), replace(TINY_CONFIG, cues=True), name="tiny-spans")


def test_cue_table_lifts_words_marked_inside_spans():
    docs = _span_docs()
    wv = bundled_vectors()
    table = fit_cue_table(docs, ["name_calling_labeling", "flag_waving"], wv, min_docs=2)
    lift = table.lift
    assert lift[wv.index["thugs"], 0] > 0.5          # marked in several documents
    assert lift[wv.index["museum"], 0] < 0           # never marked
    assert lift[wv.index["flag"], 1] > lift[wv.index["flag"], 0]
    f = table.features([["thugs", "museum"], ["museum"]])
    assert f.shape == (2, 4) and f[0, 0] > f[1, 0]
    strict = fit_cue_table(docs, ["name_calling_labeling"], wv, min_docs=99)
    assert strict.lift[wv.index["thugs"], 0] < 0.1   # no word has that many documents


def test_span_trained_model_has_token_model_cues_and_any_head(span_detector):
    meta = span_detector.metadata
    assert meta["heads"] == {"any_technique": True, "token_model": True, "evidence": "token model"}
    assert meta["word_vectors"]["name"] == BUNDLED_VECTORS
    assert "PDDL" in meta["word_vectors"]["licence"]
    assert {"tok_word", "cue_lift", "any_coef", "wv_vectors"} <= set(span_detector._arrays)
    assert meta["decision"]["shrinkage"] in TINY_CONFIG.threshold_shrinkage
    assert propdetect.Detector.load().metadata["config"]["cues"] is False  # measured, not kept


def test_token_model_evidence_names_the_marked_words(span_detector):
    text = "Vicious thugs and corrupt liars rule the town hall."
    s = span_detector.detect(text).sentences[0]
    assert s.techniques
    words = " ".join(text[a:b].lower() for spans in s.evidence.values() for a, b in spans)
    assert any(w in words for w in ("vicious", "thugs", "corrupt", "liars")), words
    assert "town" not in words and "hall" not in words


def test_span_trained_model_round_trips(span_detector, tmp_path):
    back = propdetect.Detector.load(span_detector.save(tmp_path / "m"))
    text = "Vicious thugs and corrupt liars rule the town hall.\nThe museum opens at nine."
    assert back.detect(text) == span_detector.detect(text)


def test_model_without_vectors_keeps_the_01_decisions_and_evidence(tiny_docs):
    from dataclasses import replace

    from propdetect._train import fit_detector

    det = fit_detector(tiny_docs, replace(TINY_CONFIG, vectors=None, binary_head=False))
    assert det.propaganda_threshold is None
    a = det.detect("Vicious traitors and liars spread their evil lies.")
    assert a.sentences[0].propaganda_score is None
    assert a.sentences[0].techniques and all(a.sentences[0].evidence.values())


def test_tampered_vector_arrays_are_refused(span_detector, tmp_path):
    import zipfile

    folder = span_detector.save(tmp_path / "m")
    with np.load(folder / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["wv_vectors"] = arrays["wv_vectors"][:-1]
    np.savez(folder / "weights.npz", **arrays)
    assert zipfile.is_zipfile(folder / "weights.npz")
    with pytest.raises(ModelFormatError, match="words but"):
        propdetect.Detector.load(folder)


def test_default_training_config_is_the_bundled_recipe():
    import json

    from tests.conftest import ROOT

    shipped = json.loads((ROOT / "training" / "configs" / "ptc2020.json").read_text())
    assert TrainingConfig.from_dict(shipped) == TrainingConfig()
    assert propdetect.Detector.load().metadata["config"] == TrainingConfig().to_dict()
