"""SentenceClassifier: the scikit-learn contract on a tiny labelled set (clone, cross_val_score,
GridSearchCV, pickle), its agreement with Detector, and the bundled model as an estimator."""

from __future__ import annotations

import pickle
import pickletools
import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import propdetect
from propdetect import DataError, Detector, SentenceClassifier
from propdetect._config import TrainingConfig
from tests.conftest import _DOCS, ROOT

X = [s for doc in _DOCS for s, _ in doc]
Y = [sorted(labels) for doc in _DOCS for _, labels in doc]
DOC_IDS = [f"doc{i}" for i, doc in enumerate(_DOCS) for _ in doc]
PARAMS = {"min_df": 1, "cv_folds": 3, "C_grid": 4.0}  # as TINY_CONFIG: fast on 24 sentences
PROBES = ["These evil traitors and thugs are destroying our nation!", "The council meets on Tuesday.",
          "Can we really trust these so-called experts?", "Our proud nation and our flag will never bow."]


def indicator(labels) -> np.ndarray:
    return np.array([[int(t in labs) for t in propdetect.TECHNIQUE_IDS] for labs in labels])


@pytest.fixture(scope="module")
def fitted() -> SentenceClassifier:
    return SentenceClassifier(**PARAMS).fit(X, Y)


# -- the estimator contract ------------------------------------------------------------
def test_parameters_are_stored_as_given_and_mirror_training_config():
    clf = SentenceClassifier(C_grid=(1.0, 2.0), min_df=3, n_jobs=2)
    params = clf.get_params()
    assert params["C_grid"] == (1.0, 2.0) and params["min_df"] == 3 and params["n_jobs"] == 2
    assert clf.set_params(C_grid=0.5) is clf and clf.C_grid == 0.5
    assert is_classifier(clf)
    defaults = TrainingConfig()
    config_fields = {f.name for f in fields(TrainingConfig)}
    for name, value in SentenceClassifier().get_params().items():
        if name != "n_jobs":
            assert name in config_fields and getattr(defaults, name) == value, name  # same recipe as train()


def test_fit_returns_self_sets_fitted_attributes_and_leaves_parameters_alone():
    clf = SentenceClassifier(**PARAMS)
    with pytest.raises(NotFittedError):
        clf.predict(PROBES)
    before = clf.get_params()
    assert clf.fit(X, Y) is clf
    assert clf.get_params() == before
    assert isinstance(clf.detector_, Detector)
    assert list(clf.classes_) == list(clf.detector_.techniques)
    assert not hasattr(clone(clf), "detector_")  # clone: same parameters, not fitted
    assert clone(clf).get_params() == before


def test_predictions_score_each_sentence_alone_as_detect_does(fitted):
    proba = fitted.predict_proba(PROBES)
    assert proba.shape == (len(PROBES), len(fitted.classes_))
    assert ((0 <= proba) & (proba <= 1)).all()
    for row, sentence in zip(proba, PROBES):
        alone = fitted.detector_.detect(sentence).sentences[0]
        np.testing.assert_allclose(row, [alone.scores[t] for t in fitted.classes_], rtol=0, atol=1e-12)
    # a batch is the same as one sentence at a time (no context from the other sentences)
    np.testing.assert_array_equal(proba[1:2], fitted.predict_proba(PROBES[1:2]))
    found = fitted.predict(PROBES)
    assert found.dtype.kind == "i" and found.shape == proba.shape
    for row, sentence in zip(found, PROBES):
        techniques = fitted.detector_.detect(sentence).sentences[0].techniques
        assert {t for t, v in zip(fitted.classes_, row) if v} == set(techniques)
    column = {t: k for k, t in enumerate(fitted.classes_)}
    assert found[2, column["doubt"]] == 1 and found[3, column["flag_waving"]] == 1 and not found[1].any()
    # whitespace around a sentence is not part of it, as in training and detect()
    np.testing.assert_array_equal(fitted.predict_proba(["  " + PROBES[0] + "\n"]), proba[:1])


