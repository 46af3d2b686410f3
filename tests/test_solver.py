"""The training solver (propdetect/_solver.py) against scikit-learn's optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix, random as sparse_random
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight

from propdetect._solver import Design, LogisticFit, class_weights, fit_logistic


def _problem(seed: int = 0, n: int = 400, p: int = 300, m: int = 12, rate: float = 0.15):
    rng = np.random.default_rng(seed)
    Xs = sparse_random(n, p, density=0.05, random_state=seed, format="csr")
    base = rng.normal(size=(n, 3))
    # correlated dense columns, like mean/max/SIF pooling of the same vectors
    Xd = np.hstack([base + 0.1 * rng.normal(size=(n, 3)) for _ in range(m // 3)])
    w = rng.normal(size=p) * (rng.random(p) < 0.1) * 4
    z = Xs @ w + Xd[:, 0] + np.log(rate / (1 - rate))
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return Xs, Xd, y


@pytest.mark.parametrize("C", [0.1, 2.0, 50.0])
@pytest.mark.parametrize("balanced", [True, False])
def test_same_optimum_as_scikit_learn(C, balanced):
    Xs, Xd, y = _problem()
    cw = "balanced" if balanced else None
    ref = LogisticRegression(C=C, class_weight=cw, solver="newton-cg", tol=1e-10, max_iter=1000)
    from scipy.sparse import hstack

    ref.fit(hstack([Xs, csr_matrix(Xd)], format="csr"), y)
    fit = fit_logistic(Design.of(Xs, Xd), y, C, sample_weight=class_weights(y, cw), tol=1e-9)
    ours = np.concatenate([fit.coef_sparse, fit.coef_dense])
    np.testing.assert_allclose(ours, ref.coef_[0], atol=1e-5 * max(1.0, np.abs(ref.coef_).max()))
    assert fit.intercept == pytest.approx(ref.intercept_[0], abs=1e-5)


def test_looser_tolerance_stops_earlier_and_warm_start_at_the_optimum_does_nothing():
    Xs, Xd, y = _problem(seed=1)
    d = Design.of(Xs, Xd)
    sw = class_weights(y)
    tight = fit_logistic(d, y, 2.0, sample_weight=sw, tol=1e-8)
    loose = fit_logistic(d, y, 2.0, sample_weight=sw, tol=1e-2)
    assert loose.n_iter < tight.n_iter
    again = fit_logistic(d, y, 2.0, sample_weight=sw, tol=1e-6, init=tight)
    assert again.n_iter == 0
    np.testing.assert_array_equal(again.coef_sparse, tight.coef_sparse)


def test_rows_and_dense_columns_are_the_same_as_building_from_the_subsets():
    Xs, Xd, y = _problem(seed=2)
    d = Design.of(Xs, Xd)
    mask = np.arange(len(y)) % 3 != 0
    cols = np.array([0, 2, 5])
    a = fit_logistic(d.rows(mask).dense_columns(cols), y[mask], 1.0, tol=1e-8)
    b = fit_logistic(Design.of(Xs[mask], Xd[mask][:, cols]), y[mask], 1.0, tol=1e-8)
    np.testing.assert_allclose(a.coef_dense, b.coef_dense)
    assert a.coef_dense.shape == (3,)
    z = a.decision_function(d.rows(~mask).dense_columns(cols))
    assert z.shape == ((~mask).sum(),)


def test_no_dense_columns_and_separable_data():
    Xs = csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]] * 5))
    y = np.array([1, 0] * 5)
    fit = fit_logistic(Design.of(Xs, np.zeros((10, 0))), y, C=1e4, tol=1e-6)
    assert isinstance(fit, LogisticFit)
    z = fit.decision_function(Design.of(Xs, np.zeros((10, 0))))
    assert np.all(np.isfinite(z)) and np.all((z > 0) == (y == 1))


def test_class_weights_are_scikit_learns_balanced():
    y = np.array([0, 0, 0, 1, 0, 1, 0, 0])
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)[y]
    np.testing.assert_allclose(class_weights(y), expected)
    np.testing.assert_array_equal(class_weights(y, None), np.ones(len(y)))
    np.testing.assert_array_equal(class_weights(np.zeros(4, dtype=int)), np.full(4, 0.5))
    with pytest.raises(ValueError, match="balanced"):
        class_weights(y, "auto")
