"""Precision and recall by threshold on PTC-2020 dev: the figures of the documentation's
"Scores and thresholds" guide (docs/guides/thresholds.md).

    python training/threshold_table.py [--model PATH] [--articles DIR] [--labels FILE]

Prints two markdown tables: the model's own thresholds (the propaganda flag's and
each technique's), then binary precision, recall and F1 ("uses any technique") and
micro- and macro-F1 over the 14 techniques on the dev articles when the propaganda
threshold is 0.3, 0.4, ..., 0.8 (``Detector.with_thresholds({"propaganda": t})``;
each technique keeps its own threshold), with the model's own threshold as the
marked row. A model without an "any technique" head has no propaganda threshold:
there every technique's threshold is set to ``t`` instead, and the table says so.

It runs ``detect`` over the 75 dev articles once per threshold (seconds to a few
minutes, depending on the model). Dev is for reporting only: nothing here chooses the bundled thresholds,
which training picks by cross-validation on PTC-2020 train.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect import Detector, ModelError, read_ptc  # noqa: E402
from propdetect._corpus import DataError  # noqa: E402
from propdetect._evaluate import evaluate_detector  # noqa: E402
from propdetect._taxonomy import TECHNIQUES  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ptc"
DEFAULT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def default_table(det: Detector) -> str:
    """The model's own thresholds as a markdown table."""
    lines = ["| decision | threshold |", "|---|---|"]
    if det.propaganda_threshold is not None:
        lines.append(f"| the propaganda flag (any technique) | {det.propaganda_threshold:.3f} |")
    for t in TECHNIQUES:
        if t.id in det.thresholds:
            lines.append(f"| {t.name} (`{t.id}`) | {det.thresholds[t.id]:.3f} |")
    return "\n".join(lines)


def sweep_table(det: Detector, docs: list, thresholds: list[float]) -> str:
    """Binary P/R/F1 and micro/macro-F1 on ``docs`` at each threshold."""
    has_flag = det.propaganda_threshold is not None
    own = det.propaganda_threshold if has_flag else None
    what = "propaganda threshold" if has_flag else "threshold (every technique; this model has no propaganda flag)"
    rows = sorted(set(thresholds) | ({round(own, 3)} if own is not None else set()))
    lines = [f"| {what} | binary P | binary R | binary F1 | micro-F1 | macro-F1 |", "|---|---|---|---|---|---|"]
    for t in rows:
        is_own = own is not None and t == round(own, 3)
        # the model's own row is the model as it is, not its threshold rounded for display
        variant = det if is_own else det.with_thresholds({"propaganda": t} if has_flag else t)
        r = evaluate_detector(variant, docs)
        mark = " (the model's own)" if is_own else ""
        lines.append(f"| {t:.3g}{mark} | {r['binary_precision']:.3f} | {r['binary_recall']:.3f} | "
                     f"{r['binary_f1']:.3f} | {r['micro_f1']:.3f} | {r['macro_f1']:.3f} |")
        print(f"threshold {t:.3g} done", file=sys.stderr)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a model folder (default: the bundled model)")
    ap.add_argument("--articles", default=str(DATA / "dev-articles"), help="PTC articles (default: PTC-2020 dev)")
    ap.add_argument("--labels", default=str(DATA / "dev-task-flc-tc.labels"), help="their technique spans")
    ap.add_argument("--thresholds", type=float, nargs="+", default=list(DEFAULT_THRESHOLDS), metavar="T",
                    help="the thresholds to score (default: 0.3 0.4 ... 0.8)")
    args = ap.parse_args(argv)
    if any(not 0.0 <= t <= 1.0 for t in args.thresholds):
        print("threshold_table.py: --thresholds are probabilities, from 0 to 1", file=sys.stderr)
        return 2
    try:
        det = Detector.load(args.model)
        docs, _ = read_ptc(args.articles, args.labels)
    except (ModelError, DataError) as exc:
        print(f"threshold_table.py: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    name = det.metadata.get("model_version") or det.metadata.get("name")
    n_sent = sum(len(d.spans) for d in docs)
    print(f"Model `{name}`: its thresholds.\n\n{default_table(det)}\n")
    print(f"Model `{name}` on {len(docs)} articles, {n_sent} sentences ({args.articles}):\n")
    print(sweep_table(det, docs, args.thresholds))
    print(f"done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
