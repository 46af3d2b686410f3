"""Streaming throughput and memory: 100,000 JSON Lines documents through ``propdetect analyze``.

Run alone with (from the repository root)::

    python -m pytest benchmarks/test_stream_bench.py --benchmark-only -p no:cacheprovider -s

It generates synthetic news-like documents (no corpus needed) into a temporary
file, runs ``propdetect analyze --format jsonl --jobs 2`` on it in a subprocess,
and reports documents/s and the peak RSS of the whole process tree (the CLI and
its workers, sampled every 50 ms with psutil, which the ``cluster``/``test``
extras install with ``distributed``).
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

# PROPDETECT_BENCH_DOCS overrides the count for a quick trial run.
N_DOCS = int(os.environ.get("PROPDETECT_BENCH_DOCS", "100000"))
JOBS = 2

_LOUD = ["These traitors and thugs are destroying our great nation!",
         "Corrupt criminals run this disgusting regime.",
         "Patriots must stand up for our flag and our country.",
         "Can we really trust what these so-called experts claim?",
         "Shocking, horrific and evil crimes by these monsters."]
_CALM = ["The council meets on Tuesday at the town hall.",
         "The report was published in March and has 40 pages.",
         "Rainfall in the region was slightly above the long-term average.",
         "The bridge will be closed for repairs next week.",
         "The museum opens at nine in the morning.",
         "The committee will publish its minutes online."]


def _write_docs(path: Path, n: int, seed: int = 0) -> int:
    """``n`` JSON Lines records of 2-8 sentences each; returns the bytes written."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            k = rng.randint(2, 8)
            sents = [rng.choice(_LOUD if rng.random() < 0.3 else _CALM) for _ in range(k)]
            fh.write(json.dumps({"id": f"doc-{i}", "text": " ".join(sents)}) + "\n")
    return path.stat().st_size


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _peak_rss(child: subprocess.Popen) -> tuple[int, int]:
    """Sample a running child every 50 ms until it ends: its peak RSS, and the peak of
    it and its children together (bytes)."""
    ps = psutil.Process(child.pid)
    peak_main = peak_tree = 0
    while child.poll() is None:
        try:
            peak_main = max(peak_main, ps.memory_info().rss)
            peak_tree = max(peak_tree, _tree_rss(ps))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return peak_main, peak_tree


def _stream(src: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "propdetect.cli", "analyze", "--format", "jsonl", "--jobs", str(JOBS),
           "--force", "-o", str(out), str(src)]  # rounds replace the file
    err_path = out.with_suffix(".stderr")
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(err_path, "wb") as err, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err) as child:
        peak_main, peak_tree = _peak_rss(child)
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {child.returncode}):\n{stderr}")
    # CPU seconds of the CLI and the workers it reaped: a figure that depends less on
    # how busy the (shared) machine was than the wall-clock rate.
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"seconds": elapsed, "cpu_seconds": cpu, "peak_rss_main_mb": peak_main / 2**20,
            "peak_rss_tree_mb": peak_tree / 2**20, "summary": stderr.strip().splitlines()[-1]}


@pytest.mark.benchmark(group="streaming")
def test_stream_100k_jsonl(benchmark, tmp_path) -> None:
    """documents/s and peak RSS of ``analyze --format jsonl --jobs 2`` over 100,000 documents."""
    src = tmp_path / "docs.jsonl"
    size = _write_docs(src, N_DOCS)
    out = tmp_path / "out.jsonl"
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_stream(src, out)), rounds=1, iterations=1)
    run = runs[-1]
    with open(out, encoding="utf-8") as fh:
        n_out = sum(1 for _ in fh)
    assert n_out == N_DOCS
    run.update(documents=N_DOCS, input_mb=size / 2**20, jobs=JOBS,
               documents_per_s=N_DOCS / run["seconds"],
               documents_per_cpu_s=N_DOCS / run["cpu_seconds"] if run["cpu_seconds"] else None)
    benchmark.extra_info.update(run)
    print(f"\nstreamed {N_DOCS} documents ({size / 2**20:.1f} MB) in {run['seconds']:.1f} s: "
          f"{run['documents_per_s']:.0f} documents/s ({run['cpu_seconds']:.0f} CPU s: "
          f"{run['documents_per_cpu_s']:.0f} documents per CPU second); peak RSS {run['peak_rss_main_mb']:.0f} MB (CLI), "
          f"{run['peak_rss_tree_mb']:.0f} MB (CLI + workers); {run['summary']}")
    assert run["peak_rss_tree_mb"] < 500