def test_label_lists_names_indicator_matrix_and_dataframe_train_the_same_model(fitted):
    expected = fitted.predict_proba(PROBES)
    by_name = [[propdetect.technique(t).name for t in labs] for labs in Y]  # "Doubt", "Flag-waving", ...
    as_matrix = indicator(Y)
    for y in (by_name, as_matrix, as_matrix.tolist(), [";".join(labs) for labs in Y]):
        np.testing.assert_array_equal(SentenceClassifier(**PARAMS).fit(X, y).predict_proba(PROBES), expected)
    pd = pytest.importorskip("pandas")
    named = pd.DataFrame(as_matrix, columns=[propdetect.technique(t).name for t in propdetect.TECHNIQUE_IDS])
    np.testing.assert_array_equal(SentenceClassifier(**PARAMS).fit(X, named).predict_proba(PROBES), expected)
    frame = pd.DataFrame({"text": X, "techniques": Y})
    from_frame = SentenceClassifier(**PARAMS).fit(frame)
    np.testing.assert_array_equal(from_frame.predict_proba(pd.DataFrame({"text": PROBES})), expected)
    assert from_frame.score(frame) == fitted.score(X, Y)


def test_documents_from_doc_ids_or_a_dataframe_column():
    alone = SentenceClassifier(**PARAMS).fit(X, Y)
    grouped = SentenceClassifier(**PARAMS).fit(X, Y, doc_ids=DOC_IDS)
    assert alone.detector_.metadata["training_data"]["documents"] == len(X)  # each sentence a document
    assert grouped.detector_.metadata["training_data"]["documents"] == len(_DOCS)
    pd = pytest.importorskip("pandas")
    frame = SentenceClassifier(**PARAMS).fit(pd.DataFrame({"doc_id": DOC_IDS, "text": X, "techniques": Y}))
    assert frame.detector_.metadata["training_data"]["digest"] == grouped.detector_.metadata["training_data"]["digest"]
    np.testing.assert_array_equal(frame.predict_proba(PROBES), grouped.predict_proba(PROBES))
    # as in train(): a row's doc_id, else its id; the same documents as train() of that DataFrame
    mixed = pd.DataFrame({"doc_id": [None] * 4 + DOC_IDS[4:], "id": DOC_IDS, "text": X, "techniques": Y})
    by_id = SentenceClassifier(**PARAMS).fit(mixed)
    assert by_id.detector_.metadata["training_data"]["digest"] == grouped.detector_.metadata["training_data"]["digest"]
    assert propdetect.train(mixed, by_id._config()).metadata["training_data"]["digest"] == \
        grouped.detector_.metadata["training_data"]["digest"]


def test_a_technique_without_positive_example_is_left_out_consistently(fitted):
    assert "repetition" not in fitted.classes_ and "doubt" in fitted.classes_
    assert fitted.predict(PROBES).shape[1] == len(fitted.classes_) == 4
    # score: gold labels of a technique the model cannot predict count as misses
    gold = [["doubt"], [], ["doubt"], ["flag_waving"]]
    predicted = fitted.predict(PROBES)
    with_left_out = [labs + ["repetition"] for labs in gold]
    assert fitted.score(PROBES, with_left_out) < fitted.score(PROBES, gold)
    full = np.zeros((len(PROBES), 14), dtype=int)
    full[:, [propdetect.TECHNIQUE_IDS.index(t) for t in fitted.classes_]] = predicted
    assert fitted.score(PROBES, with_left_out) == pytest.approx(
        f1_score(indicator(with_left_out), full, average="micro"))


def test_score_is_micro_f1(fitted):
    gold = [["loaded_language", "name_calling_labeling"], [], ["doubt"], ["slogans"]]
    full = np.zeros((len(PROBES), 14), dtype=int)
    full[:, [propdetect.TECHNIQUE_IDS.index(t) for t in fitted.classes_]] = fitted.predict(PROBES)
    expected = f1_score(indicator(gold), full, average="micro")
    assert 0 < expected < 1 and fitted.score(PROBES, gold) == pytest.approx(expected)
    assert fitted.score(PROBES[1:2], [[]]) == 0.0  # nothing to find, nothing found: no warning, 0.0


