"""SentenceClassifier: the training recipe and its Detector as a scikit-learn estimator.

Imports scikit-learn, so ``propdetect`` imports this module only when
``propdetect.SentenceClassifier`` is first asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._config import TrainingConfig
from ._corpus import (
    GROUP_FIELDS,
    CorpusReport,
    _documents_from_records,
    _labels_of,
    _resolve_label,
    _stripped_bounds,
    warn_dropped,
)
from ._detector import CODEC, Detector
from ._pool import model_payload, worker_model
from ._frame import _plain, is_frame
from ._metrics import multilabel_scores
from ._taxonomy import TECHNIQUE_IDS

__all__ = ["SentenceClassifier"]

#: The TrainingConfig fields that are parameters of the estimator. The others
#: (``evidence_top``: how many evidence words ``detect`` reports) keep their defaults.
_CONFIG_PARAMS = ("C_grid", "class_weight", "min_df", "ngram_max", "max_features", "char_ngrams",
                  "char_min_df", "char_max_features", "dense_features", "vectors", "vector_weight",
                  "technique_vectors", "binary_head", "threshold_shrinkage", "cv_folds", "seed")

# The state key that holds the model, as the bytes of its pickle-free form, in a pickle.
_MODEL_STATE = "_detector_npz"


class SentenceClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label propaganda-technique classifier over raw sentences, for scikit-learn.

    ``fit`` trains with the recipe of :func:`propdetect.train` (a logistic
    regression per technique, C chosen by grouped cross-validation, Platt
    calibration, F1-optimal thresholds) and keeps the resulting
    :class:`~propdetect.Detector` as ``detector_``. Every sentence is scored
    alone, as :meth:`Detector.detect` scores a one-sentence text. Works with
    ``clone``, ``cross_val_score``, ``GridSearchCV`` and pipelines, and pickles
    (the model travels as arrays, never as a pickled Detector).

    Parameters
    ----------
    C_grid : float or tuple of float, default=(0.5, 2.0, 8.0)
        Inverse regularisation strength of the logistic regressions. A tuple is
        a grid: each technique keeps the value with the best out-of-fold F1. A
        single value fixes it, e.g. to tune it with ``GridSearchCV``.
    class_weight : {"balanced", None}, default="balanced"
        Reweight the rare positive sentences.
    min_df : int, default=2
        Keep word n-grams seen in at least this many training sentences.
    ngram_max : int, default=2
        Longest word n-gram.
    max_features : int or None, default=200000
        Keep at most this many word n-grams.
    char_ngrams : (int, int) or None, default=(3, 5)
        Lengths of character n-grams inside words.
    char_min_df : int, default=3
        Frequency cut-off of the character n-grams.
    char_max_features : int or None, default=150000
        Cap of the character n-grams.
    dense_features : bool, default=True
        Use the shape and context features (length, punctuation, capitals, ...).
    vectors : str or None, default="glove-6b-50d"
        Pretrained word vectors for sentence-vector features (the ones shipped
        with propdetect, a path to your own ``.npz``, or ``None``).
    vector_weight : float, default=1.0
        Weight of the sentence vectors relative to the n-grams.
    technique_vectors : {"cv", "always", "never"}, default="cv"
        Whether the technique heads see the sentence vectors too ("cv": chosen
        per technique by cross-validation).
    binary_head : bool, default=True
        A dedicated "any technique" head decides which sentences are flagged.
    threshold_shrinkage : float or tuple of float, default=(0, 0.25, 0.5, 0.75, 1)
        Candidate pulls of the per-technique thresholds toward a shared one,
        chosen by cross-fitted CV.
    cv_folds : int, default=5
        Folds of the internal, document-grouped cross-validation that chooses C
        and fits calibration and thresholds.
    seed : int, default=0
        Seed of the fold assignment: the same data and parameters give the same model.
    n_jobs : int, optional
        Techniques trained in parallel (joblib; ``-1``: every core). The model
        does not depend on it.

    Attributes
    ----------
    detector_ : Detector
        The trained model; ``detector_.detect(text)`` analyses whole texts.
    classes_ : ndarray of str
        The technique ids the model scores, in the order of the columns of
        :meth:`predict` and :meth:`predict_proba`. A technique with no positive
        example in the training data is left out of the model, and of ``classes_``.

    See Also
    --------
    propdetect.train : the same training, from labelled documents, to a Detector.

    Examples
    --------
    >>> from propdetect import SentenceClassifier
    >>> X = ["Traitors and thugs run this evil regime!", "The museum opens at nine.",
    ...      "Can we trust these so-called experts?", "The bridge reopens on Monday."] * 3
    >>> y = [["name calling"], [], ["Doubt"], []] * 3
    >>> clf = SentenceClassifier(min_df=1, cv_folds=3).fit(X, y)
    >>> list(clf.classes_)
    ['name_calling_labeling', 'doubt']
    >>> clf.predict(["Those evil thugs and traitors!", "Can we trust the experts?"])
    array([[1, 0],
           [0, 1]])
    >>> clf.predict_proba(["The museum opens at ten."]).round(2).shape
    (1, 2)

    The bundled model, as an estimator:

    >>> from propdetect import Detector
    >>> bundled = SentenceClassifier.from_detector(Detector.load())
    >>> bundled.predict_proba(["They are very cruel, they don't spare anyone."]).shape
    (1, 14)
    """

    def __init__(self, C_grid: float | tuple[float, ...] = (0.5, 2.0, 8.0),  # noqa: N803 -- TrainingConfig's name
                 class_weight: str | None = "balanced", min_df: int = 2, ngram_max: int = 2,
                 max_features: int | None = 200_000, char_ngrams: tuple[int, int] | None = (3, 5),
                 char_min_df: int = 3, char_max_features: int | None = 150_000,
                 dense_features: bool = True, vectors: str | None = "glove-6b-50d",
                 vector_weight: float = 1.0, technique_vectors: str = "cv",
                 binary_head: bool = True,
                 threshold_shrinkage: float | tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
                 cv_folds: int = 5, seed: int = 0, n_jobs: int | None = None) -> None:
        self.C_grid = C_grid
        self.class_weight = class_weight
        self.min_df = min_df
        self.ngram_max = ngram_max
        self.max_features = max_features
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.char_max_features = char_max_features
        self.dense_features = dense_features
        self.vectors = vectors
        self.vector_weight = vector_weight
        self.technique_vectors = technique_vectors
        self.binary_head = binary_head
        self.threshold_shrinkage = threshold_shrinkage
        self.cv_folds = cv_folds
        self.seed = seed
        self.n_jobs = n_jobs

    # -- construction from a model -----------------------------------------------------
    @classmethod
    def from_detector(cls, detector: Detector) -> SentenceClassifier:
        """A fitted estimator around an existing model, e.g. the bundled one.

        Its parameters are the model's training options, so that
        ``clone(est).fit(X, y)`` retrains with the model's recipe.

        Parameters
        ----------
        detector : Detector

        Returns
        -------
        SentenceClassifier
            Fitted: ``detector_`` is ``detector``, ``classes_`` its techniques.

        Examples
        --------
        >>> from propdetect import Detector, SentenceClassifier
        >>> est = SentenceClassifier.from_detector(Detector.load())
        >>> est.detector_ is Detector.load(), est.get_params()["char_ngrams"]
        (True, (3, 5))
        """
        if not isinstance(detector, Detector):
            raise TypeError(f"from_detector() takes a Detector, not {type(detector).__name__}")
        config = detector.metadata.get("config", {})
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in _CONFIG_PARAMS}
        est = cls(**params)
        est._set_detector(detector)
        return est

    def _set_detector(self, detector: Detector) -> None:
        self.detector_ = detector
        self.classes_ = np.array(detector.techniques, dtype=object)

    def _config(self) -> TrainingConfig:
        params = {k: getattr(self, k) for k in _CONFIG_PARAMS}
        c = params["C_grid"]
        params["C_grid"] = tuple(c) if isinstance(c, Iterable) else (c,)
        if params["char_ngrams"] is not None:
            params["char_ngrams"] = tuple(params["char_ngrams"])
        t = params["threshold_shrinkage"]
        params["threshold_shrinkage"] = tuple(t) if isinstance(t, Iterable) else (t,)
        return TrainingConfig(**params)

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, doc_ids: Sequence[Any] | None = None) -> SentenceClassifier:
        """Train on labelled sentences.

        Parameters
        ----------
        X : sequence of str, or pandas.DataFrame
            One sentence per sample. A DataFrame gives its ``text`` column, its
            ``techniques`` column when ``y`` is None, and its ``doc_id`` (or
            ``id``) column when ``doc_ids`` is None, as :func:`train` reads it.
        y : sequence of label lists, or indicator matrix of shape (n_samples, 14)
            Per sentence, a list of technique ids or of any name
            :func:`propdetect.technique` resolves (``[]`` for none; a string is
            split at ``;``); or a 0/1 matrix with one column per technique in
            :data:`propdetect.TECHNIQUE_IDS` order (a DataFrame of 0/1 columns
            may instead name its columns by technique). Labels with no
            counterpart among the 14 techniques are dropped, as in :func:`train`.
            In ``cross_val_score(..., cv=5)`` or ``GridSearchCV(..., cv=5)``, where
            scikit-learn picks the splitter by the type of ``y``, it refuses lists
            of label lists: pass an explicit splitter (``cv=KFold(5)``), a DataFrame
            ``X``, or the indicator matrix, e.g.
            ``MultiLabelBinarizer(classes=TECHNIQUE_IDS).fit_transform(y)``.
        doc_ids : sequence, optional
            The document each sentence comes from. Sentences of one document
            are trained as one article (context features) and stay in one fold
            of the internal cross-validation. By default each sentence is a
            document of its own.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            No ``y``, lengths that differ, an unknown label, a blank sentence
            (:class:`~propdetect.DataError`), bad parameters, or no technique
            with a positive example.
        """
        from ._train import fit_detector

        texts, labels = self._data(X, y)
        groups = self._doc_ids(X, doc_ids, len(texts))
        records = []
        for i, (text, labs, doc) in enumerate(zip(texts, labels, groups)):
            rec: dict[str, Any] = {"text": text, "techniques": sorted(labs)}
            if doc is not None:
                rec["doc_id"] = doc
            records.append((f"X[{i}]", rec))
        config = self._config()
        docs, report = _documents_from_records(records)
        detector = fit_detector(docs, config, n_jobs=self.n_jobs,
                                data_description=f"{report.documents} documents, {report.sentences} sentences "
                                                 f"given to SentenceClassifier.fit()")
        self._set_detector(detector)
        return self

    # -- prediction --------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probability of each technique in each sentence, scored alone.

        Parameters
        ----------
        X : sequence of str, or pandas.DataFrame with a ``text`` column

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``. Each row is what
            :meth:`Detector.detect` gives the sentence as a one-sentence text.
        """
        return self._proba(X)[0]

    def _proba(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Technique probabilities and, with an "any technique" head, the
        propaganda probability of each sentence, scored alone."""
        check_is_fitted(self)
        texts = _texts(X)
        det: Detector = self.detector_
        proba = np.zeros((len(texts), len(det.techniques)))
        p_any = np.zeros(len(texts)) if det.propaganda_threshold is not None else None
        for i, text in enumerate(texts):
            # The sentence training would have seen: surrounding whitespace removed.
            bounds = _stripped_bounds(text)
            sentence = text[bounds[0]:bounds[1]] if bounds else text
            p, pa, _ = det._score_block([sentence], None, 0)
            proba[i] = p[0]
            if p_any is not None and pa is not None:
                p_any[i] = pa[0]
        return proba, p_any

    def predict(self, X: Any) -> np.ndarray:
        """The techniques found in each sentence, as an indicator matrix.

        Returns
        -------
        ndarray of int of shape (n_samples, n_classes)
            The model's decisions, as in :meth:`Detector.detect`: with an "any
            technique" head, a sentence whose propaganda probability reaches its
            threshold names each technique that reaches its own threshold and at
            least the most likely one; columns as ``classes_``.
        """
        proba, p_any = self._proba(X)
        return self.detector_._decide(proba, p_any).astype(np.int64)

    def score(self, X: Any, y: Any = None) -> float:
        """Micro-averaged F1 of :meth:`predict` against ``y``.

        ``y`` takes the forms :meth:`fit` takes. Techniques the model left out
        count as never predicted, so their gold labels are misses.

        Returns
        -------
        float
            Micro-F1 over every (sentence, technique) decision; 0.0 when neither
            ``y`` nor the predictions hold a single technique.
        """
        texts, labels = self._data(X, y)
        gold = _indicator(labels)
        found = np.zeros_like(gold)
        columns = [TECHNIQUE_IDS.index(t) for t in self.classes_]
        found[:, columns] = self.predict(texts)
        return float(multilabel_scores(gold, found, TECHNIQUE_IDS)["micro_f1"])

    # -- input -------------------------------------------------------------------------
    def _data(self, X: Any, y: Any) -> tuple[list[str], list[frozenset[str]]]:
        if y is None:
            if is_frame(X) and "techniques" in X.columns:
                y = X["techniques"]
            else:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None "
                                 "(or pass a DataFrame X with a 'techniques' column)")
        texts = _texts(X)
        labels = _label_sets(y)
        if len(labels) != len(texts):
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{len(texts)}, {len(labels)}] (X, y)")
        return texts, labels

    @staticmethod
    def _doc_ids(X: Any, doc_ids: Sequence[Any] | None, n: int) -> list[Any]:
        if doc_ids is None and is_frame(X):
            # As train() reads a DataFrame: a row's doc_id, else its id.
            columns = [X[c].tolist() for c in GROUP_FIELDS if c in X.columns]
            if columns:
                doc_ids = [next((v for v in map(_plain, row) if v not in (None, "")), None) for row in zip(*columns)]
        if doc_ids is None:
            return [None] * n
        if isinstance(doc_ids, (str, bytes)):
            raise TypeError("doc_ids must hold one document id per sentence, not be one string")
        ids = [_plain(d) for d in doc_ids]
        if len(ids) != n:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n}, {len(ids)}] "
                             "(X, doc_ids)")
        return ids

    # -- scikit-learn and pickle -------------------------------------------------------
    def __sklearn_tags__(self):  # noqa: ANN204 -- sklearn.utils.Tags
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.two_d_labels = True
        tags.classifier_tags.multi_label = True
        return tags

    def __getstate__(self) -> dict[str, Any]:
        # A Detector holds read-only mappings that do not pickle; the model goes
        # into the pickle as the bytes of its pickle-free form (the one that
        # detect_many sends to its workers: NumPy arrays, JSON, text).
        state = dict(super().__getstate__())
        detector = state.pop("detector_", None)
        if detector is not None:
            _, blob = model_payload(detector, CODEC)
            state[_MODEL_STATE] = blob.tobytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        blob = state.pop(_MODEL_STATE, None)
        super().__setstate__(state)
        if blob is not None:
            array = np.frombuffer(blob, dtype=np.uint8)
            self.detector_ = worker_model("sha256:" + hashlib.sha256(array).hexdigest(), array, CODEC)


