"""The metric code against cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from propdetect._metrics import best_threshold, multilabel_scores, prf

# Five sentences, three techniques. By hand:
#   a: tp=1 (row 0), fp=1 (row 2), fn=1 (row 1)  -> P=1/2, R=1/2, F1=1/2, support 2
#   b: tp=1 (row 1), fp=0,         fn=1 (row 3)  -> P=1,   R=1/2, F1=2/3, support 2
#   c: tp=0,         fp=1 (row 1), fn=0          -> P=0,   R=0,   F1=0,   support 0
#   micro: tp=2, fp=2, fn=2 -> P=R=F1=1/2
#   macro over techniques with support (a, b): (1/2 + 2/3) / 2 = 7/12
#   binary ("any"): gold rows {0,1,3}, predicted rows {0,1,2}: tp=2, fp=1, fn=1 -> P=R=F1=2/3
GOLD = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0]])
PRED = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_multilabel_scores_match_hand_computation():
    s = multilabel_scores(GOLD, PRED, ["a", "b", "c"])
    a, b, c = (s["per_technique"][t] for t in "abc")
    assert (a["precision"], a["recall"], a["f1"], a["support"]) == (0.5, 0.5, 0.5, 2)
    assert (b["precision"], b["recall"], b["support"]) == (1.0, 0.5, 2)
    assert b["f1"] == pytest.approx(2 / 3)
    assert (c["precision"], c["recall"], c["f1"], c["support"], c["predicted"]) == (0, 0, 0, 0, 1)
    assert (s["micro_precision"], s["micro_recall"], s["micro_f1"]) == (0.5, 0.5, 0.5)
    assert s["macro_f1"] == pytest.approx(7 / 12)  # c (no support) is left out of the mean
    assert s["binary_precision"] == pytest.approx(2 / 3)
    assert s["binary_recall"] == pytest.approx(2 / 3)
    assert s["binary_f1"] == pytest.approx(2 / 3)
    assert s["sentences"] == 5


def test_multilabel_scores_agree_with_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = rng.random((200, 4)) < 0.2
    p = rng.random((200, 4)) < 0.25
    s = multilabel_scores(y, p, list("wxyz"))
    assert s["micro_f1"] == pytest.approx(f1_score(y, p, average="micro"))
    assert s["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert s["binary_f1"] == pytest.approx(f1_score(y.any(1), p.any(1)))


def test_nothing_predicted_and_nothing_gold_give_zero_not_nan():
    s = multilabel_scores(np.zeros((3, 2)), np.zeros((3, 2)), ["a", "b"])
    assert (s["micro_f1"], s["macro_f1"], s["binary_f1"]) == (0.0, 0.0, 0.0)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        multilabel_scores(np.zeros((3, 2)), np.zeros((2, 2)), ["a", "b"])


def test_prf_by_hand():
    assert prf(3, 1, 2) == pytest.approx((0.75, 0.6, 2 * 0.75 * 0.6 / 1.35))
    assert prf(0, 4, 0) == (0.0, 0.0, 0.0)


def test_best_threshold_picks_the_best_cut_between_distinct_scores():
    # Sorted scores 0.9(+) 0.7(-) 0.6(+) 0.2(-): cuts give F1 2/3, 1/2, 4/5, 2/3 -> cut after 0.6.
    thr, f1 = best_threshold(np.array([0.2, 0.9, 0.6, 0.7]), np.array([0, 1, 1, 0]))
    assert f1 == pytest.approx(0.8)
    assert thr == pytest.approx(0.4)
    # Ties cannot be split: both 0.5s are in or out together.
    thr, f1 = best_threshold(np.array([0.5, 0.5, 0.1]), np.array([1, 0, 0]))
    assert f1 == pytest.approx(2 / 3) and thr == pytest.approx(0.3)
