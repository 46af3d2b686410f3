"""scikit-learn's estimator checks, where they apply to an estimator over raw sentences.

scikit-learn's common checks feed estimators numeric 2-D arrays (``make_blobs``,
``iris``), and ``parametrize_with_checks`` runs none of them on an estimator whose
``input_tags.two_d_array`` is False, as for its own text vectorizers. As
scikit-learn-contrib projects do, every check it would run on a multi-label
classifier is accounted for here, in one of three lists:

- ``RUN``: the check runs unchanged on SentenceClassifier;
- ``ON_SENTENCES``: the check's data is numeric, so the property it checks is
  tested here on sentences instead (the functions below, named after it);
- ``SKIPPED``: the check is about something a text estimator does not have
  (numeric dtypes, sparse or memory-mapped X, n_features_in_, ...), with the reason.

``test_every_check_is_accounted_for`` asks scikit-learn for the list of checks, so
a check added by a new scikit-learn release fails it until it is placed.
"""

from __future__ import annotations

import inspect
import pickle
from functools import partial

import joblib
import numpy as np
import pytest
import scipy.sparse
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.validation import check_is_fitted

from propdetect import SentenceClassifier
from tests.test_estimator import PARAMS, PROBES, X, Y, indicator

RUN = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_requires_y_none",
]

_TEXT = "X is raw text"
SKIPPED = {
    "check_estimators_dtypes": f"numeric dtypes of X (float32, int32, ...); {_TEXT}",
    "check_complex_data": f"complex numbers in X; {_TEXT} (a non-str item is a TypeError: test_estimator)",
    "check_dtype_object": f"object arrays of numbers as features; {_TEXT}",
    "check_estimators_nan_inf": f"NaN and inf in X; {_TEXT}",
    "check_estimator_sparse_tag": f"sparse X; {_TEXT}",
    "check_estimator_sparse_array": f"sparse X; {_TEXT}",
    "check_estimator_sparse_matrix": f"sparse X; {_TEXT}",
    "check_array_api_input": f"Array API namespaces for X; {_TEXT}",
    "check_f_contiguous_array_estimator": f"memory layout of a numeric X; {_TEXT}",
    "check_readonly_memmap_input": f"memory-mapped numeric X; {_TEXT}",
    "check_positive_only_tag_during_fit": f"negative values in X; {_TEXT}",
    "check_n_features_in": f"n_features_in_ counts the columns of a numeric X; {_TEXT} "
                           "(scikit-learn's text vectorizers have none either)",
    "check_n_features_in_after_fitting": "n_features_in_, as above",
    "check_fit1d": f"1-D numeric X must be refused; here 1-D is the shape of the input: {_TEXT}",
    "check_fit2d_1sample": f"2-D numeric X with one row; {_TEXT}",
    "check_fit2d_1feature": f"2-D numeric X with one column; {_TEXT}",
    "check_fit2d_predict1d": f"2-D numeric X at fit, 1-D at predict; {_TEXT}",
    "check_classifiers_one_label": "a single class of a binary/multiclass y; this is multi-label: a technique "
                                   "with no positive example is left out (test_estimator)",
    "check_classifiers_classes": "classes_ learnt from a 1-D multiclass y; here classes_ are the technique ids "
                                 "the model scores (test_estimator)",
    "check_classifiers_regression_target": "a continuous 1-D y; y holds technique names or a 0/1 matrix, and "
                                           "anything else is a DataError (test_estimator)",
    "check_supervised_y_2d": "the warning for a column-vector multiclass y; y is multi-label",
    "check_supervised_y_no_nan": "y full of NaN: a missing label cell (NaN, None) means 'no technique', as in "
                                 "a DataFrame; with no positive example at all fit raises ValueError "
                                 "(test_estimator)",
    "check_class_weight_classifiers": "class_weight as a dict per class of a multiclass y; here 'balanced' or "
                                      "None per technique, as in TrainingConfig",
    "check_classifiers_multilabel_output_format_decision_function": "no decision_function",
    "check_decision_proba_consistency": "no decision_function",
    "check_non_transformer_estimators_n_iter": "no max_iter parameter",
    "check_estimators_partial_fit_n_features": "no partial_fit",
    "check_classifiers_one_label_sample_weights": "fit takes no sample_weight",
}


@pytest.fixture(scope="module")
def fitted() -> SentenceClassifier:
    return SentenceClassifier(**PARAMS).fit(X, Y)


# -- the checks' properties, on sentences ---------------------------------------------------
def check_fit_score_takes_y(_fitted):
    for method in (SentenceClassifier.fit, SentenceClassifier.score):
        assert list(inspect.signature(method).parameters)[1:3] == ["X", "y"]


def check_estimators_overwrite_params(_fitted):
    clf = SentenceClassifier(**PARAMS)
    before = joblib.hash(clf.get_params())
    clf.fit(X, Y)
    assert joblib.hash(clf.get_params()) == before


def check_dont_overwrite_parameters(_fitted):
    clf = SentenceClassifier(**PARAMS)
    before = dict(vars(clf))
    clf.fit(X, Y)
    added = set(vars(clf)) - set(before)
    assert added and all(a.endswith("_") and not a.startswith("_") for a in added)
    assert all(vars(clf)[k] is v for k, v in before.items())


def check_estimators_fit_returns_self(_fitted):
    clf = SentenceClassifier(**PARAMS)
    assert clf.fit(X, Y) is clf


def check_estimators_empty_data_messages(fitted):
    with pytest.raises(ValueError, match="no records"):
        SentenceClassifier(**PARAMS).fit([], [])
    assert fitted.predict_proba([]).shape == (0, len(fitted.classes_))


