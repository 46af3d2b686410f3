"""Training time on the whole training corpus with the bundled model's config and both
cores, as ``training/build_bundled.py`` trains it (wall clock: the heads run in worker
processes, whose CPU time this process does not see)."""

from __future__ import annotations

import json
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
    det = benchmark.pedantic(lambda: fit_detector(docs, config, name="bench", n_jobs=2),
                             rounds=1, iterations=1)
    assert len(det.techniques) > 0