def _texts(X: Any) -> list[str]:
    """The sentences of ``X``: a sequence of str, a 1-d array or Series, or a DataFrame's ``text``."""
    if isinstance(X, (str, bytes)):
        raise TypeError("X must be a sequence of sentences, not a single string: wrap it in a list")
    if is_frame(X):
        if "text" not in X.columns:
            raise ValueError(f"a DataFrame X needs a 'text' column (found: {', '.join(map(str, X.columns))})")
        X = X["text"]
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise ValueError(f"X must be one-dimensional, one sentence per sample; got an array of shape "
                         f"{getattr(X, 'shape', '?')}")
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"X must hold sentences (str); X[{i}] is {type(text).__name__}")
    return [str(t) for t in texts]  # NumPy str_ -> str


def _is_indicator_row(row: Any) -> bool:
    return (isinstance(row, (list, tuple, np.ndarray)) and len(row) > 0
            and all(isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in row))


def _label_sets(y: Any) -> list[frozenset[str]]:
    """Per sample, the technique ids of ``y`` (label lists or an indicator matrix)."""
    if isinstance(y, (str, bytes)):
        raise TypeError("y must hold the labels of each sentence, not be one string")
    if hasattr(y, "toarray"):  # a SciPy sparse indicator matrix
        y = y.toarray()
    if is_frame(y):
        return _from_indicator(y.to_numpy(), [str(c) for c in y.columns])
    if isinstance(y, np.ndarray) and y.ndim == 2:
        return _from_indicator(y, None)
    rows = list(y)
    if rows and all(_is_indicator_row(r) for r in rows):
        return _from_indicator(np.asarray(rows), None)
    report = CorpusReport()  # labels with no counterpart are dropped, as train() drops them
    out = []
    for i, labels in enumerate(rows):
        labels = _plain(labels)
        out.append(_labels_of(labels, f"y[{i}]", report))
    warn_dropped(report, stacklevel=4)  # ... and reported, as train() does (stacklevel: fit's caller)
    return out


