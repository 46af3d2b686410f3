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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import __version__
from ._config import TrainingConfig
from ._corpus import LabelledDocument, data_digest
from ._detector import Detector
from ._features import DENSE_FEATURES, Featurizer
from ._heads import decide
from ._heads import sigmoid as _sigmoid
from ._metrics import best_threshold, multilabel_scores
from ._persist import FORMAT_VERSION, installed_version
from ._solver import class_weights
from ._taxonomy import TECHNIQUE_IDS
from ._vectors import load_vectors, vectors_metadata

__all__ = ["fit_detector", "document_folds"]

Progress = Callable[[str], None]


def library_versions(*extra: str) -> dict[str, str | None]:
    """The versions a model's metadata records: propdetect, scikit-learn, NumPy,
    the distributions ``extra`` names, then Python."""
    return {"propdetect": __version__, "scikit-learn": installed_version("scikit-learn"),
            "numpy": np.__version__, **{d: installed_version(d) for d in extra},
            "python": platform.python_version()}


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


# Every fit stops when no gradient component exceeds 1e-4 (scikit-learn's
# criterion). At 1e-3 a rare head's held-out scores correlated only 0.975 with
# the exact optimum's (PTC-2020 train, one fold, flag-waving), enough to change
# which C cross-validation picks; at 1e-4 >= 0.99995 for every head tried, at
# about the same cost with the preconditioned solver (0.7-0.9 s a fit).
_TOL = 1e-4


def _split_design(X: Any, n_sparse: int) -> Any:
    """The solver's view of ``X``: its first ``n_sparse`` columns sparse, the rest
    (shape/context features, sentence vectors) a dense block."""
    from ._solver import Design

    X = X.tocsr()
    return Design.of(X[:, :n_sparse], X[:, n_sparse:].toarray())


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


def _fit_technique(design: Any, variants: Sequence[np.ndarray], y: np.ndarray,
                   folds: np.ndarray, n_folds: int, config: TrainingConfig) -> dict[str, Any]:
    """Choose the feature set and C by grouped CV, calibrate and threshold on
    out-of-fold scores, refit.

    ``variants`` are the candidate sets of dense columns of ``design`` (with and
    without the sentence vectors). The one with the fewest columns is tried with
    every C of the grid; each other one (the sentence vectors' 150 correlated
    columns make a fit ~40 % dearer) at that one's best C and the next larger C
    of the grid (the next smaller when it is the largest): :func:`_searched`. Of the
    pairs tried, the one with the best out-of-fold F1 is kept, the first on ties
    in the order (variant, C). On PTC-2020 train this picks what trying every pair
    picks for every head (the bundled model is the same to the bit) with 26
    fits a head instead of 31.

    Every fit starts from zero: started from the fit for the previous C, a fit
    often meets the gradient tolerance at once (C=2 -> 8 changes the gradient by
    less than 1e-4), which would make the C's of the grid one model.
    """
    from ._solver import fit_logistic

    n = len(y)
    parts = []
    for f in range(n_folds):
        tr, te = folds != f, folds == f
        parts.append((tr, te, design.rows(tr), design.rows(te), class_weights(y[tr], config.class_weight)))

    def cv_f1(C: float, fold_designs: list[tuple[Any, Any]]) -> tuple[float, np.ndarray]:
        z = np.zeros(n)
        for (tr, te, _, _, sw), (d_tr, d_te) in zip(parts, fold_designs):
            if y[tr].min() == y[tr].max():  # a fold with no positive (or no negative)
                z[te] = -10.0 if y[tr].max() == 0 else 10.0
                continue
            fit = fit_logistic(d_tr, y[tr], C, sample_weight=sw, tol=_TOL)
            z[te] = fit.decision_function(d_te)
        return float(best_threshold(z, y)[1]), z

    tried: dict[tuple[int, float], tuple[float, np.ndarray]] = {}
    for v, Cs in _searched(variants, config.C_grid, tried):
        cols = variants[v]
        fold_designs = [(d_tr.dense_columns(cols), d_te.dense_columns(cols)) for _, _, d_tr, d_te, _ in parts]
        for C in Cs:
            tried[v, C] = cv_f1(C, fold_designs)
    best: tuple[float, int, float, np.ndarray] = (-1.0, 0, config.C_grid[0], np.zeros(n))
    for v in range(len(variants)):
        for C in config.C_grid:
            if (v, C) in tried and tried[v, C][0] > best[0]:
                best = (tried[v, C][0], v, C, tried[v, C][1])
    _, v, C, z = best
    a, b = _platt(z, y)
    p = _sigmoid(a * z + b)
    thr, f1_cal = best_threshold(p, y)
    fit = fit_logistic(design.dense_columns(variants[v]), y, C, tol=_TOL,
                       sample_weight=class_weights(y, config.class_weight))
    return {"coef_sparse": fit.coef_sparse, "coef_dense": fit.coef_dense,
            "intercept": float(fit.intercept), "a": a, "b": b,
            "threshold": thr, "f1": f1_cal, "oof": p, "C": C, "variant": v}


