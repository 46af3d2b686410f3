"""The accurate model (issue 20): one Detector over two scorers, its folder, its evidence.

Runtime tests use the tiny accurate model of the ``tiny_accurate`` fixture (the tiny
linear model + tests/data/tiny_encoder), so they need neither torch nor the corpora;
the bundled accurate model is checked where it matters (names, loading, records).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import propdetect
from propdetect import Detector, ModelFormatError
from propdetect._accurate import token_evidence
from propdetect._detector import BUNDLED_MODELS, DEFAULT_MODEL, bundled_model_path
from propdetect._encoder import TokenScores
from propdetect.cli import main

TEXT = ("These traitors and thugs are destroying our great nation! The council meets on Tuesday.\n"
        "Can we really trust what these so-called experts claim? Our proud nation and our flag will never bow.")


def test_bundled_models_by_name():
    fast = Detector.load("fast")
    assert fast is Detector.load("ptc2020") and fast.kind == "linear"
    acc = Detector.load("accurate")
    assert acc.kind == "accurate" and acc.metadata["name"] == "accurate"
    assert acc.techniques == fast.techniques
    assert Detector.load() is Detector.load(DEFAULT_MODEL)
    # the accurate model names the bundled linear model by reference and checks its digest
    meta = json.loads((bundled_model_path("accurate") / "metadata.json").read_text())
    assert meta["linear"]["bundled"] == "ptc2020" and meta["linear"]["weights_sha256"].startswith("sha256:")
    assert not (bundled_model_path("accurate") / "linear").exists()
    with pytest.raises(ValueError, match="no bundled model"):
        bundled_model_path("huge")
    assert set(BUNDLED_MODELS) == {"fast", "ptc2020", "accurate"}


def test_accurate_detect_offsets_scores_and_phrase_evidence(tiny_accurate):
    a = tiny_accurate.detect(TEXT)
    assert a.sentences and all(TEXT[s.start:s.end] == s.text for s in a.sentences)
    for s in a.sentences:
        assert set(s.scores) == set(tiny_accurate.techniques)
        assert all(0.0 <= v <= 1.0 for v in s.scores.values())
        assert set(s.evidence) == set(s.techniques)
        for spans in s.evidence.values():
            assert 1 <= len(spans) <= 3
            for x, y in spans:
                assert s.start <= x < y <= s.end
                piece = TEXT[x:y]
                # phrases of whole words: never starting or ending with punctuation or space
                assert piece[0].isalnum() and piece[-1].isalnum(), piece
    assert any(s.techniques for s in a.sentences)


def test_accurate_scores_combine_both_halves(tiny_accurate, tiny_detector):
    """The accurate model's scores are its rule applied to the two scorers' outputs."""
    sents = [s.text for s in tiny_detector.detect(TEXT).sentences]
    p_lin = tiny_detector.predict_proba_doc(sents)
    comb = tiny_accurate._encoder.combination
    p_enc, _ = tiny_accurate._encoder.scorer.score(sents)
    want, _ = comb.combine(p_lin, None if tiny_detector.propaganda_threshold is None else
                           tiny_detector._heads.proba(*tiny_detector._featurizer.transform_doc(sents, None, 0))[1],
                           p_enc)
    np.testing.assert_allclose(tiny_accurate.predict_proba_doc(sents), want, rtol=1e-12)
    w = comb.linear_weight[1:]
    if ((0.0 < w) & (w < 1.0)).any():
        assert not np.allclose(want, p_lin)


def test_accurate_save_load_round_trip_and_thresholds(tiny_accurate, tmp_path):
    folder = tiny_accurate.save(tmp_path / "acc")
    assert sorted(p.name for p in folder.iterdir()) == ["encoder.onnx", "linear", "metadata.json",
                                                         "tokenizer.json"]
    again = Detector.load(folder)
    assert again.kind == "accurate" and again.detect(TEXT) == tiny_accurate.detect(TEXT)
    strict = tiny_accurate.with_thresholds(1.0)
    assert strict.kind == "accurate"
    assert not any(s.techniques for s in strict.detect(TEXT).sentences)
    loose = tiny_accurate.with_thresholds({"propaganda": 0.0, "loaded_language": 0.0})
    assert all("loaded_language" in s.techniques for s in loose.detect(TEXT).sentences)
    # thresholds survive a save
    loose.save(tmp_path / "loose")
    assert Detector.load(tmp_path / "loose").thresholds["loaded_language"] == 0.0
    assert Detector.load(tmp_path / "loose").propaganda_threshold == 0.0


def test_accurate_folder_is_checked(tiny_accurate, tmp_path):
    folder = tiny_accurate.save(tmp_path / "acc")
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    data = bytearray((bad / "encoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "encoder.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="SHA-256"):
        Detector.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(folder, bad)
    (bad / "model.pkl").write_bytes(b"\x80\x04" + b"x" * 20)
    with pytest.raises(ModelFormatError, match="pickle"):
        Detector.load(bad)
    (bad / "model.pkl").unlink()
    (bad / "notes.txt").write_text("hi")
    with pytest.raises(ModelFormatError, match="unexpected"):
        Detector.load(bad)
    (bad / "notes.txt").unlink()
    # the linear half must be the one it was built with
    w = bad / "linear" / "weights.npz"
    with np.load(w) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["thresholds"] = arrays["thresholds"] * 0.5
    np.savez_compressed(w, **arrays)
    with pytest.raises(ModelFormatError, match="not the one this accurate model"):
        Detector.load(bad)


def test_accurate_through_workers_matches_detect(tiny_accurate, force_workers):
    texts = [TEXT, "", "Plain words here. More plain words.", TEXT * 3]
    expected = [tiny_accurate.detect(t) for t in texts]
    got = tiny_accurate.detect_many(texts, n_jobs=2, batch_size=1)
    assert got == expected
    assert list(tiny_accurate.iter_detect(iter(texts), n_jobs=2, batch_size=2)) == expected


def test_accurate_codec_round_trip(tiny_accurate):
    from propdetect._detector import _decode_model, _encode_model

    other = _decode_model(_encode_model(tiny_accurate))
    assert other.kind == "accurate" and other.detect(TEXT) == tiny_accurate.detect(TEXT)


def test_long_document_scored_in_blocks_matches(tiny_accurate, monkeypatch):
    from propdetect import _detector

    text = " ".join(f"Sentence {i} says these traitors lie." for i in range(40))
    whole = tiny_accurate.detect(text)
    monkeypatch.setattr(_detector, "_CHUNK", 7)
    assert tiny_accurate.detect(text) == whole


def test_cli_analyze_names_the_model(tiny_accurate, tmp_path, capsys):
    folder = tiny_accurate.save(tmp_path / "acc")
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT, encoding="utf-8")
    assert main(["analyze", str(doc), "--model", str(folder), "--format", "jsonl", "--no-progress"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["model"] == "tiny-accurate" and rec["model_digest"].startswith("sha256:")
    assert main(["analyze", str(doc), "--model", "accurate", "--format", "jsonl", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "accurate"
    assert main(["analyze", str(doc), "--model", "fast", "--format", "jsonl", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ptc2020"


def test_version_names_both_models(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    assert out.startswith(f"propdetect {propdetect.__version__} (models: fast ptc2020-")
    assert ", accurate accurate-" in out and f"default {DEFAULT_MODEL})" in out


def test_token_evidence_prefers_the_strongest_phrases():
    offs = np.array([[0, 3], [4, 9], [10, 14], [15, 19], [19, 20], [21, 26]])
    probs = np.zeros((6, 2), dtype=np.float32)
    probs[:, 1] = [0.9, 0.1, 0.6, 0.7, 0.8, 0.95]
    t = TokenScores(offs, probs)
    text = "Bad words vile evil! crook"
    assert token_evidence(t, 1, 0.5, 3, text) == [(0, 3), (10, 19), (21, 26)]
    assert token_evidence(t, 1, 0.5, 2, text) == [(0, 3), (21, 26)]
    assert token_evidence(t, 1, 0.5, 0, text) == []


def test_accurate_html_report_and_frame(tiny_accurate):
    pytest.importorskip("pandas")
    a = tiny_accurate.detect(TEXT)
    page = propdetect.render_html(a, TEXT, "accurate")
    assert page.startswith("<!doctype html>")
    flagged = [s for s in a.sentences if s.techniques]
    # the evidence phrases are marked in the page
    phrases = {TEXT[x:y] for s in flagged for spans in s.evidence.values() for x, y in spans}
    assert flagged and phrases and all(p in page for p in phrases)
    frame = propdetect.to_frame([a])
    assert len(frame) == len(a.sentences)


def test_accurate_estimator_uses_its_rule(tiny_accurate):
    from propdetect import SentenceClassifier

    clf = SentenceClassifier.from_detector(tiny_accurate)
    sents = [s.text for s in tiny_accurate.detect(TEXT).sentences]
    pred = clf.predict(sents)
    want = [[t in s.techniques for t in clf.classes_] for s in
            (tiny_accurate.detect(x).sentences[0] for x in sents)]
    assert pred.astype(bool).tolist() == want


def test_estimator_pickle_keeps_the_accurate_model(tiny_accurate):
    import pickle

    from propdetect import SentenceClassifier

    clf = SentenceClassifier.from_detector(tiny_accurate)
    again = pickle.loads(pickle.dumps(clf))
    assert again.detector_.kind == "accurate"
    assert again.detector_._encoder.scorer.threads is None  # all cores in the calling process
    sents = ["These traitors lie.", "The museum opens at nine."]
    np.testing.assert_array_equal(again.predict_proba(sents), clf.predict_proba(sents))


def test_the_bundled_models_share_the_linear_weights():
    """The accurate model's linear half is the bundled fast model: read once per process."""
    fast, accurate = propdetect.Detector.load("fast"), propdetect.Detector.load("accurate")
    assert set(fast._arrays) == set(accurate._arrays)
    assert all(fast._arrays[k] is accurate._arrays[k] for k in fast._arrays)
    assert propdetect.Detector.load("ptc2020") is fast
