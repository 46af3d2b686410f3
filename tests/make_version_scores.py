"""Rebuild tests/data/versions: scores that must not depend on the installed libraries.

    python tests/make_version_scores.py bundled   # with the newest supported versions
    python tests/make_version_scores.py tiny      # with the oldest (pip install -c constraints/oldest.txt .)

``bundled`` writes ``bundled_scores.json``: the fast and the accurate bundled models'
scores of every sentence of ``texts()``, with the library versions that computed them.
``tiny`` trains the tiny model of tests/conftest.py under the installed scikit-learn,
saves it as ``tiny_model/`` (its metadata records that scikit-learn) and writes its
scores to ``tiny_scores.json``. tests/test_versions.py loads both under whatever is
installed and asks for the same scores to 1e-6. Every text is the project's own.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

OUT = HERE / "data" / "versions"
BUNDLED = OUT / "bundled_scores.json"
TINY_MODEL = OUT / "tiny_model"
TINY_SCORES = OUT / "tiny_scores.json"
# What "the same scores" means between two library versions: float32 sums in another
# order (another BLAS kernel, another onnxruntime) move the 7th digit at most.
TOLERANCE = 1e-6


def texts() -> dict[str, str]:
    """The texts scored: the fixture sentences, edge cases, and the seed article."""
    from tests.conftest import _DOCS

    out = {f"doc{i}": " ".join(s for s, _ in d) for i, d in enumerate(_DOCS)}
    out["long_sentence"] = ("These corrupt and disgusting traitors, " * 40).strip() + " must go!"
    out["unicode"] = "Ces traîtres détruisent notre nation ! 这些叛徒。 Émigrés — “so-called experts” — lie…"
    out["lines"] = "HEADLINE: SHOCKING LIES\n\nThe council meets on Tuesday.\nWhy trust them?"
    out["seed"] = (HERE.parent / "seeds" / "kursk-region.txt").read_text(encoding="utf-8")
    return out


def versions() -> dict[str, str | None]:
    from propdetect._train import library_versions

    return library_versions("scipy", "onnxruntime", "tokenizers")


def scores_of(detector: Any, text: str) -> list[dict[str, Any]]:
    """Per sentence: its span, its scores in technique order, what it flags."""
    return [{"span": [s.start, s.end], "scores": [s.scores[t] for t in detector.techniques],
             "techniques": sorted(s.techniques)}
            for s in detector.detect(text).sentences]


def bundled() -> None:
    from propdetect import Detector

    data = {"versions": versions(), "texts": texts(), "models": {}}
    for name in ("fast", "accurate"):
        det = Detector.load(name)
        data["models"][name] = {"model_version": det.metadata["model_version"],
                                "scores": {k: scores_of(det, t) for k, t in data["texts"].items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    BUNDLED.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLED} with {data['versions']}")


def tiny() -> None:
    from dataclasses import replace

    from propdetect._train import fit_detector
    from tests.conftest import TINY_CONFIG, _DOCS, make_document

    docs = [make_document(f"doc{i}", d) for i, d in enumerate(_DOCS)]
    # without word vectors: they would copy 4.8 MB of the shipped GloVe table into the
    # fixture, and no library but NumPy touches them
    det = fit_detector(docs, replace(TINY_CONFIG, vectors=None), name="tiny")
    if TINY_MODEL.exists():
        shutil.rmtree(TINY_MODEL)
    det.save(TINY_MODEL)
    data = {"versions": versions(), "texts": texts(),
            "scores": {k: scores_of(det, t) for k, t in texts().items()}}
    TINY_SCORES.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in TINY_MODEL.iterdir())
    print(f"wrote {TINY_MODEL} ({size:,} B) and {TINY_SCORES} with {data['versions']}")


if __name__ == "__main__":
    {"bundled": bundled, "tiny": tiny}[sys.argv[1]]()
