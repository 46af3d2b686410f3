"""Evaluation: a detector against gold sentences, beside simple baselines.

Gold labels come per gold sentence (for PTC, a non-empty line). Predictions come
from running :meth:`Detector.detect` on the *whole* document, so that context
features see what they see in use; each gold sentence then gets the union of the
techniques of the predicted sentences that overlap it.

Baselines are trained in the same run on the same training data:

* ``length``: logistic regression on the sentence length alone (the shared task's
  baseline);
* ``tfidf_lr``: the naive peer of ``shared/docs/ANCHORS.md``: TF-IDF word 1-2 and
  char 2-5 n-grams, one-vs-rest logistic regression with balanced class weights,
  threshold 0.5, no tuning.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._corpus import LabelledDocument
from ._detector import Detector
from ._metrics import multilabel_scores
from ._taxonomy import TECHNIQUE_IDS

__all__ = ["evaluate_detector", "gold_matrix", "predicted_matrix", "train_baselines",
           "evaluate_baselines", "BASELINES"]

BASELINES = ("length", "tfidf_lr")


def gold_matrix(docs: Sequence[LabelledDocument], techniques: Sequence[str]) -> np.ndarray:
    """0/1 matrix of gold labels, one row per gold sentence of all documents."""
    index = {t: k for k, t in enumerate(techniques)}
    rows = [labs for d in docs for labs in d.labels]
    Y = np.zeros((len(rows), len(techniques)), dtype=bool)
    for i, labs in enumerate(rows):
        for t in labs:
            if t in index:
                Y[i, index[t]] = True
    return Y


def predicted_matrix(detector: Detector, docs: Sequence[LabelledDocument],
                     techniques: Sequence[str]) -> np.ndarray:
    """0/1 matrix of predictions aligned with :func:`gold_matrix` rows."""
    index = {t: k for k, t in enumerate(techniques)}
    out = np.zeros((sum(len(d.spans) for d in docs), len(techniques)), dtype=bool)
    row = 0
    for d in docs:
        analysis = detector.detect(d.text)
        starts = [a for a, _ in d.spans]
        for s in analysis.sentences:
            if not s.techniques:
                continue
            i = max(bisect.bisect_right(starts, s.start) - 1, 0)
            while i < len(d.spans) and d.spans[i][0] < s.end:
                if d.spans[i][1] > s.start:
                    for t in s.techniques:
                        if t in index:
                            out[row + i, index[t]] = True
                i += 1
        row += len(d.spans)
    return out


def evaluate_detector(detector: Detector, docs: Sequence[LabelledDocument]) -> dict[str, Any]:
    """Score a detector on gold documents over the 14 technique ids."""
    Y = gold_matrix(docs, TECHNIQUE_IDS)
    P = predicted_matrix(detector, docs, TECHNIQUE_IDS)
    return multilabel_scores(Y, P, TECHNIQUE_IDS)


def _sentences(docs: Sequence[LabelledDocument]) -> list[str]:
    return [s for d in docs for s in d.sentences]


def train_baselines(train_docs: Sequence[LabelledDocument]) -> dict[str, Callable[[list[str]], np.ndarray]]:
    """Fit the baselines; return name -> function(sentences) -> 0/1 matrix (n, 14)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_union

    sents = _sentences(train_docs)
    Y = gold_matrix(train_docs, TECHNIQUE_IDS)
    active = [k for k in range(Y.shape[1]) if 0 < Y[:, k].sum() < len(Y)]

    def length_feats(xs: list[str]) -> np.ndarray:
        return np.log1p(np.array([[len(x.split())] for x in xs], dtype=np.float64))

    def fit_all(Xtr: Any, C: float) -> dict[int, Any]:
        return {
            k: LogisticRegression(C=C, class_weight="balanced", solver="liblinear",
                                  max_iter=1000).fit(Xtr, Y[:, k])
            for k in active
        }

    len_models = fit_all(length_feats(sents), 1.0)
    vec = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )
    tfidf_models = fit_all(vec.fit_transform(sents), 1.0)

    def predictor(models: dict[int, Any], feats: Callable[[list[str]], Any]):  # noqa: ANN202
        def predict(xs: list[str]) -> np.ndarray:
            out = np.zeros((len(xs), len(TECHNIQUE_IDS)), dtype=bool)
            if xs:
                F = feats(xs)
                for k, m in models.items():
                    out[:, k] = m.predict_proba(F)[:, 1] >= 0.5
            return out
        return predict

    return {
        "length": predictor(len_models, length_feats),
        "tfidf_lr": predictor(tfidf_models, vec.transform),
    }


def evaluate_baselines(train_docs: Sequence[LabelledDocument],
                       test_docs: Sequence[LabelledDocument]) -> dict[str, dict[str, Any]]:
    """Train the baselines on ``train_docs`` and score them on ``test_docs``."""
    Y = gold_matrix(test_docs, TECHNIQUE_IDS)
    sents = _sentences(test_docs)
    return {
        name: multilabel_scores(Y, predict(sents), TECHNIQUE_IDS)
        for name, predict in train_baselines(train_docs).items()
    }
