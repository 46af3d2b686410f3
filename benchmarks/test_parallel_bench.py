"""Parallelism that always pays, and flat memory (issue 14): 2 workers against 1 process.

Each ratio is measured side by side: the one-process run and the two-worker run
alternate round by round, so that load from other processes on a shared machine
hits both alike; the ratio is of the median wall times (one process / two workers,
higher is better). Run alone with (from the repository root)::

    python -m pytest benchmarks/test_parallel_bench.py --benchmark-only -p no:cacheprovider -s

- ``test_detect_many_600_warm``: ``detect_many`` over 600 articles (the PTC dev
  articles 8 times), the worker pool already started.
- ``test_detect_many_75_cold``: ``detect_many`` over the 75 dev articles, the worker
  pool (forked, or loky's) shut down before every two-worker round, so that the call
  starts it.
- ``test_dask_600``: the 600 articles on a Dask ``LocalCluster`` (2 single-threaded
  worker processes) through joblib's ``dask`` backend (the ``cluster`` extra).
- ``test_analyze_jobs_4000``: ``propdetect analyze --format jsonl --jobs 2`` against
  ``--jobs 1`` over 4,000 short JSON Lines documents, each a fresh child process.
- ``test_rss_12mb_line``: peak RSS of ``analyze --format jsonl`` over one 12 MB
  single-line JSON Lines document (a child process, sampled with psutil).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_detect_bench import _median
from .test_stream_bench import _CALM, _LOUD, _peak_rss, _write_docs

ROUNDS = 5
ANALYZE_DOCS = int(os.environ.get("PROPDETECT_BENCH_ANALYZE_DOCS", "4000"))
ANALYZE_ROUNDS = 3
BIG_LINE_MB = 12


def _side_by_side(benchmark, one, two, rounds: int = ROUNDS, before_two=None) -> dict:  # noqa: ANN001
    """Alternate ``one()`` and ``two()`` (``before_two()`` untimed before each), a
    warm-up pair first; the medians and their ratio."""
    ones: list[float] = []
    twos: list[float] = []

    def pair() -> None:
        t0 = time.perf_counter()
        one()
        ones.append(time.perf_counter() - t0)
        if before_two is not None:
            before_two()
        t0 = time.perf_counter()
        two()
        twos.append(time.perf_counter() - t0)

    benchmark.pedantic(pair, rounds=rounds, iterations=1, warmup_rounds=1)
    ones, twos = ones[1:], twos[1:]  # drop the warm-up pair
    return {"one_process_median_s": _median(ones), "two_workers_median_s": _median(twos),
            "speedup": _median(ones) / _median(twos), "one_process_rounds_s": ones,
            "two_workers_rounds_s": twos, "load_average": list(os.getloadavg())}


def _show(name: str, x: dict) -> None:
    print(f"\n{name}: 1 process {x['one_process_median_s']:.2f} s, 2 workers {x['two_workers_median_s']:.2f} s: "
          f"{x['speedup']:.2f}x (load {x['load_average'][0]:.1f})")


@pytest.mark.benchmark(group="parallel")
def test_detect_many_600_warm(benchmark, corpus, detector, record) -> None:
    """detect_many(n_jobs=2) against detect in one process, 600 articles, pool started."""
    texts = corpus.texts * 8
    detector.detect_many(texts[:200], n_jobs=2)  # start the pool, ship the model
    x = _side_by_side(benchmark, lambda: [detector.detect(t) for t in texts],
                      lambda: detector.detect_many(texts, n_jobs=2))
    record(what="detect_many, 2 workers vs 1 process, warm pool", articles=len(texts), **x)
    _show("detect_many 600 warm", x)


@pytest.mark.benchmark(group="parallel")
def test_detect_many_75_cold(benchmark, corpus, detector, record) -> None:
    """detect_many(n_jobs=2) against one process, 75 articles, pool started by the call."""
    from propdetect import _pool

    texts = corpus.texts
    started: list[bool] = []

    def two() -> None:
        detector.detect_many(texts, n_jobs=2)
        started.append(_pool.pool_is_warm(2))  # did the call start workers, or stay in process?

    x = _side_by_side(benchmark, lambda: [detector.detect(t) for t in texts], two,
                      before_two=_pool.shutdown)
    record(what="detect_many, 2 workers vs 1 process, pool started by the call", articles=len(texts),
           characters=sum(map(len, texts)), pool_started=any(started), **x)
    _show("detect_many 75 cold", x)


@pytest.mark.benchmark(group="parallel")
def test_dask_600(benchmark, corpus, detector, record) -> None:
    """detect_many on a Dask LocalCluster of 2 worker processes against one process."""
    distributed = pytest.importorskip("distributed", reason="needs the cluster extra: pip install '.[cluster]'")
    import joblib

    texts = corpus.texts * 8
    # A LocalCluster leaves MALLOC_TRIM_THRESHOLD_=65536 and OMP_NUM_THREADS=1 in this
    # process's environment for good: restored below, so that the benchmarks after
    # this one (subprocesses, training workers) do not inherit them.
    saved_env = dict(os.environ)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster):
        def on_dask() -> None:
            with joblib.parallel_backend("dask"):
                detector.detect_many(texts)

        on_dask()  # the workers decode the model once and keep it
        x = _side_by_side(benchmark, lambda: [detector.detect(t) for t in texts], on_dask)
    os.environ.clear()
    os.environ.update(saved_env)
    record(what="Dask LocalCluster, 2 worker processes vs 1 process", articles=len(texts), **x)
    _show("dask 600", x)


def _analyze(src: Path, out: Path, jobs: int) -> None:
    cmd = [sys.executable, "-m", "propdetect.cli", "analyze", "--format", "jsonl", "--jobs", str(jobs),
           "--no-progress", "--force", "-o", str(out), str(src)]  # rounds replace the file
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.benchmark(group="parallel")
def test_analyze_jobs_4000(benchmark, tmp_path, record) -> None:
    """``analyze --format jsonl --jobs 2`` against ``--jobs 1``, fresh processes, same output."""
    src = tmp_path / "docs.jsonl"
    _write_docs(src, ANALYZE_DOCS)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    x = _side_by_side(benchmark, lambda: _analyze(src, one, 1), lambda: _analyze(src, two, 2),
                      rounds=ANALYZE_ROUNDS)
    assert one.read_bytes() == two.read_bytes()
    record(what="analyze --format jsonl --jobs 2 vs --jobs 1", documents=ANALYZE_DOCS, **x)
    _show(f"analyze {ANALYZE_DOCS} docs", x)


def _write_big_line(path: Path, mb: float, seed: int = 0) -> int:
    """One JSON Lines record whose text is ``mb`` MB of news-like paragraphs."""
    rng = random.Random(seed)
    parts, n = [], 0
    while n < mb * 2**20:
        para = " ".join(rng.choice(_LOUD if rng.random() < 0.3 else _CALM) for _ in range(rng.randint(3, 8)))
        parts.append(para)
        n += len(para) + 1
    path.write_text(json.dumps({"id": "big", "text": "\n".join(parts)}) + "\n", encoding="utf-8")
    return path.stat().st_size


@pytest.mark.benchmark(group="memory")
def test_rss_12mb_line(benchmark, tmp_path, record) -> None:
    """Peak RSS of ``analyze --format jsonl`` over one 12 MB single-line document."""
    pytest.importorskip("psutil")  # _peak_rss samples with it
    src = tmp_path / "big.jsonl"
    size = _write_big_line(src, BIG_LINE_MB)
    out = tmp_path / "out.jsonl"
    runs: list[dict] = []

    def run() -> None:
        cmd = [sys.executable, "-m", "propdetect.cli", "analyze", "--format", "jsonl", "--no-progress",
               "--force", "-o", str(out), str(src)]  # rounds replace the file
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
            peak_main, peak_tree = _peak_rss(child)
        assert child.returncode == 0
        runs.append({"peak_rss_main_mb": peak_main / 1e6, "peak_rss_tree_mb": peak_tree / 1e6})

    benchmark.pedantic(run, rounds=1, iterations=1)
    with open(out, encoding="utf-8") as fh:
        n_sentences = len(json.loads(fh.readline())["sentences"])
    x = runs[-1]
    record(what="peak RSS, analyze --format jsonl, one 12 MB single-line document", input_mb=size / 1e6,
           sentences_out=n_sentences, **x)
    print(f"\n{size / 1e6:.1f} MB line, {n_sentences:,} sentences: peak RSS {x['peak_rss_main_mb']:.0f} MB")
