"""Training time on the whole training corpus with the bundled model's config (minutes)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[1] / "training" / "configs" / "ptc2020.json"


@pytest.mark.slow
@pytest.mark.benchmark(group="training")
def test_train(benchmark, corpus, record) -> None:
    """``fit_detector`` on all of PTC-2020 train with ``training/configs/ptc2020.json``, once."""
    from propdetect._config import TrainingConfig
    from propdetect._train import fit_detector

    config = TrainingConfig.from_dict(json.loads(CONFIG.read_text(encoding="utf-8")))
    docs = corpus.train_docs
    record(what="fit_detector, bundled config", train_corpus=corpus.train_name,
           train_documents=len(docs), train_sentences=sum(len(d.spans) for d in docs),
           config=config.to_dict())
    c0 = time.process_time()
    det = benchmark.pedantic(lambda: fit_detector(docs, config, name="bench"), rounds=1, iterations=1)
    # CPU time: what the wall time would be on an idle machine (training is single-threaded).
    record(cpu_s=time.process_time() - c0)
    assert len(det.techniques) > 0
