"""Ablations of the bundled model's components, under the data protocol.

    python training/ablation.py [--data ../shared/data/ptc] [--out training/ablation.json]

Each variant is trained on PTC-2020 ``train`` with the bundled recipe (C, calibration,
decision rule and thresholds chosen by document-grouped CV inside ``train``). Figures
per variant: the cross-fitted CV one on ``train`` (each fold decided with thresholds
tuned on the other folds: what choices are based on), and PTC-2020 ``dev`` (reported,
never used to choose), with the evidence measures where the model gives evidence
from gold-span training.
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
from propdetect._detector import Detector  # noqa: E402
from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._evaluate import evaluate_detector  # noqa: E402
from propdetect._train import fit_detector  # noqa: E402

KEYS = ("micro_f1", "macro_f1", "binary_f1")


def variants(base: TrainingConfig) -> dict[str, TrainingConfig | None]:
    v1 = replace(base, vectors=None, binary_head=False, cues=False, token_model=False)
    return {
        "0.1 recipe: n-grams, shape/context, char n-grams": v1,
        "+ sentence vectors (technique heads: chosen per head by CV)": replace(
            base, binary_head=False, cues=False, token_model=False),
        "+ 'any technique' head and its decision rule": replace(base, cues=False, token_model=False),
        # the bundled recipe: the model training/build_bundled.py built (--model), not retrained
        "+ token model for evidence (the bundled model)": None,
        "tried: + span cues": replace(base, cues=True),
        "tried: sentence vectors in every technique head": replace(base, technique_vectors="always"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ptc"))
    ap.add_argument("--config", default=str(HERE / "configs" / "ptc2020.json"))
    ap.add_argument("--out", default=str(HERE / "ablation.json"))
    ap.add_argument("--model", default=str(ROOT / "propdetect" / "models" / "ptc2020"),
                    help="the model built with the bundled recipe (default: the bundled model)")
    ap.add_argument("--only", nargs="*", help="names (or name prefixes) of the variants to run")
    args = ap.parse_args(argv)
    data = Path(args.data)
    base = TrainingConfig.from_dict(json.loads(Path(args.config).read_text()))
    train, _ = read_ptc(data / "train-articles", data / "train-task-flc-tc.labels")
    dev, _ = read_ptc(data / "dev-articles", data / "dev-task-flc-tc.labels")
    rows = {}
    for name, cfg in variants(base).items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        t0 = time.perf_counter()
        if cfg is None:
            det = Detector.load(args.model)
            if det.metadata["config"] != base.to_dict():
                raise SystemExit(f"{args.model} was not trained with {args.config}")
        else:
            det = fit_detector(train, cfg, n_jobs=2)
        seconds = time.perf_counter() - t0
        cv = det.metadata["metrics"]["cross_fitted"]
        dv = evaluate_detector(det, dev)
        ev = dv.get("evidence", {})
        rows[name] = {"cv_train": {k: cv[k] for k in KEYS}, "dev": {k: dv[k] for k in KEYS},
                      "dev_evidence": ev, "train_seconds": seconds if cfg is not None else None}
        print(f"{name:34s} CV " + " ".join(f"{cv[k]:.3f}" for k in KEYS)
              + " | dev " + " ".join(f"{dv[k]:.3f}" for k in KEYS)
              + f" | evidence {ev.get('inside_gold', 0):.3f} {ev.get('touches_named', 0):.3f}"
              + f" | {seconds:.0f} s", flush=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    print("| variant | CV micro | CV macro | CV binary | dev micro | dev macro | dev binary "
          "| dev evidence in gold | dev evidence touches technique |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        ev = r["dev_evidence"]
        print(f"| {name} | " + " | ".join(f"{r['cv_train'][k]:.3f}" for k in KEYS) + " | "
              + " | ".join(f"{r['dev'][k]:.3f}" for k in KEYS)
              + f" | {ev.get('inside_gold', 0):.3f} | {ev.get('touches_named', 0):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