def _searched(variants: Sequence[np.ndarray], C_grid: Sequence[float],
              tried: Mapping[tuple[int, float], tuple[float, Any]]) -> Iterator[tuple[int, list[float]]]:
    """``(variant, C's)`` to try, in turn; ``tried`` holds the ``(variant, C) ->
    (F1, ...)`` results so far (read when the next step is chosen).

    Examples
    --------
    >>> tried = {}
    >>> steps = _searched([np.arange(5), np.arange(2)], [0.5, 2.0, 8.0], tried)
    >>> next(steps)
    (1, [0.5, 2.0, 8.0])
    >>> tried.update({(1, 0.5): (0.3, None), (1, 2.0): (0.4, None), (1, 8.0): (0.35, None)})
    >>> next(steps)
    (0, [2.0, 8.0])
    """
    cheap = min(range(len(variants)), key=lambda v: (len(variants[v]), -v))
    grid = list(C_grid)
    yield cheap, grid
    if len(variants) == 1:
        return
    best_C = grid[0]
    for C in grid:
        if tried[cheap, C][0] > tried[cheap, best_C][0]:
            best_C = C
    i = grid.index(best_C)
    near = sorted({best_C, grid[i + 1] if i + 1 < len(grid) else grid[max(i - 1, 0)]}, key=grid.index)
    for v in range(len(variants)):
        if v != cheap:
            yield v, near


def _fit_head(k: int, *args: Any) -> tuple[int, dict[str, Any]]:
    """:func:`_fit_technique`, tagged with the head's index (results arrive as
    they are done, in any order)."""
    from threadpoolctl import threadpool_limits

    from ._pool import _roomier_malloc

    # A worker started from a process that used Dask inherits its
    # MALLOC_TRIM_THRESHOLD_=65536, under which every 780 KB vector of the solver
    # is mapped and faulted in afresh: 25 % more CPU for the bundled recipe.
    _roomier_malloc()
    # One BLAS thread, in workers and in this process alike: the dense products'
    # summation order, and so the last bits of the weights, then do not depend on
    # n_jobs (and two workers on two cores gain nothing from more threads).
    with threadpool_limits(limits=1, user_api="blas"):
        return k, _fit_technique(*args)


def _add_cues(X: Any, docs: Sequence[LabelledDocument], folds: np.ndarray,
              techniques: Sequence[str], vectors: Any, featurizer: Featurizer) -> tuple[Any, Any]:
    """Append out-of-fold cue features to ``X``; give ``featurizer`` the table built
    from all the data (what detection uses)."""
    from scipy.sparse import csr_matrix, hstack

    from ._cues import fit_cue_table
    from ._tokens import tokenize

    tokens = [tokenize(s) for d in docs for s in d.sentences]
    doc_of = np.repeat(np.arange(len(docs)), [len(d.spans) for d in docs])
    doc_fold = np.zeros(len(docs), dtype=np.int64)
    doc_fold[doc_of] = folds
    C = None
    for f in np.unique(folds):
        table = fit_cue_table([d for d, df in zip(docs, doc_fold) if df != f], techniques, vectors)
        rows = np.flatnonzero(folds == f)
        block = table.features([tokens[i] for i in rows])
        if C is None:
            C = np.zeros((len(tokens), block.shape[1]))
        C[rows] = block
    assert C is not None
    mean = C.mean(axis=0)
    scale = C.std(axis=0)
    scale = np.where(scale > 1e-6, scale, 1.0)
    Z = np.clip((C - mean) / scale, -5.0, 5.0)
    featurizer.set_cues(fit_cue_table(docs, techniques, vectors), mean, scale)
    X = hstack([X, csr_matrix(Z)], format="csr")
    return X, featurizer.cues_


