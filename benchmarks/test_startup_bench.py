"""Cold start and peak memory (each in a fresh interpreter), model size and load time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("_child.py")


def _run_child(mode: str, texts_file: Path, model: str | None = None) -> dict:
    proc = subprocess.run([sys.executable, str(CHILD), mode, str(texts_file), *([model] if model else [])],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{CHILD} {mode} failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.benchmark(group="cold start")
def test_cold_start(benchmark, texts_file, record) -> None:
    """Fresh process: ``import propdetect`` + ``Detector.load()`` + first ``detect``.

    The benchmark's own time is the whole child process (interpreter start-up
    included); the in-process figure the goal is about is in ``extra_info``.
    """
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_run_child("cold", texts_file)),
                       rounds=7, iterations=1, warmup_rounds=1)
    runs = runs[1:]  # the warm-up may write .pyc files
    med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
    record(what="fresh process: import + load + first detect (first article)",
           cold_median_s=med["total_s"], cold_parts_median_s=med, cold_runs=runs)


@pytest.mark.benchmark(group="memory")
def test_peak_rss(benchmark, texts_file, record) -> None:
    """Fresh process: peak resident memory after ``detect`` over the whole corpus."""
    runs: list[dict] = []
    benchmark.pedantic(lambda: runs.append(_run_child("rss", texts_file)), rounds=3, iterations=1)
    record(what="fresh process: peak RSS (VmHWM) of detect over the corpus",
           peak_rss_mb=max(r["peak_mb"] for r in runs),
           rss_after_load_mb=max(r["after_load_mb"] for r in runs))


@pytest.mark.benchmark(group="model")
def test_model_load(benchmark, record) -> None:
    """Bundled model: size on disk, and ``Detector.load(path)`` in a warm process (no cache)."""
    from propdetect import Detector
    from propdetect._detector import bundled_model_path

    folder = bundled_model_path()
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    record(what="Detector.load(path), warm process", model_bytes=sum(files.values()),
           model_files=files)
    det = benchmark.pedantic(lambda: Detector.load(folder), rounds=5, iterations=1, warmup_rounds=1)
    assert len(det.techniques) > 0
