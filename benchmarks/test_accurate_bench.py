"""The accurate model (linear model + int8 encoder): throughput beside the fast model,
cold start and peak memory in a fresh interpreter.

Rates are gold sentences (non-empty lines of the dev articles) per second of the
median round, as in test_detect_bench.py; the two models are alternated round by
round so that load from other processes hits both alike.
"""

from __future__ import annotations

import time

import pytest

from propdetect import Detector

from .test_detect_bench import _median
from .test_startup_bench import _run_child

ROUNDS = 3


@pytest.fixture(scope="module")
def accurate() -> Detector:
    return Detector.load("accurate")


@pytest.mark.benchmark(group="accurate")
def test_accurate_detect(benchmark, corpus, accurate, record) -> None:
    """``Detector.load("accurate").detect`` end to end on whole articles, one process."""
    texts = corpus.texts
    accurate.detect(texts[0])  # the onnxruntime session starts on first use
    result = benchmark.pedantic(lambda: [accurate.detect(t) for t in texts], rounds=ROUNDS, iterations=1)
    record(what="accurate model: Detector.detect, whole articles, one process",
           detected_sentences=sum(len(a.sentences) for a in result))
    assert len(result) == len(texts)


@pytest.mark.benchmark(group="accurate")
def test_accurate_vs_fast_interleaved(benchmark, corpus, accurate, record) -> None:
    """The two bundled models alternated round by round: the accurate model's cost."""
    fast = Detector.load("fast")
    texts = corpus.texts
    acc_t: list[float] = []
    fast_t: list[float] = []
    accurate.detect(texts[0])

    def pair() -> None:
        t0 = time.perf_counter()
        for t in texts:
            accurate.detect(t)
        t1 = time.perf_counter()
        for t in texts:
            fast.detect(t)
        acc_t.append(t1 - t0)
        fast_t.append(time.perf_counter() - t1)

    benchmark.pedantic(pair, rounds=ROUNDS, iterations=1)
    a, f = _median(acc_t), _median(fast_t)
    record(what="accurate vs fast detect, alternated", accurate_median_s=a, fast_median_s=f,
           accurate_sentences_per_s=corpus.n_sentences / a, fast_sentences_per_s=corpus.n_sentences / f,
           fast_over_accurate=a / f)


@pytest.mark.benchmark(group="accurate")
def test_accurate_cold_start(benchmark, texts_file, record) -> None:
    """Fresh process: import + ``Detector.load("accurate")`` + first detect."""
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_run_child("cold", texts_file, "accurate")),
                       rounds=5, iterations=1, warmup_rounds=1)
    runs = runs[1:]
    med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
    record(what="accurate model, fresh process: import + load + first detect",
           cold_median_s=med["total_s"], import_load_median_s=med["import_s"] + med["load_s"],
           cold_parts_median_s=med)


@pytest.mark.benchmark(group="accurate")
def test_accurate_peak_rss(benchmark, texts_file, record) -> None:
    """Fresh process: peak resident memory of the accurate model over the corpus."""
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_run_child("rss", texts_file, "accurate")), rounds=2, iterations=1)
    record(what="accurate model, fresh process: peak RSS (VmHWM) of detect over the corpus",
           peak_rss_mb=max(r["peak_mb"] for r in runs), rss_after_load_mb=max(r["after_load_mb"] for r in runs))
