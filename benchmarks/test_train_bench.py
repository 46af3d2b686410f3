"""Training time on the whole training corpus with the bundled model's config and both
cores, as ``training/build_bundled.py`` trains it: wall clock, and the CPU time of this
process and its worker processes (psutil) beside it."""

from __future__ import annotations

import json
import os
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
    # A fresh pool, as `propdetect train` or training/build_bundled.py in their own
    # process start (the detect benchmarks before this one leave workers up).
    from propdetect._pool import shutdown

    shutdown()
    cpu_before = _tree_cpu()
    det = benchmark.pedantic(lambda: fit_detector(docs, config, name="bench", n_jobs=2),
                             rounds=1, iterations=1)
    # This process and its worker processes (which outlive the call: loky reuses them).
    cpu_after = _tree_cpu()
    if cpu_before is not None and cpu_after is not None:
        record(cpu_s=cpu_after - cpu_before)
    record(load_average=list(os.getloadavg()))
    assert len(det.techniques) > 0


def _tree_cpu() -> float | None:
    """CPU seconds (user + system) of this process and its live children (None
    without psutil, which the ``test`` extra brings with Dask)."""
    try:
        import psutil
    except ImportError:
        return None

    total = 0.0
    for p in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total