def _token_data(docs: Sequence[LabelledDocument], vectors: Any,
                techniques: Sequence[str]) -> tuple[Any, np.ndarray] | None:
    """Token rows of the gold-positive sentences of span-annotated documents, and
    per technique whether each token lies inside a gold span of it."""
    from scipy.sparse import csr_matrix

    from ._evidence import token_matrix
    from ._solver import Design

    index = {t: k for k, t in enumerate(techniques)}
    ids_all, dense_all, label_rows = [], [], []
    for d in docs:
        if not d.technique_spans:
            continue
        gold = d.technique_spans
        for (a, b), labs in zip(d.spans, d.labels):
            if not labs:
                continue
            toks, ids, dense = token_matrix(d.text[a:b], vectors)
            if not toks:
                continue
            Y = np.zeros((len(toks), len(techniques)), dtype=np.int8)
            starts = np.array([a + s for _, s, _ in toks])
            ends = np.array([a + e for _, _, e in toks])
            for tid, gs, ge in gold:
                if gs >= b or ge <= a or tid not in index:
                    continue
                Y[(starts < ge) & (ends > gs), index[tid]] = 1
            ids_all.append(ids)
            dense_all.append(dense)
            label_rows.append(Y)
    if not ids_all:
        return None
    ids = np.concatenate(ids_all)
    onehot = csr_matrix((np.ones(len(ids)), ids, np.arange(len(ids) + 1)),
                        shape=(len(ids), len(vectors) + 1))
    return Design.of(onehot, np.vstack(dense_all)), np.vstack(label_rows)


def _fit_token_head(k: int, design: Any, y: np.ndarray,
                    config: TrainingConfig) -> tuple[int, tuple[np.ndarray, float]]:
    """Technique ``k``'s token model: ``(k, (weights, intercept))``."""
    from ._solver import fit_logistic

    width = design.Xs.shape[1] + design.Xd.shape[1]
    if y.min() == y.max():
        return k, (np.zeros(width), -10.0)
    from threadpoolctl import threadpool_limits

    from ._pool import _roomier_malloc

    _roomier_malloc()  # as in _fit_head

    with threadpool_limits(limits=1, user_api="blas"):  # as in _fit_head
        fit = fit_logistic(design, y, config.token_C, tol=_TOL,
                           sample_weight=class_weights(y, config.class_weight))
    return k, (np.concatenate([fit.coef_sparse, fit.coef_dense]), float(fit.intercept))


def _cross_fitted(Y: np.ndarray, P: np.ndarray, p_any: np.ndarray | None, folds: np.ndarray,
                  shrink: float, techniques: Sequence[str]) -> dict[str, Any]:
    """Scores of a decision rule whose thresholds are chosen on the other folds'
    out-of-fold probabilities and applied to each fold in turn: what the rule is
    worth on data its thresholds never saw (unlike tuning and scoring on the same
    out-of-fold scores, which flatters rules with many free thresholds)."""
    pred = np.zeros(Y.shape, dtype=bool)
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        any_thr, thr = _thresholds(Y[tr], P[tr], None if p_any is None else p_any[tr], shrink)
        pred[te] = decide(P[te], thr, None if p_any is None else p_any[te], any_thr)
    return multilabel_scores(Y, pred, techniques)


