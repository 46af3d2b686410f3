"""Two models on the same gold articles, with article-level bootstrap intervals.

    python training/compare.py --a OLD_MODEL --b NEW_MODEL \
        [--articles ../shared/data/ptc/dev-articles --labels ../shared/data/ptc/dev-task-flc-tc.labels]

Scores both models sentence by sentence as ``propdetect evaluate`` does, then resamples
the articles with replacement (``--rounds``, default 1000, seeded) and reports, for
micro-F1, macro-F1 and binary F1, each model's figure, the difference B - A and its
95% percentile interval. Articles, not sentences, are resampled because sentences of
one article are not independent (one article can hold a dozen flags of one technique).
On the rare techniques a handful of sentences moves macro-F1 by a few points: the
interval says whether a difference is more than that.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._detector import Detector  # noqa: E402
from propdetect._evaluate import gold_matrix, predicted_matrix  # noqa: E402
from propdetect._taxonomy import TECHNIQUE_IDS  # noqa: E402


def _scores(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, btp: float, bfp: float,
            bfn: float, present: np.ndarray) -> tuple[float, float, float]:
    def f1(t: float, p: float, n: float) -> float:
        return 2 * t / (2 * t + p + n) if t else 0.0
    micro = f1(tp.sum(), fp.sum(), fn.sum())
    per = [f1(tp[k], fp[k], fn[k]) for k in np.flatnonzero(present)]
    return micro, float(np.mean(per)) if per else 0.0, f1(btp, bfp, bfn)


def main(argv: list[str] | None = None) -> int:
    data = ROOT.parent / "shared" / "data" / "ptc"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="model folder A (e.g. the previous bundled model)")
    ap.add_argument("--b", default=None, help="model folder B (default: the bundled model)")
    ap.add_argument("--articles", default=str(data / "dev-articles"))
    ap.add_argument("--labels", default=str(data / "dev-task-flc-tc.labels"))
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    docs, _ = read_ptc(args.articles, args.labels)
    gold = gold_matrix(docs, TECHNIQUE_IDS)
    bounds = np.cumsum([0] + [len(d.spans) for d in docs])
    models = {"A": Detector.load(args.a), "B": Detector.load(args.b)}
    # per article: tp, fp, fn per technique, and binary tp, fp, fn
    counts = {}
    for name, det in models.items():
        pred = predicted_matrix(det, docs, TECHNIQUE_IDS)
        per = []
        for i in range(len(docs)):
            g, p = gold[bounds[i]:bounds[i + 1]], pred[bounds[i]:bounds[i + 1]]
            ga, pa = g.any(axis=1), p.any(axis=1)
            per.append((np.sum(g & p, 0), np.sum(~g & p, 0), np.sum(g & ~p, 0),
                        np.sum(ga & pa), np.sum(~ga & pa), np.sum(ga & ~pa)))
        counts[name] = per
    rng = np.random.default_rng(args.seed)
    n = len(docs)

    def total(name: str, idx: np.ndarray) -> tuple[float, float, float]:
        per = counts[name]
        tp = sum(per[i][0] for i in idx)
        fp = sum(per[i][1] for i in idx)
        fn = sum(per[i][2] for i in idx)
        present = sum(per[i][0] + per[i][2] for i in idx) > 0
        return _scores(tp, fp, fn, sum(per[i][3] for i in idx), sum(per[i][4] for i in idx),
                       sum(per[i][5] for i in idx), present)

    full = {name: total(name, np.arange(n)) for name in models}
    diffs = np.array([np.subtract(total("B", idx), total("A", idx))
                      for idx in (rng.integers(0, n, n) for _ in range(args.rounds))])
    out = {"articles": n, "rounds": args.rounds, "a": args.a, "b": args.b or "bundled", "measures": {}}
    print(f"{n} articles, {args.rounds} article-level bootstrap rounds; A = {args.a}, B = {args.b or 'bundled'}")
    print("| measure | A | B | B - A | 95% interval of B - A |")
    print("|---|---|---|---|---|")
    for j, m in enumerate(("micro_f1", "macro_f1", "binary_f1")):
        lo, hi = np.percentile(diffs[:, j], [2.5, 97.5])
        a, b = full["A"][j], full["B"][j]
        out["measures"][m] = {"a": a, "b": b, "diff": b - a, "ci95": [float(lo), float(hi)]}
        print(f"| {m} | {a:.3f} | {b:.3f} | {b - a:+.3f} | {lo:+.3f} to {hi:+.3f} |")
    print(json.dumps(out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