def check_pipeline_consistency(fitted):
    pipe = make_pipeline(SentenceClassifier(**PARAMS)).fit(X, Y)
    np.testing.assert_array_equal(pipe.predict_proba(PROBES), fitted.predict_proba(PROBES))
    assert pipe.score(X, Y) == fitted.score(X, Y)


def check_estimators_pickle(fitted):
    again = pickle.loads(pickle.dumps(fitted))
    for method in ("predict", "predict_proba"):
        np.testing.assert_array_equal(getattr(again, method)(PROBES), getattr(fitted, method)(PROBES))


def check_classifier_data_not_an_array(fitted):
    pd = pytest.importorskip("pandas")
    expected = fitted.predict_proba(PROBES)
    for probes in (tuple(PROBES), np.array(PROBES), np.array(PROBES, dtype=object), pd.Series(PROBES)):
        np.testing.assert_array_equal(fitted.predict_proba(probes), expected)
    again = SentenceClassifier(**PARAMS).fit(np.array(X, dtype=object), pd.Series(Y))
    np.testing.assert_array_equal(again.predict_proba(PROBES), expected)


def check_classifiers_train(fitted):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SentenceClassifier(**PARAMS).fit(X[:-1], Y)
    assert fitted.predict(X).shape == (len(X), len(fitted.classes_))
    assert fitted.score(X, Y) > 0.9  # the training sentences themselves


def check_classifiers_multilabel_representation_invariance(fitted):
    expected = fitted.predict_proba(PROBES)
    for y in (indicator(Y), indicator(Y).tolist(), scipy.sparse.csr_matrix(indicator(Y))):
        np.testing.assert_array_equal(SentenceClassifier(**PARAMS).fit(X, y).predict_proba(PROBES), expected)


def check_classifiers_multilabel_output_format_predict(fitted):
    found = fitted.predict(PROBES)
    assert isinstance(found, np.ndarray) and found.shape == (len(PROBES), len(fitted.classes_))
    assert found.dtype.kind == "i" and set(np.unique(found)) <= {0, 1}


def check_classifiers_multilabel_output_format_predict_proba(fitted):
    proba = fitted.predict_proba(PROBES)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(PROBES), len(fitted.classes_))
    assert proba.dtype == np.float64 and ((0 <= proba) & (proba <= 1)).all()


def check_methods_sample_order_invariance(fitted):
    order = np.random.default_rng(0).permutation(len(X))
    shuffled = [X[i] for i in order]
    for method in ("predict", "predict_proba"):
        np.testing.assert_array_equal(getattr(fitted, method)(shuffled), getattr(fitted, method)(X)[order])


def check_methods_subset_invariance(fitted):
    for method in ("predict", "predict_proba"):
        whole = getattr(fitted, method)(X)
        parts = np.vstack([getattr(fitted, method)(X[i : i + 5]) for i in range(0, len(X), 5)])
        np.testing.assert_array_equal(parts, whole)


def check_dict_unchanged(fitted):
    before = dict(vars(fitted))
    fitted.predict(PROBES), fitted.predict_proba(PROBES), fitted.score(X, Y)
    assert vars(fitted).keys() == before.keys() and all(vars(fitted)[k] is v for k, v in before.items())


def check_fit_idempotent(fitted):
    clf = SentenceClassifier(**PARAMS).fit(X, Y)
    first = clf.predict_proba(PROBES)
    np.testing.assert_array_equal(clf.fit(X, Y).predict_proba(PROBES), first)
    np.testing.assert_array_equal(first, fitted.predict_proba(PROBES))


def check_fit_check_is_fitted(_fitted):
    clf = SentenceClassifier(**PARAMS)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(clf)
    check_is_fitted(clf.fit(X, Y))


ON_SENTENCES = {name: func for name, func in globals().items()
                if name.startswith("check_") and getattr(func, "__module__", None) == __name__}


# -- the tests -------------------------------------------------------------------------------
def _check_name(check) -> str:
    while hasattr(check, "__wrapped__"):
        check = check.__wrapped__
    return check.func.__name__ if isinstance(check, partial) else check.__name__


class _AsIfTwoD(SentenceClassifier):
    """Only to ask scikit-learn which checks it would run on this kind of classifier."""

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags


# Placed checks that the oldest supported scikit-learn (1.6.0, constraints/oldest.txt) does
# not run yet on this kind of estimator.
NEWER_CHECKS = {"check_estimator_sparse_tag", "check_array_api_input"}


def test_every_check_is_accounted_for():
    names = {_check_name(c) for _, c in estimator_checks.estimator_checks_generator(_AsIfTwoD(), legacy=True)}
    assert len(names) > 50
    placed = [*RUN, *ON_SENTENCES, *SKIPPED]
    assert len(placed) == len(set(placed)), "a check is in two lists"
    assert names <= set(placed), f"checks no list places: {sorted(names - set(placed))}"
    assert set(placed) - names <= NEWER_CHECKS, f"checks scikit-learn no longer runs: {set(placed) - names}"


@pytest.mark.parametrize("name", RUN)
def test_sklearn_check(name):
    getattr(estimator_checks, name)("SentenceClassifier", SentenceClassifier(**PARAMS))


@pytest.mark.parametrize("name", sorted(ON_SENTENCES))
def test_sklearn_check_on_sentences(name, fitted):
    ON_SENTENCES[name](fitted)


def test_tags_say_text_in_multi_label_out():
    from sklearn.utils import get_tags

    tags = get_tags(SentenceClassifier())
    assert tags.estimator_type == "classifier" and tags.classifier_tags.multi_label
    assert tags.input_tags.string and tags.input_tags.one_d_array and not tags.input_tags.two_d_array
