"""The public API contract of issue 2, on the bundled model and on a tiny fixture model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import propdetect
from propdetect import Analysis, Detector, Sentence

SEED = "seeds/kursk-region.txt"


@pytest.fixture(scope="module")
def seed_text():
    from tests.conftest import ROOT

    return (ROOT / SEED).read_text(encoding="utf-8")


def test_public_surface():
    for name in ("detect", "Detector", "TECHNIQUES", "technique", "Analysis", "Sentence", "__version__"):
        assert name in propdetect.__all__
        assert hasattr(propdetect, name)


def test_import_does_not_load_the_model_or_heavy_libraries():
    code = (
        "import sys, propdetect, propdetect._detector as d;"
        "print(json.dumps([bool(d._cache), 'sklearn' in sys.modules, 'scipy' in sys.modules, 'pysbd' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, False, False, False]


def test_detect_contract_on_seed(seed_text):
    analysis = propdetect.detect(seed_text)
    assert isinstance(analysis, Analysis)
    assert len(analysis.sentences) >= 20
    ids = set(propdetect.TECHNIQUE_IDS)
    prev_end = 0
    for s in analysis.sentences:
        assert isinstance(s, Sentence)
        assert seed_text[s.start : s.end] == s.text
        assert s.start >= prev_end
        prev_end = s.end
        assert set(s.scores) == ids
        assert all(0.0 <= v <= 1.0 for v in s.scores.values())
        assert set(s.techniques) <= ids
        # flagged by the propaganda probability; then every technique above its threshold
        # and at least the most likely one, most confident (relative to its threshold) first
        det = Detector.load()
        assert bool(s.techniques) == (s.propaganda_score >= det.propaganda_threshold)
        above = {t for t in ids if s.scores[t] >= det.thresholds[t]}
        if s.techniques:
            assert above <= set(s.techniques) and len(set(s.techniques) - above) <= 1
        rel = [s.scores[t] / det.thresholds[t] for t in s.techniques]
        assert rel == sorted(rel, reverse=True)
        assert set(s.evidence) <= set(s.techniques)
        for spans in s.evidence.values():
            for a, b in spans:
                assert s.start <= a < b <= s.end


def test_the_very_cruel_sentence_is_flagged(seed_text):
    analysis = propdetect.detect(seed_text)
    cruel = [s for s in analysis.sentences if "very cruel" in s.text]
    assert len(cruel) == 1 and cruel[0].techniques


def test_results_are_frozen_and_json_ready(seed_text):
    analysis = propdetect.detect(seed_text)
    s = analysis.sentences[0]
    with pytest.raises(AttributeError):
        s.start = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.scores["loaded_language"] = 1.0  # type: ignore[index]
    d = json.loads(json.dumps(analysis.to_dict()))
    assert Analysis.from_dict(d) == analysis
    assert d["sentences"][0]["start"] == s.start


def test_detector_load_is_cached_and_has_metadata():
    det = Detector.load()
    assert Detector.load() is det
    assert det.techniques == propdetect.TECHNIQUE_IDS
    meta = det.metadata
    for key in ("model_version", "versions", "techniques", "training_data", "config", "metrics"):
        assert key in meta
    assert meta["training_data"]["digest"].startswith("sha256:")
    assert "scikit-learn" in meta["versions"]


def test_detect_many_matches_detect(seed_text):
    det = Detector.load()
    texts = [seed_text, "", "Short one. Another one!", seed_text[:500]]
    many = det.detect_many(texts)
    assert [a.to_dict() for a in many] == [det.detect(t).to_dict() for t in texts]


def test_save_and_load_round_trip(tmp_path, tiny_detector):
    path = tiny_detector.save(tmp_path / "m")
    again = Detector.load(path)
    text = "Vicious corrupt traitors!\nThe meeting is on Monday."
    assert again.detect(text) == tiny_detector.detect(text)
    assert again.techniques == tiny_detector.techniques


def test_tiny_model_separates_clear_cases(tiny_detector):
    a = tiny_detector.detect("Disgusting corrupt traitors and thugs!\nThe library opens at nine in the morning.")
    loud, calm = a.sentences
    assert "loaded_language" in loud.techniques or "name_calling_labeling" in loud.techniques
    assert calm.techniques == ()


@pytest.mark.parametrize(
    "sentence",
    [
        "These traitors are nothing but a gang of bloodthirsty thugs and murderers!",
        "The corrupt, lying elites are destroying our great nation.",
    ],
)
def test_bundled_model_flags_unmistakable_propaganda(sentence):
    s = propdetect.detect(sentence).sentences[0]
    assert {"loaded_language", "name_calling_labeling"} & set(s.techniques), dict(s.scores)


@pytest.mark.parametrize(
    "sentence",
    [
        "The meeting of the city council will take place on Tuesday at 10 a.m.",
        "The report was published in March and has 40 pages.",
        "Rainfall in the region was slightly above the long-term average.",
    ],
)
def test_bundled_model_leaves_plain_news_alone(sentence):
    s = propdetect.detect(sentence).sentences[0]
    assert s.techniques == (), dict(s.scores)
    assert max(s.scores.values()) < 0.5


def test_empty_and_blank_text():
    assert propdetect.detect("").sentences == ()
    assert propdetect.detect(" \n\t\r\n ").sentences == ()


@pytest.mark.parametrize("bad", [None, b"bytes", 42, ["a list"]])
def test_non_text_is_a_type_error(bad):
    with pytest.raises(TypeError):
        propdetect.detect(bad)  # type: ignore[arg-type]


def test_evidence_is_never_function_words_alone(seed_text):
    from propdetect._tokens import STOPWORDS, tokenize

    spans = 0
    for s in propdetect.detect(seed_text).flagged:
        for tech, evs in s.evidence.items():
            assert evs, f"{tech} flagged in {s.text!r} without evidence"
            for a, b in evs:
                spans += 1
                assert any(t not in STOPWORDS for t in tokenize(seed_text[a:b])), seed_text[a:b]
    assert spans > 0


def test_evidence_points_at_the_loaded_words():
    text = "These traitors are nothing but a gang of bloodthirsty thugs and murderers!"
    s = propdetect.detect(text).sentences[0]
    evidence = " | ".join(text[a:b].lower() for spans in s.evidence.values() for a, b in spans)
    assert any(w in evidence for w in ("traitors", "bloodthirsty", "thugs", "murderers")), evidence
