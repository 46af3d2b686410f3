"""Fixtures of the benchmark suite: the corpus, the bundled detector, the naive peer.

Run the suite with (from the repository root)::

    python -m pytest benchmarks --benchmark-only --benchmark-json=.benchmarks/latest.json -p no:cacheprovider
    python benchmarks/report.py .benchmarks/latest.json -o BENCHMARKS.md

``--benchmark-only`` overrides the ``--benchmark-skip`` of pyproject's ``addopts``;
``python -m pytest`` alone never collects this folder (``testpaths``). Add
``-m "not slow"`` to leave out the training benchmark (several minutes).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from ._data import BenchCorpus, load_corpus


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes minutes (training on a whole corpus); deselect with -m 'not slow'"
    )
    # pytest-benchmark opens --benchmark-json as given: make its folder exist, so that
    # the documented command works from a clean clone.
    out = config.getoption("benchmark_json", default=None)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Add what the report prints about the machine and the software."""
    import propdetect
    from propdetect._detector import _bundled

    machine_info["propdetect"] = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {d: _version(d) for d in ("numpy", "scipy", "scikit-learn", "pysbd", "joblib")},
        "propdetect": propdetect.__version__,
        "model_version": _bundled().metadata.get("model_version", "?"),
        # The machine is shared: the load average at the end of the run says how noisy it was.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "pytest_args": list(config.invocation_params.args),
    }


@pytest.fixture(scope="session")
def corpus() -> BenchCorpus:
    """PTC-2020 dev articles, or the synthetic fallback."""
    return load_corpus()


@pytest.fixture(scope="session")
def detector():  # noqa: ANN201
    """The bundled model, loaded (and warmed up) once."""
    import propdetect

    det = propdetect.Detector.load()
    det.detect("Warm-up. They are very cruel, they don't spare anyone.")
    return det


@pytest.fixture(scope="session")
def peer(corpus: BenchCorpus) -> Callable[[list[str]], np.ndarray]:
    """The naive TF-IDF + one-vs-rest logistic regression peer, trained in this run.

    It is ``tfidf_lr`` of :func:`propdetect._evaluate.train_baselines`: word 1-2 and
    char_wb 2-5 n-grams, sublinear TF, one liblinear model per technique. Its input
    is pre-split sentences; training on PTC-2020 train takes about a minute.
    """
    from propdetect._evaluate import train_baselines

    return train_baselines(corpus.train_docs)["tfidf_lr"]


@pytest.fixture
def record(benchmark, corpus: BenchCorpus) -> Callable[..., None]:  # noqa: ANN001
    """``record(**extra)``: store what the report needs beside the timings."""
    benchmark.extra_info.update(
        {"corpus": corpus.name, "sentences": corpus.n_sentences, "documents": len(corpus.texts)}
    )
    return benchmark.extra_info.update


@pytest.fixture(scope="session")
def texts_file(corpus, tmp_path_factory) -> Path:
    """The corpus texts in a temporary JSON file, for the child processes."""
    import json

    path = tmp_path_factory.mktemp("bench") / "texts.json"
    path.write_text(json.dumps(corpus.texts), encoding="utf-8")
    return path
