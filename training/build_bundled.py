"""Rebuild the bundled model, propdetect/models/ptc2020, from PTC-2020 train only.

    python training/build_bundled.py [--data ../shared/data/ptc] [--out propdetect/models/ptc2020]

Data protocol: the model sees PTC-2020 ``train`` and nothing else (plus the GloVe
word vectors shipped in propdetect/vectors/). Every choice (regularisation and feature
set per head, calibration, the decision rule and its thresholds) is made by
document-grouped cross-validation inside ``train`` (see propdetect/_train.py). PTC-2020
``dev`` and the EMNLP-2019 ``test`` split are for reporting only: ``propdetect evaluate``.
About 2.5 minutes on 2 cores (154 s wall in benchmarks/test_train_bench.py, 2026-11-30).

The same data, config (training/configs/ptc2020.json) and seed give the same
weights; the metadata records the training data's digest so that a rebuild can be
checked against the committed model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._config import TrainingConfig  # noqa: E402
from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._train import fit_detector  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ptc"),
                    help="the PTC-2020 release folder (default: ../shared/data/ptc)")
    ap.add_argument("--config", default=str(HERE / "configs" / "ptc2020.json"))
    ap.add_argument("--out", default=str(ROOT / "propdetect" / "models" / "ptc2020"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    cfg = TrainingConfig.from_dict(json.loads(Path(args.config).read_text()))
    t0 = time.perf_counter()
    docs, report = read_ptc(data / "train-articles", data / "train-task-flc-tc.labels")
    for line in report.lines():
        print(line, file=sys.stderr)
    det = fit_detector(
        docs, cfg, name="ptc2020", n_jobs=2,
        data_description="PTC-2020 (SemEval-2020 Task 11) train split: "
                         "train-articles + train-task-flc-tc.labels",
        progress=lambda m: print(f"{time.perf_counter() - t0:7.1f}s {m}", file=sys.stderr),
    )
    det.save(args.out)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
