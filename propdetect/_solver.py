"""Training only: L2-regularised logistic regression by preconditioned Newton-CG.

Our feature matrices are a wide sparse block (word and character n-grams) beside a
narrow dense block (shape and context features, sentence vectors). The dense
columns are standardised and strongly correlated (mean, max and SIF-weighted mean
of the same 50-d word vectors), which makes the Hessian badly conditioned:
scikit-learn's ``newton-cg`` (no preconditioner) needed 3-6x the time for a head
with the sentence vectors than for the same head without them (PTC-2020 train,
one fold, C=2: 5-8 s against 1-2 s a fit). Here the conjugate-gradient steps are
preconditioned block-wise, with the exact inverse of the dense block's Hessian
(a Cholesky factor of a ~180 x 180 matrix) and the diagonal of the sparse
block's, so the dense columns cost about what they weigh.

The objective is scikit-learn's, so the optimum is the same (up to the tolerance):

    (1/S) * sum_i s_i * logloss(y_i, x_i . w + b) + ||w||^2 / (2 * C * S),
    S = sum_i s_i,

with ``s`` the (class) weights of the samples and the intercept ``b`` not
penalised. The fit stops when every component of the gradient is at most
``tol`` in absolute value, as scikit-learn's ``newton-cg`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._heads import sigmoid

__all__ = ["Design", "LogisticFit", "class_weights", "fit_logistic"]


@dataclass(frozen=True)
class Design:
    """A feature matrix split for the solver: ``[Xs, Xd]``, a sparse block and a
    narrow dense one, with the squares of ``Xs``'s entries (for the preconditioner)
    kept beside it so that many fits on the same rows share them.

    Build it with :meth:`of`; :meth:`rows` and :meth:`dense_columns` give the designs
    of a fold or of a subset of the dense columns.
    """

    Xs: Any
    Xs_sq: Any
    Xd: np.ndarray

    @classmethod
    def of(cls, Xs: Any, Xd: np.ndarray) -> Design:
        """From a SciPy sparse matrix and a dense array with the same rows."""
        Xs = Xs.tocsr()
        Xs_sq = Xs.copy()
        Xs_sq.data = Xs_sq.data ** 2
        return cls(Xs, Xs_sq, np.ascontiguousarray(Xd, dtype=np.float64))

    def rows(self, mask: np.ndarray) -> Design:
        return Design(self.Xs[mask], self.Xs_sq[mask], np.ascontiguousarray(self.Xd[mask]))

    def dense_columns(self, columns: np.ndarray) -> Design:
        return Design(self.Xs, self.Xs_sq, np.ascontiguousarray(self.Xd[:, columns]))

    @property
    def n_samples(self) -> int:
        return int(self.Xs.shape[0])


@dataclass(frozen=True)
class LogisticFit:
    """A fitted model: ``decision = Xs @ coef_sparse + Xd @ coef_dense + intercept``."""

    coef_sparse: np.ndarray
    coef_dense: np.ndarray
    intercept: float
    n_iter: int

    def decision_function(self, design: Design) -> np.ndarray:
        return design.Xs @ self.coef_sparse + design.Xd @ self.coef_dense + self.intercept


def class_weights(y: np.ndarray, class_weight: str | None = "balanced") -> np.ndarray:
    """Per-sample weights: scikit-learn's ``class_weight="balanced"``
    (``n / (2 * count of the sample's class)``), or all 1 for ``None``."""
    y = np.asarray(y)
    n = float(len(y))
    if class_weight is None:
        return np.ones(len(y))
    if class_weight != "balanced":
        raise ValueError(f"class_weight must be 'balanced' or None, got {class_weight!r}")
    n_pos = float(np.count_nonzero(y))
    # (a class that is absent gets no weight to divide by: nothing to balance)
    return np.where(y > 0, n / (2.0 * max(n_pos, 1.0)), n / (2.0 * max(n - n_pos, 1.0)))


# The inexact-Newton forcing term: CG stops when its residual is this fraction of
# the gradient's norm. On PTC-2020 train (one fold, tol=1e-4) 0.5 needed 150-180
# sparse products a fit against 155-280 with the superlinear min(0.5, sqrt|g|),
# for the same held-out scores (correlation >= 0.99995 with a fit to tol=1e-7).
_FORCING = 0.5


def fit_logistic(design: Design, y: np.ndarray, C: float, *,
                 sample_weight: np.ndarray | None = None, tol: float = 1e-4,
                 max_iter: int = 100, init: LogisticFit | None = None) -> LogisticFit:
    """Fit an L2 logistic regression on ``[design.Xs, design.Xd]``.

    Parameters
    ----------
    design : Design
        The features: sparse columns, and a narrow dense block (its Hessian
        block, (m+1) x (m+1) with the intercept, is factorised every iteration).
    y : ndarray of shape (n,)
        0/1 labels.
    C : float
        Inverse regularisation strength, as in scikit-learn.
    sample_weight : ndarray, optional
        Per-sample weights (e.g. :func:`class_weights`); default all 1.
    tol : float
        Stop when the largest absolute component of the gradient is at most this.
    max_iter : int
        Newton iterations at most.
    init : LogisticFit, optional
        Start here: a warm start, e.g. from the fit for a neighbouring ``C``.

    Returns
    -------
    LogisticFit

    Examples
    --------
    >>> from scipy.sparse import csr_matrix
    >>> Xs = csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
    >>> d = Design.of(Xs, np.array([[0.5], [-0.5], [0.4], [-0.6]]))
    >>> fit = fit_logistic(d, np.array([1, 0, 1, 0]), C=10.0)
    >>> (fit.decision_function(d) > 0).astype(int).tolist()
    [1, 0, 1, 0]
    """
    # X^T r through the CSC view of Xs: faster than an explicit CSR transpose
    # (3.6 against 4.7 ms on PTC-2020 train), and nothing to build.
    Xs, XsT, Xd = design.Xs, design.Xs.T, design.Xd
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw = s / float(s.sum())  # the loss is a weighted mean
    lam = 1.0 / (C * float(s.sum()))
    p_dim = Xs.shape[1]
    m = Xd.shape[1]
    diag_idx = np.arange(m)

    if init is not None:
        ws = init.coef_sparse.astype(np.float64, copy=True)
        wd = init.coef_dense.astype(np.float64, copy=True)
        b = float(init.intercept)
    else:
        ws = np.zeros(p_dim)
        wd = np.zeros(m)
        # the intercept that fits the weighted base rate
        rate = float(np.clip(sw @ y, 1e-6, 1 - 1e-6))
        b = float(np.log(rate / (1 - rate)))

    def margins(vs: np.ndarray, vd: np.ndarray, vb: float) -> np.ndarray:
        return Xs @ vs + Xd @ vd + vb

    def objective(z: np.ndarray, vs: np.ndarray, vd: np.ndarray) -> float:
        return float(sw @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * lam * (float(vs @ vs) + float(vd @ vd))

    z = margins(ws, wd, b)
    f = objective(z, ws, wd)
    n_iter = 0
    while n_iter < max_iter:
        p = sigmoid(z)
        r = sw * (p - y)
        gs = XsT @ r + lam * ws
        gd = Xd.T @ r + lam * wd
        gb = float(r.sum())
        gmax = max(float(np.abs(gs).max(initial=0.0)), float(np.abs(gd).max(initial=0.0)), abs(gb))
        if gmax <= tol:
            break
        n_iter += 1
        h = sw * p * (1.0 - p)
        # Block preconditioner: the dense block (with the intercept) exactly, the
        # sparse columns by their diagonal.
        diag_s = design.Xs_sq.T @ h + lam
        Xh = Xd * np.sqrt(h)[:, None]
        B = np.empty((m + 1, m + 1))
        B[:m, :m] = Xh.T @ Xh
        B[:m, m] = B[m, :m] = Xd.T @ h
        B[m, m] = h.sum() + 1e-12
        B[diag_idx, diag_idx] += lam
        try:
            L = np.linalg.cholesky(B)
        except np.linalg.LinAlgError:
            L = np.linalg.cholesky(B + 1e-8 * np.eye(m + 1))

        def precondition(rs: np.ndarray, rd: np.ndarray, rb: float) -> tuple[np.ndarray, np.ndarray, float]:
            t = np.linalg.solve(L.T, np.linalg.solve(L, np.append(rd, rb)))
            return rs / diag_s, t[:m], float(t[m])

        def hessp(vs: np.ndarray, vd: np.ndarray, vb: float) -> tuple[np.ndarray, np.ndarray, float]:
            q = h * margins(vs, vd, vb)
            return XsT @ q + lam * vs, Xd.T @ q + lam * vd, float(q.sum())

        # Truncated preconditioned CG for the Newton direction (Nocedal & Wright,
        # algorithm 7.2), stopped when the residual is _FORCING of the gradient.
        gnorm = float(np.sqrt(gs @ gs + gd @ gd + gb * gb))
        eta = _FORCING * gnorm
        xs, xd, xb = np.zeros(p_dim), np.zeros(m), 0.0
        rs_, rd_, rb_ = -gs, -gd, -gb
        zs, zd, zb = precondition(rs_, rd_, rb_)
        ds, dd, db = zs.copy(), zd.copy(), zb
        rz = float(rs_ @ zs + rd_ @ zd + rb_ * zb)
        for _ in range(250):
            Hs, Hd, Hb = hessp(ds, dd, db)
            curv = float(ds @ Hs + dd @ Hd + db * Hb)
            if curv <= 0:
                break
            alpha = rz / curv
            xs += alpha * ds
            xd += alpha * dd
            xb += alpha * db
            rs_ -= alpha * Hs
            rd_ -= alpha * Hd
            rb_ -= alpha * Hb
            if float(np.sqrt(rs_ @ rs_ + rd_ @ rd_ + rb_ * rb_)) <= eta:
                break
            zs, zd, zb = precondition(rs_, rd_, rb_)
            rz_new = float(rs_ @ zs + rd_ @ zd + rb_ * zb)
            beta = rz_new / rz
            rz = rz_new
            ds = zs + beta * ds
            dd = zd + beta * dd
            db = zb + beta * db
        if not (xs.any() or xd.any() or xb):  # no curvature at all: steepest descent
            xs, xd, xb = -gs, -gd, -gb
        # Backtracking (Armijo) line search; the margins move linearly with the step.
        dz = margins(xs, xd, xb)
        slope = float(gs @ xs + gd @ xd + gb * xb)
        step = 1.0
        while True:
            z_new = z + step * dz
            f_new = objective(z_new, ws + step * xs, wd + step * xd)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        ws += step * xs
        wd += step * xd
        b += step * xb
        z, f = z_new, f_new
    return LogisticFit(ws, wd, b, n_iter)
