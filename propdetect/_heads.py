"""Heads: sentence features -> calibrated probabilities -> decisions.

A model has one linear head per technique and, when trained with it, one more
"any technique" head. Each head is a logistic regression whose decision value is
calibrated into a probability with Platt's method (``sigmoid(a * z + b)``, fitted on
out-of-fold scores during training).

The decision rule:

* **with the "any technique" head** a sentence is flagged when its propaganda
  probability reaches ``any_threshold``; a flagged sentence names every technique
  whose probability reaches its threshold, and always at least its most likely
  technique (the highest probability relative to its threshold); an unflagged
  sentence names none;
* **without it** (older models, ablations) a technique is named when its
  probability reaches its threshold, and a sentence is flagged when it names one.

All of it is NumPy over blocks of sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Heads", "decide", "sigmoid", "sparse_dot"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sparse_dot(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
               weights: np.ndarray) -> np.ndarray:
    """Rows of a CSR matrix times a dense matrix, with NumPy only."""
    n = len(indptr) - 1
    out = np.zeros((n, weights.shape[1]), dtype=np.float64)
    if len(indices) == 0:
        return out
    # np.take gathers rows faster than fancy indexing, and the product is made in
    # place when that keeps its dtype: the same numbers, a third less time.
    contrib = np.take(weights, indices, axis=0)
    in_place = np.result_type(contrib, data) == contrib.dtype
    contrib = np.multiply(contrib, data[:, None], out=contrib if in_place else None)
    nonempty = indptr[1:] > indptr[:-1]
    out[nonempty] = np.add.reduceat(contrib, indptr[:-1][nonempty], axis=0)
    return out


def decide(p: np.ndarray, thresholds: np.ndarray, p_any: np.ndarray | None = None,
           any_threshold: float | None = None) -> np.ndarray:
    """Which techniques each sentence names.

    Parameters
    ----------
    p : ndarray of shape (n, k)
        Technique probabilities.
    thresholds : ndarray of shape (k,)
    p_any, any_threshold : optional
        The "any technique" probabilities and their threshold; without them a
        technique is named when it reaches its own threshold.

    Returns
    -------
    ndarray of bool, shape (n, k)

    Examples
    --------
    >>> p = np.array([[0.5, 0.1], [0.05, 0.1], [0.9, 0.8]])
    >>> decide(p, np.array([0.4, 0.3])).astype(int).tolist()
    [[1, 0], [0, 0], [1, 1]]
    >>> decide(p, np.array([0.4, 0.3]), np.array([0.7, 0.6, 0.2]), 0.5).astype(int).tolist()
    [[1, 0], [0, 1], [0, 0]]
    """
    above = p >= thresholds
    if p_any is None or any_threshold is None:
        return above
    flagged = p_any >= any_threshold
    out = above & flagged[:, None]
    if p.shape[1]:
        rows = np.flatnonzero(flagged)
        top = np.argmax(p[rows] / np.maximum(thresholds, 1e-12), axis=1)
        out[rows, top] = True
    return out


@dataclass(frozen=True)
class Heads:
    """The linear heads of a model and its decision thresholds.

    ``coef`` has one column per technique, then (with an "any technique" head) one
    more; rows are the lexical columns then the dense ones.
    """

    coef_lex: np.ndarray      # (n_terms, k [+1]) float32
    coef_dense: np.ndarray    # (n_dense, k [+1]) float64
    intercept: np.ndarray     # (k [+1],)
    calib_a: np.ndarray
    calib_b: np.ndarray
    thresholds: np.ndarray    # (k,)
    any_threshold: float | None

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], n_terms: int) -> Heads:
        """Build the heads from a model's arrays (``any_*`` present: with the
        "any technique" head)."""
        coef = np.asarray(arrays["coef"], dtype=np.float32)
        intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        calib_a = np.asarray(arrays["calib_a"], dtype=np.float64)
        calib_b = np.asarray(arrays["calib_b"], dtype=np.float64)
        any_threshold = None
        if "any_coef" in arrays:
            coef = np.column_stack([coef, np.asarray(arrays["any_coef"], dtype=np.float32)])
            head = np.asarray(arrays["any_head"], dtype=np.float64)  # intercept, a, b, threshold
            intercept = np.append(intercept, head[0])
            calib_a = np.append(calib_a, head[1])
            calib_b = np.append(calib_b, head[2])
            any_threshold = float(head[3])
        return cls(coef[:n_terms], coef[n_terms:].astype(np.float64), intercept, calib_a,
                   calib_b, np.asarray(arrays["thresholds"], dtype=np.float64), any_threshold)

    @property
    def has_any(self) -> bool:
        """Whether the model has an "any technique" head."""
        return self.any_threshold is not None

    def proba(self, X: object, D: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities of a block: techniques ``(n, k)`` and, with the
        "any technique" head, the propaganda probability ``(n,)``."""
        z = sparse_dot(X.indptr, X.indices, X.data, self.coef_lex)  # type: ignore[attr-defined]
        # Row by row, not a matrix product: BLAS sums in an order that depends on
        # the number of rows, and a score must not depend on the block it was
        # computed in (a long document is scored in blocks).
        for k in range(self.coef_dense.shape[1]):
            z[:, k] += (D * self.coef_dense[:, k]).sum(axis=1)
        z += self.intercept
        p = sigmoid(self.calib_a * z + self.calib_b)
        if self.has_any:
            return np.ascontiguousarray(p[:, :-1]), p[:, -1].copy()
        return p, None

    def decide(self, p: np.ndarray, p_any: np.ndarray | None,
               thresholds: np.ndarray | None = None) -> np.ndarray:
        """:func:`decide` with this model's thresholds (or the ones given)."""
        thr = self.thresholds if thresholds is None else thresholds
        return decide(p, thr, p_any, self.any_threshold)
