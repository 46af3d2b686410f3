"""Metrics: per-technique precision/recall/F1, micro/macro F1, binary F1, thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["prf", "multilabel_scores", "best_threshold"]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts; 0.0 where undefined.

    Examples
    --------
    >>> prf(2, 1, 1)
    (0.6666666666666666, 0.6666666666666666, 0.6666666666666666)
    >>> prf(0, 0, 0)
    (0.0, 0.0, 0.0)
    """
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def multilabel_scores(y_true: np.ndarray, y_pred: np.ndarray,
                      techniques: Sequence[str]) -> dict[str, Any]:
    """Sentence-level multi-label scores.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_sentences, n_techniques), 0/1
    techniques : sequence of str
        Column names.

    Returns
    -------
    dict
        ``per_technique`` (id -> precision, recall, f1, support, predicted),
        ``micro_f1`` (+ precision and recall), ``macro_f1`` (mean F1 over the
        techniques with support > 0), ``binary_f1`` ("any technique", + precision
        and recall) and ``sentences``.

    Examples
    --------
    >>> y = np.array([[1, 0], [0, 1], [0, 0]])
    >>> p = np.array([[1, 1], [0, 0], [0, 0]])
    >>> s = multilabel_scores(y, p, ["a", "b"])
    >>> s["micro_f1"], s["macro_f1"], s["binary_f1"]
    (0.5, 0.5, 0.6666666666666666)
    """
    yt = np.asarray(y_true, dtype=bool)
    yp = np.asarray(y_pred, dtype=bool)
    if yt.shape != yp.shape:
        raise ValueError(f"shapes differ: gold {yt.shape}, predicted {yp.shape}")
    per: dict[str, dict[str, float]] = {}
    tps = (yt & yp).sum(axis=0)
    fps = (~yt & yp).sum(axis=0)
    fns = (yt & ~yp).sum(axis=0)
    for k, t in enumerate(techniques):
        p, r, f = prf(int(tps[k]), int(fps[k]), int(fns[k]))
        per[t] = {"precision": p, "recall": r, "f1": f, "support": int(yt[:, k].sum()),
                  "predicted": int(yp[:, k].sum())}
    mp, mr, mf = prf(int(tps.sum()), int(fps.sum()), int(fns.sum()))
    supported = [v["f1"] for v in per.values() if v["support"] > 0]
    bt, bp = yt.any(axis=1), yp.any(axis=1)
    bprec, brec, bf = prf(int((bt & bp).sum()), int((~bt & bp).sum()), int((bt & ~bp).sum()))
    return {
        "sentences": int(yt.shape[0]),
        "micro_f1": mf, "micro_precision": mp, "micro_recall": mr,
        "macro_f1": float(np.mean(supported)) if supported else 0.0,
        "binary_f1": bf, "binary_precision": bprec, "binary_recall": brec,
        "per_technique": per,
    }


def best_threshold(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The threshold on ``scores`` that maximises F1 of ``scores >= threshold``.

    Returns the midpoint between the best cut's score and the next lower one, so
    that the threshold generalises a little better than the score itself.

    Returns
    -------
    threshold : float
    f1 : float
        F1 at that threshold (0.0, with threshold +inf-like, if ``y`` has no positive).

    Examples
    --------
    >>> best_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0]))
    (0.55, 1.0)
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    if n_pos == 0 or len(scores) == 0:
        return float(np.max(scores, initial=0.0)) + 1.0, 0.0
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    # Only cut between distinct scores.
    last = np.r_[s[1:] != s[:-1], True]
    f1 = np.where(last, 2 * tp / (k + n_pos), -1.0)
    i = int(np.argmax(f1))
    nxt = s[i + 1] if i + 1 < len(s) else s[i] - 1e-6
    return float((s[i] + nxt) / 2), float(f1[i])
