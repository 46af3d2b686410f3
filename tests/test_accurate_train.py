"""Training the accurate model (issue 20): the encoder's training code on a tiny encoder,
so that it cannot rot, and `propdetect train --accurate` end to end.

Needs torch, transformers and onnx (the ``train`` extra; .ci/run installs them where it
can); skips with the reason otherwise. The tests that need no torch run everywhere.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from propdetect import Detector
from propdetect.cli import main
from tests.conftest import TINY_CONFIG

TEXT = "These traitors and thugs are destroying our great nation! The museum opens at nine."


def _need_training_extra():
    for mod in ("torch", "transformers", "onnx"):
        pytest.importorskip(mod, reason=f"{mod} not installed: pip install 'propdetect[train]'")


@pytest.fixture(scope="module")
def tiny_base(tiny_docs, tmp_path_factory):
    _need_training_extra()
    from propdetect._encoder_train import make_tiny_base

    return make_tiny_base(tmp_path_factory.mktemp("base"), [d.text for d in tiny_docs] * 3, vocab_size=200)


def test_fit_encoder_trains_both_heads_and_exports_int8(tiny_docs, tiny_base, tmp_path):
    from propdetect._encoder import EncoderScorer
    from propdetect._encoder_train import EncoderConfig, fit_encoder

    cfg = EncoderConfig(max_steps=3, batch_size=8, threads=1, context=True)
    meta = fit_encoder(tiny_docs, tiny_base, tmp_path / "enc", cfg, work=tmp_path / "work")
    assert meta["steps"] == 3 and meta["runtime"]["context"] is True
    assert (tmp_path / "work" / "encoder.fp32.onnx").stat().st_size > (tmp_path / "enc" / "encoder.onnx").stat().st_size
    scorer = EncoderScorer.from_folder(tmp_path / "enc", meta["runtime"])
    p, toks = scorer.score(["These traitors lie.", "Rain."], ["", "These traitors lie."])
    assert p.shape == (2, 15) and ((0 <= p) & (p <= 1)).all()
    # token scores only for the sentence's own words, offsets into it
    assert toks[0].offsets.tolist()[0] == [0, 5] and toks[0].probs.shape[1] == 15
    # seeded: the same recipe gives the same network
    meta2 = fit_encoder(tiny_docs, tiny_base, tmp_path / "enc2", cfg)
    p2, _ = EncoderScorer.from_folder(tmp_path / "enc2", meta2["runtime"]).score(["These traitors lie.", "Rain."],
                                                                                ["", "These traitors lie."])
    np.testing.assert_allclose(p, p2, atol=1e-6)


def test_fit_accurate_end_to_end_and_reuses_the_work_folder(tiny_docs, tiny_base, tmp_path):
    from propdetect._accurate_train import fit_accurate
    from propdetect._encoder_train import EncoderConfig

    cfg = EncoderConfig(max_steps=2, batch_size=8, threads=1)
    lines: list[str] = []
    det = fit_accurate(tiny_docs, tiny_base, linear_config=TINY_CONFIG, encoder_config=cfg, work=tmp_path / "w",
                       name="tiny-acc", progress=lines.append)
    assert det.kind == "accurate" and any("encoder step 2/2" in m for m in lines)
    folder = det.save(tmp_path / "model")
    assert Detector.load(folder).detect(TEXT) == det.detect(TEXT)
    # a second run with the same data and recipe reuses the encoder in the work folder
    lines.clear()
    again = fit_accurate(tiny_docs, tiny_base, linear_config=TINY_CONFIG, encoder_config=cfg, work=tmp_path / "w",
                         name="tiny-acc", progress=lines.append)
    assert not any("encoder step" in m for m in lines) and any("reusing the encoder" in m for m in lines)
    assert again.detect(TEXT) == det.detect(TEXT)


def test_cli_train_accurate(tiny_docs, tiny_base, tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for d in tiny_docs:
            for (a, b), labs in zip(d.spans, d.labels):
                fh.write(json.dumps({"doc_id": d.id, "text": d.text[a:b], "techniques": sorted(labs)}) + "\n")
    out = tmp_path / "model"
    rc = main(["train", "--accurate", "--jsonl", str(data), "--out", str(out), "--base-encoder", str(tiny_base),
               "--config", json.dumps({"min_df": 1, "cv_folds": 3, "C_grid": [4.0]}),
               "--encoder-config", '{"max_steps": 2, "batch_size": 8, "threads": 1}', "--name", "mine"])
    assert rc == 0, capsys.readouterr().err
    det = Detector.load(out)
    assert det.kind == "accurate" and det.metadata["name"] == "mine"
    assert (out / "linear" / "weights.npz").is_file()
    # --force replaces an accurate model folder; without it the folder is refused
    assert main(["train", "--accurate", "--jsonl", str(data), "--out", str(out), "--base-encoder",
                 str(tiny_base)]) == 2
    assert "holds a model already" in capsys.readouterr().err


def test_cli_train_accurate_without_the_extra_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "These traitors lie.", "techniques": ["name calling"]}\n', encoding="utf-8")
    assert main(["train", "--accurate", "--jsonl", str(data), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'propdetect[train]'" in err and "torch" in err


def test_encoder_options_need_accurate(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "These traitors lie.", "techniques": ["name calling"]}\n', encoding="utf-8")
    assert main(["train", "--jsonl", str(data), "--out", str(tmp_path / "m"), "--work", str(tmp_path)]) == 2
    assert "go with --accurate" in capsys.readouterr().err
