"""Training: labelled documents -> a :class:`~propdetect.Detector`.

Imports scikit-learn and SciPy, so it is only imported when training is asked for
(``import propdetect`` stays fast and inference never needs them).

The recipe, per technique:

1. features from :class:`~propdetect._features.Featurizer`, fitted on all training data;
2. a class-weighted logistic regression, with the inverse regularisation ``C`` chosen
   from ``config.C_grid`` by document-grouped cross-validation (best out-of-fold F1);
3. Platt calibration fitted on the out-of-fold decision values of the chosen ``C``,
   so that scores are probabilities;
4. the decision threshold that maximises out-of-fold F1 of the calibrated scores;
5. the final regression refitted on all the training data.

Everything that chose something (C, calibration, threshold) saw only training data.
"""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import __version__
from ._config import TrainingConfig
from ._corpus import LabelledDocument, data_digest
from ._detector import Detector, _sigmoid
from ._features import DENSE_FEATURES, Featurizer
from ._metrics import best_threshold, multilabel_scores
from ._persist import FORMAT_VERSION, installed_version
from ._taxonomy import TECHNIQUE_IDS

__all__ = ["fit_detector", "document_folds"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def document_folds(docs: Sequence[LabelledDocument], n_folds: int, seed: int) -> np.ndarray:
    """Fold number of each *sentence*, with all sentences of a document in one fold.

    Documents are shuffled with ``seed`` and dealt round-robin, so folds have
    about the same number of documents.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(docs))
    doc_fold = np.empty(len(docs), dtype=np.int64)
    doc_fold[order] = np.arange(len(docs)) % n_folds
    return np.repeat(doc_fold, [len(d.spans) for d in docs])


def _label_matrix(docs: Sequence[LabelledDocument], techniques: Sequence[str]) -> np.ndarray:
    index = {t: k for k, t in enumerate(techniques)}
    rows = [labs for d in docs for labs in d.labels]
    Y = np.zeros((len(rows), len(techniques)), dtype=np.int8)
    for i, labs in enumerate(rows):
        for t in labs:
            if t in index:
                Y[i, index[t]] = 1
    return Y


def _fit_lr(X: Any, y: np.ndarray, C: float, config: TrainingConfig):  # noqa: ANN202
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(
        C=C, class_weight=config.class_weight, solver="liblinear", max_iter=1000,
        random_state=config.seed,
    )
    return clf.fit(X, y)


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit p = sigmoid(a*z + b) on out-of-fold decision values.

    Platt's smoothed targets ((N+ + 1)/(N+ + 2) and 1/(N- + 2)) keep the slope
    finite on separable data (tiny training sets). A non-positive slope means the
    out-of-fold scores carry no usable signal; then the uncalibrated logistic
    output is kept (a=1, b=0) rather than inverting the model.
    """
    from sklearn.linear_model import LogisticRegression

    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    Z = np.concatenate([z, z]).reshape(-1, 1)
    target = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
    weight = np.concatenate([t, 1 - t])
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    lr.fit(Z, target, sample_weight=weight)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if not a > 0:
        return 1.0, 0.0
    return a, b


def _fit_technique(X: Any, y: np.ndarray, folds: np.ndarray, n_folds: int,
                   config: TrainingConfig) -> dict[str, Any]:
    """Choose C by grouped CV, calibrate and threshold on out-of-fold scores, refit."""
    n = len(y)
    best: tuple[float, float, np.ndarray] = (-1.0, config.C_grid[0], np.zeros(n))
    for C in config.C_grid:
        z = np.zeros(n)
        for f in range(n_folds):
            tr, te = folds != f, folds == f
            if y[tr].min() == y[tr].max():  # a fold with no positive (or no negative)
                z[te] = -10.0 if y[tr].max() == 0 else 10.0
                continue
            z[te] = _fit_lr(X[tr], y[tr], C, config).decision_function(X[te])
        f1 = best_threshold(z, y)[1]
        if f1 > best[0]:
            best = (f1, C, z)
    _, C, z = best
    a, b = _platt(z, y)
    p = _sigmoid(a * z + b)
    thr, f1_cal = best_threshold(p, y)
    clf = _fit_lr(X, y, C, config)
    return {"coef": clf.coef_[0], "intercept": float(clf.intercept_[0]), "a": a, "b": b,
            "threshold": thr, "f1": f1_cal, "oof": p, "C": C}


def fit_detector(docs: Sequence[LabelledDocument], config: TrainingConfig | None = None,
                 progress: Progress | None = None, name: str = "custom",
                 data_description: str = "", data_source: Mapping[str, Any] | None = None,
                 n_jobs: int | None = None) -> Detector:
    """Train a detector on labelled documents.

    Parameters
    ----------
    docs : sequence of LabelledDocument
        The training data. Sentences of one document stay in one CV fold.
    config : TrainingConfig, optional
    progress : callable, optional
        Called with one line of text at each step (the CLI prints to stderr).
    name : str
        Model name recorded in the metadata.
    data_description : str
        Where the data came from, recorded in the metadata.
    data_source : mapping, optional
        How to read the training data again (format and paths), recorded as
        ``metadata["training_data"]["source"]``; ``propdetect evaluate`` uses it to
        train its baselines on the model's own training data.
    n_jobs : int, optional
        Techniques trained in parallel (joblib; ``-1``: every core). The result
        does not depend on it.

    Returns
    -------
    Detector

    Raises
    ------
    ValueError
        No sentences, or no technique with a positive example.
    """
    config = config or TrainingConfig()
    say = progress or _quiet
    docs = [d for d in docs if d.spans]
    n_sent = sum(len(d.spans) for d in docs)
    if n_sent == 0:
        raise ValueError("no training sentences")
    Y_all = _label_matrix(docs, TECHNIQUE_IDS)
    counts = Y_all.sum(axis=0)
    techniques = [t for t, c in zip(TECHNIQUE_IDS, counts) if c > 0]
    left_out = [t for t, c in zip(TECHNIQUE_IDS, counts) if c == 0]
    if not techniques:
        raise ValueError("no technique has a positive example in the training data")
    for t in left_out:
        say(f"technique {t} has no positive example: left out of this model")
    Y = Y_all[:, [TECHNIQUE_IDS.index(t) for t in techniques]]
    n_folds = min(config.cv_folds, len(docs))
    if n_folds < 2:
        raise ValueError("cross-validation needs at least 2 documents")

    say(f"features: fitting on {len(docs)} documents, {n_sent} sentences")
    featurizer = Featurizer.from_config(config.to_dict())
    sentence_lists = [d.sentences for d in docs]
    featurizer.fit(sentence_lists)
    X = featurizer.transform(sentence_lists)
    say(f"features: {X.shape[1]} columns ({len(featurizer.vocabulary_)} n-grams)")
    folds = document_folds(docs, n_folds, config.seed)

    K = len(techniques)
    coef = np.zeros((X.shape[1], K), dtype=np.float32)
    intercept = np.zeros(K)
    calib_a = np.ones(K)
    calib_b = np.zeros(K)
    thresholds = np.full(K, 0.5)
    oof = np.zeros((n_sent, K))
    chosen_C: dict[str, float] = {}
    X.sort_indices()  # read-only (memory-mapped) copies in workers must not need sorting
    from joblib import Parallel, delayed

    jobs = (delayed(_fit_technique)(X, Y[:, k], folds, n_folds, config) for k in range(K))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    for k, (tech, r) in enumerate(zip(techniques, results)):
        coef[:, k] = r["coef"]
        intercept[k] = r["intercept"]
        calib_a[k], calib_b[k], thresholds[k] = r["a"], r["b"], r["threshold"]
        oof[:, k] = r["oof"]
        chosen_C[tech] = r["C"]
        say(f"[{k + 1}/{K}] {tech}: {int(Y[:, k].sum())} positive sentences, C={r['C']:g}, "
            f"threshold={r['threshold']:.3f}, out-of-fold F1={r['f1']:.3f}")

    cv = multilabel_scores(Y, oof >= thresholds, techniques)
    meta = {
        "name": name,
        "format_version": FORMAT_VERSION,
        "model_version": f"{name}-{_dt.date.today().isoformat()}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "techniques": techniques,
        "left_out_techniques": left_out,
        "versions": {
            "propdetect": __version__,
            "scikit-learn": installed_version("scikit-learn"),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "training_data": {
            "description": data_description,
            "source": dict(data_source or {}),
            "digest": data_digest(docs),
            "documents": len(docs),
            "sentences": n_sent,
            "positives": {t: int(c) for t, c in zip(techniques, Y.sum(axis=0))},
        },
        "config": config.to_dict(),
        "chosen_C": chosen_C,
        "dense_features": list(DENSE_FEATURES),
        "metrics": {
            "cross_validation": {
                "note": (f"{n_folds}-fold document-grouped CV on the training data; "
                         "thresholds were tuned on these same out-of-fold scores, "
                         "so the figures are optimistic"),
                **cv,
            }
        },
    }
    arrays = {
        "coef": coef,
        "intercept": intercept,
        "calib_a": calib_a,
        "calib_b": calib_b,
        "thresholds": thresholds,
        "idf": featurizer.idf_,
        "dense_mean": featurizer.dense_mean_,
        "dense_scale": featurizer.dense_scale_,
    }
    vocabulary = featurizer.terms()
    say(f"cross-validated (optimistic) micro-F1={cv['micro_f1']:.3f} "
        f"macro-F1={cv['macro_f1']:.3f} binary-F1={cv['binary_f1']:.3f}")
    return Detector._from_parts(meta, vocabulary, arrays)


def train(examples: Any, config: TrainingConfig | Mapping[str, Any] | None = None,
          progress: Progress | None = None, name: str = "custom") -> Detector:
    """Train a detector on your own labelled sentences.

    Parameters
    ----------
    examples : iterable of dict, pandas.DataFrame, datasets.Dataset, path, or sequence of LabelledDocument
        Dicts (or DataFrame or dataset rows) with ``text`` (one sentence) and
        ``techniques`` (a list of ids or any name the taxonomy resolves, ``[]`` for
        none); an optional ``doc_id`` (or ``id``) groups the sentences of one
        article into a document, in order, so that context features and
        document-grouped cross-validation work. Anything
        :func:`propdetect.load_documents` reads (a ``.jsonl`` or ``.csv`` file,
        ...), and the LabelledDocuments it returns, work too.
    config : TrainingConfig or dict, optional
        Training options (:class:`~propdetect._config.TrainingConfig` fields);
        the same data, config and seed give identical predictions.
    progress : callable, optional
        Receives one line of text per training step.
    name : str, default="custom"
        Model name recorded in the metadata.

    Returns
    -------
    Detector
        Save it with :meth:`Detector.save`; :meth:`Detector.load` reads it back.

    Raises
    ------
    DataError
        Unusable examples (missing field, empty text, unknown label), with the item.
    ValueError
        Fewer than two documents, or no technique with a positive example.

    Examples
    --------
    >>> import propdetect
    >>> rows = [{"text": "Traitors and thugs run this evil regime!", "techniques": ["name calling"]},
    ...         {"text": "The museum opens at nine.", "techniques": []}] * 3
    >>> det = propdetect.train(rows, {"min_df": 1, "cv_folds": 3})
    >>> det.techniques
    ('name_calling_labeling',)
    """
    from ._corpus import load_documents

    if isinstance(config, Mapping):
        config = TrainingConfig.from_dict(dict(config))
    docs, report = load_documents(examples)
    say = progress or _quiet
    for line in report.lines():
        say(line)
    return fit_detector(docs, config, progress, name=name,
                        data_description=f"{report.documents} documents, {report.sentences} sentences "
                                         f"given to propdetect.train()")