def _thresholds(Y: np.ndarray, P: np.ndarray, p_any: np.ndarray | None,
                shrink: float) -> tuple[float | None, np.ndarray]:
    """Decision thresholds from out-of-fold probabilities.

    The "any technique" threshold maximises binary F1; each technique's threshold
    maximises its F1 among the sentences the "any" head flags, then moves
    ``shrink`` of the way toward the one threshold that maximises pooled
    (micro) F1, which rare techniques, with few positives to tune on, need most.
    """
    any_thr = None
    Pg = P
    if p_any is not None:
        any_thr = float(best_threshold(p_any, Y.any(axis=1))[0])
        Pg = P * (p_any >= any_thr)[:, None]
    own = np.array([best_threshold(Pg[:, k], Y[:, k])[0] for k in range(P.shape[1])])
    shared = best_threshold(Pg.ravel(), Y.ravel())[0]
    # A technique with no positive here gets +inf-like "never"; keep it so.
    thr = np.where(own > 1.0, own, (1 - shrink) * own + shrink * shared)
    return any_thr, thr


def fit_detector(docs: Sequence[LabelledDocument], config: TrainingConfig | None = None,
                 progress: Progress | None = None, name: str = "custom",
                 data_description: str = "", data_source: Mapping[str, Any] | None = None,
                 n_jobs: int | None = None) -> Detector:
    """Train a detector on labelled documents.

    Parameters
    ----------
    docs : sequence of LabelledDocument
        The training data. Sentences of one document stay in one CV fold. Documents
        with gold technique spans (PTC) also train the token model that picks the
        evidence.
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
        Heads trained in parallel (joblib; ``-1``: every core). The result
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

    vectors = load_vectors(config.vectors) if config.vectors else None
    say(f"features: fitting on {len(docs)} documents, {n_sent} sentences"
        + (f", word vectors {vectors.name} ({len(vectors)} words)" if vectors else ""))
    featurizer = Featurizer.from_config(config.to_dict(), vectors)
    sentence_lists = [d.sentences for d in docs]
    featurizer.fit(sentence_lists)
    X = featurizer.transform(sentence_lists)
    folds = document_folds(docs, n_folds, config.seed)
    cue_table = None
    if vectors is not None and config.cues and any(d.technique_spans for d in docs):
        X, cue_table = _add_cues(X, docs, folds, techniques, vectors, featurizer)
        say(f"cues: word lifts inside gold spans, {cue_table.n_features} columns, out of fold")
    say(f"features: {X.shape[1]} columns ({len(featurizer.vocabulary_)} n-grams, "
        f"{featurizer.n_dense} dense)")

    K = len(techniques)
    y_any = Y.any(axis=1).astype(np.int8)
    if config.binary_head and y_any.min() == y_any.max():
        say("every training sentence is positive (or none is): no 'any technique' head")
    use_any = bool(config.binary_head and y_any.min() != y_any.max())
    heads = [Y[:, k] for k in range(K)] + ([y_any] if use_any else [])
    labels = list(techniques) + (["(any technique)"] if use_any else [])
    from joblib import Parallel, delayed

    # The solver sees the n-grams as a sparse block and the rest (shape/context
    # features, sentence vectors) as a dense one.
    n_vocab = len(featurizer.vocabulary_)
    design = _split_design(X, n_vocab)
    n_dense_cols = design.Xd.shape[1]
    all_cols = np.arange(n_dense_cols)
    # Whether a technique head sees the sentence vectors is chosen per head by CV
    # (technique_vectors="cv"): the frequent techniques gain from them, the rare
    # ones overfit their 150 dense columns. The "any technique" head always has them.
    if vectors is not None:
        at = len(DENSE_FEATURES)
        no_vec = np.concatenate([all_cols[:at], all_cols[at + vectors.n_features:]])
        tech_variants = {"cv": [all_cols, no_vec], "always": [all_cols],
                         "never": [no_vec]}[config.technique_vectors]
    else:
        tech_variants = [all_cols]
    # The token model (evidence) does not depend on the heads: its fits go into the
    # same pool after them, so that they fill the time a worker would otherwise
    # wait for the last head (~10 s on PTC-2020 train).
    token_data = None
    if vectors is not None and config.token_model:
        token_data = _token_data(docs, vectors, techniques)
        if token_data is None:
            say("token model: no gold spans in the training data; evidence from the sentence model")
        else:
            say(f"token model: {token_data[0].n_samples} tokens of gold-positive sentences")
    # The "any technique" head, the slowest fit, is dispatched first so that the
    # workers finish together; results come back in any order, tagged.
    order = [K, *range(K)] if use_any else list(range(K))
    jobs = [delayed(_fit_head)(k, design, tech_variants if k < K else [all_cols], heads[k], folds,
                               n_folds, config)
            for k in order]
    if token_data is not None:
        TX, TY = token_data
        jobs += [delayed(_fit_token_head)(k, TX, TY[:, k], config) for k in range(K)]
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    token_fits: dict[int, tuple[np.ndarray, float]] = {}
    H = len(heads)
    coef = np.zeros((X.shape[1], H), dtype=np.float32)
    intercept = np.zeros(H)
    calib_a = np.ones(H)
    calib_b = np.zeros(H)
    oof = np.zeros((n_sent, H))
    chosen_C: dict[str, float] = {}
    with_vectors: dict[str, bool] = {}
    done = 0
    for k, r in results:
        if isinstance(r, tuple):  # a token-model fit
            token_fits[k] = r
            continue
        done += 1
        label = labels[k]
        cols = (tech_variants if k < K else [all_cols])[r["variant"]]
        coef[:n_vocab, k] = r["coef_sparse"]
        coef[n_vocab + cols, k] = r["coef_dense"]
        with_vectors[label] = len(cols) == n_dense_cols and vectors is not None
        intercept[k] = r["intercept"]
        calib_a[k], calib_b[k] = r["a"], r["b"]
        oof[:, k] = r["oof"]
        chosen_C[label] = r["C"]
        say(f"[{done}/{H}] {label}: {int(heads[k].sum())} positive sentences, C={r['C']:g}, "
            + ("with sentence vectors, " if with_vectors[label] else "")
            + f"out-of-fold F1={r['f1']:.3f}")
    P = oof[:, :K]
    p_any = oof[:, K] if use_any else None

    # The decision rule: thresholds shrunk toward a shared one, the amount chosen by
    # cross-fitted CV (thresholds tuned on other folds), on micro- and macro-F1 alike.
    rules = []
    scored: dict[float, dict[str, Any]] = {}
    for shrink in config.threshold_shrinkage:
        cf = scored[shrink] = _cross_fitted(Y, P, p_any, folds, shrink, techniques)
        rules.append({"shrinkage": shrink, "micro_f1": cf["micro_f1"], "macro_f1": cf["macro_f1"],
                      "binary_f1": cf["binary_f1"]})
        say(f"decision rule, shrinkage {shrink:g}: cross-fitted micro-F1={cf['micro_f1']:.3f} "
            f"macro-F1={cf['macro_f1']:.3f} binary-F1={cf['binary_f1']:.3f}")
    best = max(rules, key=lambda r: (r["micro_f1"] + r["macro_f1"], -r["shrinkage"]))
    any_thr, thresholds = _thresholds(Y, P, p_any, best["shrinkage"])
    cross_fitted = scored[best["shrinkage"]]
    cv = multilabel_scores(Y, decide(P, thresholds, p_any, any_thr), techniques)

    token = None
    if token_fits:
        assert vectors is not None
        fits = [token_fits[k] for k in range(K)]
        nw = len(vectors) + 1
        w = np.column_stack([c for c, _ in fits])
        token = {"tok_word": w[:nw].astype(np.float16),
                 "tok_dense": w[nw:].astype(np.float32),
                 "tok_intercept": np.array([b for _, b in fits], dtype=np.float32)}

    meta = {
        "name": name,
        "format_version": FORMAT_VERSION,
        "model_version": f"{name}-{_dt.date.today().isoformat()}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "techniques": techniques,
        "left_out_techniques": left_out,
        "versions": library_versions(),
        "training_data": {
            "description": data_description,
            "source": dict(data_source or {}),
            "digest": data_digest(docs),
            "documents": len(docs),
            "sentences": n_sent,
            "positives": {t: int(c) for t, c in zip(techniques, Y.sum(axis=0))},
            "technique_spans": sum(len(d.technique_spans) for d in docs),
        },
        "config": config.to_dict(),
        "word_vectors": vectors_metadata(vectors),
        "heads": {"any_technique": use_any, "token_model": token is not None,
                  "evidence": "token model" if token is not None else "sentence model"},
        "chosen_C": chosen_C,
        "sentence_vectors_used_by": [t for t, used in with_vectors.items() if used],
        "decision": {"shrinkage": best["shrinkage"], "candidates": rules,
                     "any_threshold": any_thr},
        "dense_features": list(DENSE_FEATURES),
        "metrics": {
            "cross_validation": {
                "note": (f"{n_folds}-fold document-grouped CV on the training data; "
                         "thresholds were tuned on these same out-of-fold scores, "
                         "so the figures are optimistic"),
                **cv,
            },
            "cross_fitted": {
                "note": ("the same out-of-fold scores, each fold decided with thresholds "
                         "tuned on the other folds"),
                **cross_fitted,
            },
        },
    }
    K_coef = coef[:, :K]
    arrays = {
        "coef": K_coef,
        "intercept": intercept[:K],
        "calib_a": calib_a[:K],
        "calib_b": calib_b[:K],
        "thresholds": thresholds,
        "idf": featurizer.idf_,
        "dense_mean": featurizer.dense_mean_,
        "dense_scale": featurizer.dense_scale_,
    }
    if use_any:
        arrays["any_coef"] = coef[:, K].copy()
        arrays["any_head"] = np.array([intercept[K], calib_a[K], calib_b[K], any_thr])
    if vectors is not None:
        arrays.update(vectors.to_arrays())
        arrays["vec_mean"] = featurizer.vec_mean_
        arrays["vec_scale"] = featurizer.vec_scale_
    if token is not None:
        arrays.update(token)
    if cue_table is not None:
        arrays["cue_lift"] = cue_table.lift.astype(np.float16)
        arrays["cue_mean"] = featurizer.cue_mean_
        arrays["cue_scale"] = featurizer.cue_scale_
    vocabulary = featurizer.terms()
    say(f"cross-validated (optimistic) micro-F1={cv['micro_f1']:.3f} "
        f"macro-F1={cv['macro_f1']:.3f} binary-F1={cv['binary_f1']:.3f}; cross-fitted "
        f"micro-F1={cross_fitted['micro_f1']:.3f} macro-F1={cross_fitted['macro_f1']:.3f} "
        f"binary-F1={cross_fitted['binary_f1']:.3f}")
    det = Detector._from_parts(meta, vocabulary, arrays)
    det._training_oof = (Y, oof, folds)  # for training/ablation.py; not saved
    return det


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

    Warns
    -----
    UserWarning
        When labels with no counterpart among the 14 techniques were dropped:
        how many, and which.

    Examples
    --------
    >>> import propdetect
    >>> rows = [{"text": "Traitors and thugs run this evil regime!", "techniques": ["name calling"]},
    ...         {"text": "The museum opens at nine.", "techniques": []}] * 3
    >>> det = propdetect.train(rows, {"min_df": 1, "cv_folds": 3})
    >>> det.techniques
    ('name_calling_labeling',)
    """
    from ._corpus import _load_documents, warn_dropped

    if isinstance(config, Mapping):
        config = TrainingConfig.from_dict(dict(config))
    docs, report = _load_documents(examples)
    warn_dropped(report)  # labels with no counterpart: how many and which
    say = progress or _quiet
    for line in report.lines():
        say(line)
    return fit_detector(docs, config, progress, name=name,
                        data_description=f"{report.documents} documents, {report.sentences} sentences "
                                         f"given to propdetect.train()")
