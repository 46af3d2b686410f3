"""Ablations of the bundled model's components, under the data protocol.

    python training/ablation.py [--data ../shared/data/ptc] [--out training/ablation.json]

Each variant is trained on PTC-2020 ``train`` with the bundled recipe (C, calibration
and thresholds chosen by document-grouped CV inside ``train``). Two figures per
variant: the cross-validated one on ``train`` (what choices may be based on; optimistic,
because thresholds are tuned on the same out-of-fold scores) and PTC-2020 ``dev``
(reported, never used to choose).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._config import TrainingConfig  # noqa: E402
from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._evaluate import evaluate_detector  # noqa: E402
from propdetect._train import fit_detector  # noqa: E402

KEYS = ("micro_f1", "macro_f1", "binary_f1")


def variants(base: TrainingConfig) -> dict[str, TrainingConfig]:
    words = replace(base, char_ngrams=None, dense_features=False)
    return {
        "word n-grams": words,
        "+ shape and article context": replace(words, dense_features=True),
        "+ character n-grams (bundled)": replace(base, dense_features=True),
        "bundled, no shape/context": replace(base, dense_features=False),
        "bundled, no class weights": replace(base, class_weight=None),
        "bundled, C grid 1, 4, 16": replace(base, C_grid=(1.0, 4.0, 16.0)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ptc"))
    ap.add_argument("--config", default=str(HERE / "configs" / "ptc2020.json"))
    ap.add_argument("--out", default=str(HERE / "ablation.json"))
    ap.add_argument("--only", nargs="*", help="names of the variants to run")
    args = ap.parse_args(argv)
    data = Path(args.data)
    base = TrainingConfig.from_dict(json.loads(Path(args.config).read_text()))
    train, _ = read_ptc(data / "train-articles", data / "train-task-flc-tc.labels")
    dev, _ = read_ptc(data / "dev-articles", data / "dev-task-flc-tc.labels")
    rows = {}
    for name, cfg in variants(base).items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        det = fit_detector(train, cfg, n_jobs=2)
        cv = det.metadata["metrics"]["cross_validation"]
        dv = evaluate_detector(det, dev)
        rows[name] = {"cv_train": {k: cv[k] for k in KEYS}, "dev": {k: dv[k] for k in KEYS},
                      "seconds": time.perf_counter() - t0}
        print(f"{name:34s} CV " + " ".join(f"{cv[k]:.3f}" for k in KEYS)
              + " | dev " + " ".join(f"{dv[k]:.3f}" for k in KEYS), flush=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    print("| variant | CV micro | CV macro | CV binary | dev micro | dev macro | dev binary |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(f"{r['cv_train'][k]:.3f}" for k in KEYS) + " | "
              + " | ".join(f"{r['dev'][k]:.3f}" for k in KEYS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
