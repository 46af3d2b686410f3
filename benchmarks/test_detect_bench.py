"""Throughput of ``detect`` (one process and two), beside the naive peer, and where the time goes.

Every round runs over the whole corpus; rates are gold sentences (non-empty lines)
per second of the median round, so ``detect`` (which also splits sentences) and the
peer (which gets them pre-split) are divided by the same count. Single-process
benchmarks also record the CPU time of each round (``cpu_median_s``): on a shared
machine it moves much less than wall time when other processes compete for the cores.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

import pytest

ROUNDS = 7


def _median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def with_cpu(fn: Callable[[], Any], cpu: list[float]) -> Callable[[], Any]:
    """``fn`` that appends the CPU seconds of each call to ``cpu``."""
    def run() -> Any:
        c0 = time.process_time()
        out = fn()
        cpu.append(time.process_time() - c0)
        return out
    return run


@pytest.mark.benchmark(group="throughput")
def test_detect(benchmark, corpus, detector, record) -> None:
    """``Detector.detect`` end to end on whole articles, sentence splitting included."""
    record(what="Detector.detect, whole articles, one process")
    texts, cpu = corpus.texts, []
    result = benchmark.pedantic(with_cpu(lambda: [detector.detect(t) for t in texts], cpu),
                                rounds=ROUNDS, iterations=1, warmup_rounds=1)
    record(detected_sentences=sum(len(a.sentences) for a in result), cpu_median_s=_median(cpu[1:]))
    assert len(result) == len(texts)


@pytest.mark.benchmark(group="throughput")
def test_score_presplit(benchmark, corpus, detector, record) -> None:
    """Our model on the peer's terms: pre-split sentences, probabilities only."""
    record(what="Detector.predict_proba_doc, pre-split sentences, one process")
    docs, cpu = corpus.sentences, []
    result = benchmark.pedantic(with_cpu(lambda: [detector.predict_proba_doc(s) for s in docs], cpu),
                                rounds=ROUNDS, iterations=1, warmup_rounds=1)
    record(cpu_median_s=_median(cpu[1:]))
    assert sum(len(p) for p in result) == corpus.n_sentences


@pytest.mark.benchmark(group="throughput")
def test_peer_predict(benchmark, corpus, peer, record) -> None:
    """The naive TF-IDF + one-vs-rest LR peer's predict over the pre-split sentences."""
    record(what="naive TF-IDF + LR peer predict, pre-split sentences, one process")
    sents, cpu = corpus.flat_sentences, []
    result = benchmark.pedantic(with_cpu(lambda: peer(sents), cpu),
                                rounds=ROUNDS, iterations=1, warmup_rounds=1)
    record(cpu_median_s=_median(cpu[1:]))
    assert result.shape[0] == corpus.n_sentences


@pytest.mark.benchmark(group="ratio")
def test_detect_vs_peer_interleaved(benchmark, corpus, detector, peer, record) -> None:
    """detect and the peer alternated round by round, so that load from other
    processes on a shared machine hits both alike; the ratio is of the medians."""
    texts, sents = corpus.texts, corpus.flat_sentences
    ours: list[float] = []
    theirs: list[float] = []
    ours_cpu: list[float] = []
    theirs_cpu: list[float] = []

    def pair() -> None:
        c0, t0 = time.process_time(), time.perf_counter()
        for t in texts:
            detector.detect(t)
        c1, t1 = time.process_time(), time.perf_counter()
        peer(sents)
        c2, t2 = time.process_time(), time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
        ours_cpu.append(c1 - c0)
        theirs_cpu.append(c2 - c1)

    benchmark.pedantic(pair, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    # drop the warm-up round
    ours, theirs, ours_cpu, theirs_cpu = ours[1:], theirs[1:], ours_cpu[1:], theirs_cpu[1:]
    record(what="detect then peer predict, alternated", detect_median_s=_median(ours),
           peer_median_s=_median(theirs), speed_ratio=_median(theirs) / _median(ours),
           speed_ratio_cpu=_median(theirs_cpu) / _median(ours_cpu),
           detect_rounds_s=ours, peer_rounds_s=theirs)


@pytest.mark.benchmark(group="throughput")
def test_detect_many_two_workers(benchmark, corpus, detector, record) -> None:
    """``detect_many(n_jobs=2)``: joblib worker processes, started in the warm-up round."""
    record(what="Detector.detect_many, n_jobs=2", n_jobs=2, batch_size=32)
    texts = corpus.texts
    result = benchmark.pedantic(lambda: detector.detect_many(texts, n_jobs=2),
                                rounds=5, iterations=1, warmup_rounds=1)
    assert len(result) == len(texts)


# Functions whose cumulative time the report shows as the stages of detect.
STAGES = {
    "split_sentences": "sentence splitting (all)",
    "segment": "  of which pysbd (lines with a candidate boundary)",
    "transform_doc": "features (Featurizer.transform_doc)",
    "dense_features": "  of which shape/context features (small blocks)",
    "_dense_encoded": "  of which shape/context features (large blocks)",
    "proba": "linear scores (Heads.proba)",
    "_evidence": "evidence for flagged sentences",
    "language_warnings": "language check",
    "_sentence": "result objects (_results._sentence)",
    "__post_init__": "result objects (Sentence.__post_init__)",
}


@pytest.mark.benchmark(group="profile")
def test_profile_detect(benchmark, corpus, detector, record) -> None:
    """cProfile of detect over the corpus: top functions by own time, and the stages.

    Timed with the profiler on, so this group's time is not a speed figure.
    """
    texts = corpus.texts
    prof = cProfile.Profile()

    def run() -> None:
        prof.enable()
        for t in texts:
            detector.detect(t)
        prof.disable()

    benchmark.pedantic(run, rounds=1, iterations=1)
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (file, line, func), (_, ncalls, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": func, "where": f"{_short(file)}:{line}", "calls": ncalls,
                     "own_s": tt, "cumulative_s": ct})
    top = sorted(rows, key=lambda r: -r["own_s"])[:15]
    stages = []
    for func, label in STAGES.items():
        hits = [r for r in rows if r["function"] == func and _stage_file(func, r["where"])]
        if hits:
            stages.append({"stage": label, "cumulative_s": sum(r["cumulative_s"] for r in hits),
                           "share": sum(r["cumulative_s"] for r in hits) / total})
    record(what="cProfile of Detector.detect", profile_total_s=total,
           profile_top=[{**r, "share": r["own_s"] / total} for r in top], profile_stages=stages)


def _short(file: str) -> str:
    for marker in ("site-packages/", "propdetect/", "lib/python"):
        if marker in file:
            return file[file.index(marker) + (len(marker) if marker != "propdetect/" else 0):]
    return file


def _stage_file(func: str, where: str) -> bool:
    if func == "segment":
        return where.startswith("pysbd/")
    return where.startswith("propdetect/")