@pytest.mark.parametrize("call, error, message", [
    (lambda c: c.fit(X, None), ValueError, "requires y to be passed, but the target y is None"),
    (lambda c: c.fit("one sentence", [[]]), TypeError, "not a single string"),
    (lambda c: c.fit(X, Y[:-1]), ValueError, r"inconsistent numbers of samples: \[24, 23\]"),
    (lambda c: c.fit(X, Y, doc_ids=DOC_IDS[:3]), ValueError, r"inconsistent numbers of samples: \[24, 3\]"),
    (lambda c: c.fit(X, indicator(Y)[:, :5]), ValueError, "one column per technique"),
    (lambda c: c.fit(X, indicator(Y) * 2), ValueError, "only 0 and 1"),
    (lambda c: c.fit(X[:-1] + [3.5], Y), TypeError, r"X\[23\] is float"),
    (lambda c: c.fit(X[:-1] + ["  "], Y), DataError, r"X\[23\]: 'text' must be a non-empty string"),
    (lambda c: c.fit(X, Y[:-1] + [["Telepathy"]]), DataError, r"y\[23\]: unknown technique label 'Telepathy'"),
    (lambda c: c.fit(np.array([X, X]), Y), ValueError, "one-dimensional"),
    (lambda c: c.set_params(cv_folds=1).fit(X, Y), ValueError, "cv_folds must be >= 2"),
    (lambda c: c.fit(X, [[]] * len(X)), ValueError, "no technique has a positive example"),
])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(SentenceClassifier(**PARAMS))


# -- model selection on a tiny labelled set ---------------------------------------------
class _Recording(SentenceClassifier):
    """Notes how many documents each fit was given."""

    documents: list[int] = []

    def fit(self, X, y=None, *, doc_ids=None):  # noqa: ANN001, ANN201
        result = super().fit(X, y, doc_ids=doc_ids)
        self.documents.append(result.detector_.metadata["training_data"]["documents"])
        return result


def test_clone_and_cross_val_score():
    clf = SentenceClassifier(**PARAMS)
    scores = cross_val_score(clf, X, indicator(Y), cv=3)
    assert scores.shape == (3,) and ((0 < scores) & (scores <= 1)).all()
    assert not hasattr(clf, "detector_")  # cross_val_score fits clones
    # same data, same folds, same seed: the same scores
    np.testing.assert_array_equal(cross_val_score(clf, X, indicator(Y), cv=3), scores)
    # label lists with an explicit splitter; documents kept together by groups, and passed on to fit
    _Recording.documents = []
    grouped = cross_val_score(_Recording(**PARAMS), X, Y, cv=GroupKFold(3), groups=DOC_IDS,
                              params={"doc_ids": DOC_IDS})
    assert grouped.shape == (3,) and (grouped > 0).all()
    assert _Recording.documents == [4, 4, 4]  # 6 documents, 2 held out per fold
    # scikit-learn refuses lists of label lists when it picks the splitter itself (cv=3): its own rule
    with pytest.raises(ValueError, match="legacy multi-label data representation"):
        cross_val_score(clf, X, Y, cv=3)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": X, "techniques": Y})
    np.testing.assert_array_equal(cross_val_score(clf, frame, cv=3), scores)  # a DataFrame carries y


def test_grid_search_over_the_regularisation():
    search = GridSearchCV(SentenceClassifier(min_df=1, cv_folds=3),
                          {"C_grid": [0.01, 4.0], "class_weight": ["balanced"]}, cv=KFold(3))
    search.fit(X, indicator(Y))
    assert list(search.cv_results_["param_C_grid"]) == [0.01, 4.0]
    assert search.best_params_["C_grid"] in (0.01, 4.0)
    assert isinstance(search.best_estimator_.detector_, Detector)
    assert search.best_estimator_.detector_.metadata["config"]["C_grid"] == [search.best_params_["C_grid"]]
    assert search.score(PROBES, [["loaded_language", "name_calling_labeling"], [], ["doubt"],
                                 ["flag_waving"]]) > 0