def _from_indicator(matrix: np.ndarray, names: list[str] | None) -> list[frozenset[str]]:
    if matrix.ndim != 2:
        raise ValueError(f"an indicator matrix y must be two-dimensional, got shape {matrix.shape}")
    if names is None:
        if matrix.shape[1] != len(TECHNIQUE_IDS):
            raise ValueError(
                f"an indicator matrix y needs one column per technique, in propdetect.TECHNIQUE_IDS order "
                f"({len(TECHNIQUE_IDS)} columns), got {matrix.shape[1]}; or pass a list of technique names "
                f"per sentence")
        ids: list[str | None] = list(TECHNIQUE_IDS)
    else:
        ids = [_resolve_label(n, f"y column {n!r}") for n in names]
    values = np.asarray(matrix, dtype=float)
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError("an indicator matrix y must hold only 0 and 1")
    return [frozenset(t for t, v in zip(ids, row) if v and t is not None) for row in values]


def _indicator(labels: Sequence[frozenset[str]]) -> np.ndarray:
    """Label sets -> 0/1 matrix with the 14 technique columns."""
    index = {t: k for k, t in enumerate(TECHNIQUE_IDS)}
    out = np.zeros((len(labels), len(TECHNIQUE_IDS)), dtype=np.int64)
    for i, labs in enumerate(labels):
        for t in labs:
            out[i, index[t]] = 1
    return out