def test_fitted_estimators_come_back_from_worker_processes():
    from sklearn.model_selection import cross_validate

    serial = cross_validate(SentenceClassifier(**PARAMS), X, indicator(Y), cv=3)
    parallel = cross_validate(SentenceClassifier(**PARAMS), X, indicator(Y), cv=3, n_jobs=2, return_estimator=True)
    np.testing.assert_array_equal(parallel["test_score"], serial["test_score"])
    for est in parallel["estimator"]:  # pickled in a worker, unpickled here
        assert isinstance(est.detector_, Detector) and est.predict(PROBES).shape == (4, len(est.classes_))


# -- pickle: for users who pickle their own pipelines ------------------------------------
def _globals_in(data: bytes) -> set[str]:
    names, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            names.add(".".join(strings[-2:]))
        elif op.name == "GLOBAL":
            names.add(arg.replace(" ", "."))
    return names


def test_pickle_round_trip_without_pickling_the_detector(fitted):
    data = pickle.dumps(fitted)
    assert not any("Detector" in name or "_detector" in name for name in _globals_in(data))
    again = pickle.loads(data)
    np.testing.assert_array_equal(again.predict_proba(PROBES), fitted.predict_proba(PROBES))
    assert again.get_params() == fitted.get_params() and list(again.classes_) == list(fitted.classes_)
    unfitted = pickle.loads(pickle.dumps(SentenceClassifier(**PARAMS)))
    assert not hasattr(unfitted, "detector_") and unfitted.get_params() == SentenceClassifier(**PARAMS).get_params()


def _lower(texts):
    return [t.lower() for t in texts]


def test_a_pickled_pipeline_predicts_the_same_in_a_fresh_process(fitted, tmp_path):
    pipe = make_pipeline(FunctionTransformer(_lower), SentenceClassifier(**PARAMS)).fit(X, Y)
    path = tmp_path / "pipe.pkl"
    path.write_bytes(pickle.dumps(pipe))
    code = ("import pickle, sys, json; pipe = pickle.load(open(sys.argv[1], 'rb')); "
            "print(json.dumps(pipe.predict_proba(json.loads(sys.argv[2])).tolist()))")
    out = subprocess.run([sys.executable, "-c", code, str(path), __import__("json").dumps(PROBES)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    np.testing.assert_allclose(np.array(__import__("json").loads(out.stdout)), pipe.predict_proba(PROBES),
                               rtol=0, atol=1e-12)


# -- the bundled model as an estimator -----------------------------------------------------
def test_from_detector_wraps_the_bundled_model():
    det = Detector.load()
    est = SentenceClassifier.from_detector(det)
    assert est.detector_ is det
    assert list(est.classes_) == list(propdetect.TECHNIQUE_IDS)
    config = det.metadata["config"]
    assert est.get_params()["char_ngrams"] == tuple(config["char_ngrams"])
    assert est.get_params()["C_grid"] == tuple(config["C_grid"])
    sentence = "They are very cruel, they don't spare anyone."
    alone = propdetect.detect(sentence).sentences[0]
    np.testing.assert_allclose(est.predict_proba([sentence])[0], list(alone.scores.values()), rtol=0, atol=1e-12)
    assert {t for t, v in zip(est.classes_, est.predict([sentence])[0]) if v} == set(alone.techniques)
    assert alone.techniques  # the bundled model flags this sentence
    # clone: the model's recipe, not its weights
    recipe = clone(est)
    assert not hasattr(recipe, "detector_") and recipe.get_params() == est.get_params()
    with pytest.raises(TypeError, match="takes a Detector"):
        SentenceClassifier.from_detector("ptc2020")


def test_sklearn_is_imported_only_when_the_estimator_is_asked_for():
    code = ("import sys, propdetect; before = 'sklearn' in sys.modules; "
            "propdetect.SentenceClassifier; print(before, 'sklearn' in sys.modules, "
            "'SentenceClassifier' in dir(propdetect))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True", "True"]
