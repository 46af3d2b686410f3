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
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._corpus import DataError, LabelledDocument, data_digest, read_source
from ._detector import Detector
from ._results import Analysis
from ._metrics import multilabel_scores
from ._taxonomy import TECHNIQUE_IDS

__all__ = ["evaluate_detector", "gold_matrix", "predicted_matrix", "train_baselines",
           "evaluate_baselines", "BASELINES", "model_training_docs", "evaluate",
           "render_text", "render_markdown"]

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
                     techniques: Sequence[str], analyses: Sequence[Analysis] | None = None) -> np.ndarray:
    """0/1 matrix of predictions aligned with :func:`gold_matrix` rows
    (``analyses``: the detector's results on ``docs``, if already computed)."""
    index = {t: k for k, t in enumerate(techniques)}
    out = np.zeros((sum(len(d.spans) for d in docs), len(techniques)), dtype=bool)
    row = 0
    if analyses is None:
        analyses = [detector.detect(d.text) for d in docs]
    for d, analysis in zip(docs, analyses):
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
    """Score a detector on gold documents over the 14 technique ids, and its
    evidence against the gold spans when the documents have them."""
    analyses = [detector.detect(d.text) for d in docs]
    Y = gold_matrix(docs, TECHNIQUE_IDS)
    P = predicted_matrix(detector, docs, TECHNIQUE_IDS, analyses)
    result = multilabel_scores(Y, P, TECHNIQUE_IDS)
    if any(d.technique_spans for d in docs):
        result["evidence"] = evidence_scores(docs, analyses)
        result["span_identification"] = span_identification(docs, analyses)
    return result


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        elif b > a:
            out.append((a, b))
    return out


def span_identification(docs: Sequence[LabelledDocument], analyses: Sequence[Analysis]) -> dict[str, Any]:
    """SemEval-2020 Task 11's span-identification (SI) measure of the evidence.

    The predicted fragments of an article are the evidence spans of its flagged
    sentences, of every technique, merged where they overlap; the gold fragments
    are its technique spans, merged likewise (SI ignores the technique). With
    ``C(s, t, h) = |s & t| / h`` over character positions, as in the task's
    official scorer (Da San Martino et al., SemEval 2020)::

        P = sum over predicted s, gold t of C(s, t, |s|) / (number of predicted)
        R = sum over predicted s, gold t of C(s, t, |t|) / (number of gold)

    summed over all articles, and F1 their harmonic mean.

    Examples
    --------
    >>> from propdetect import LabelledDocument, Sentence
    >>> doc = LabelledDocument("1", "They are evil thugs.", ((0, 20),), (frozenset({"name_calling_labeling"}),),
    ...                        (("name_calling_labeling", 9, 19),))
    >>> a = Analysis((Sentence(doc.text, 0, 20, ("name_calling_labeling",),
    ...               {"name_calling_labeling": 0.9}, {"name_calling_labeling": [(14, 19)]}),))
    >>> r = span_identification([doc], [a])
    >>> r["precision"], r["recall"], round(r["f1"], 3)
    (1.0, 0.5, 0.667)
    """
    p_sum = r_sum = 0.0
    n_pred = n_gold = 0
    for d, analysis in zip(docs, analyses):
        gold = _merged([(a, b) for _, a, b in d.technique_spans])
        pred = _merged([(a, b) for s in analysis.sentences if s.techniques
                        for spans in s.evidence.values() for a, b in spans])
        n_pred += len(pred)
        n_gold += len(gold)
        for a, b in pred:
            for x, y in gold:
                inter = min(b, y) - max(a, x)
                if inter > 0:
                    p_sum += inter / (b - a)
                    r_sum += inter / (y - x)
    precision = p_sum / n_pred if n_pred else 0.0
    recall = r_sum / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted_fragments": n_pred,
            "gold_fragments": n_gold}


def _covered(spans: Sequence[tuple[int, int]], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for a, b in spans:
        mask[a:b] = True
    return mask


def evidence_scores(docs: Sequence[LabelledDocument], analyses: Sequence[Analysis]) -> dict[str, Any]:
    """How well the evidence matches what human annotators marked.

    Over the predicted sentences that are flagged and overlap a gold technique span
    (flagged, truly propagandistic sentences):

    * ``inside_gold``: of the non-space characters inside evidence spans, the share
      that lies inside a gold span of any technique;
    * ``sentence_inside_gold``: the same share for the whole sentence taken as
      evidence (what evidence chosen at random would score);
    * ``touches_named``: of the decisions (sentence, technique named), the share
      whose evidence overlaps a gold span of that same technique.

    Examples
    --------
    >>> from propdetect import LabelledDocument, Sentence
    >>> doc = LabelledDocument("1", "They are evil thugs.", ((0, 20),), (frozenset({"name_calling_labeling"}),),
    ...                        (("name_calling_labeling", 9, 19),))
    >>> a = Analysis((Sentence(doc.text, 0, 20, ("name_calling_labeling",),
    ...               {"name_calling_labeling": 0.9}, {"name_calling_labeling": [(9, 13)]}),))
    >>> r = evidence_scores([doc], [a])
    >>> r["inside_gold"], r["touches_named"], r["sentences"]
    (1.0, 1.0, 1)
    """
    inside = total = sent_inside = sent_total = decisions = touching = n_sent = 0
    for d, analysis in zip(docs, analyses):
        n = len(d.text)
        gold_any = _covered([(a, b) for _, a, b in d.technique_spans], n)
        by_tech: dict[str, list[tuple[int, int]]] = {}
        for t, a, b in d.technique_spans:
            by_tech.setdefault(t, []).append((a, b))
        visible = np.frombuffer(d.text.encode("utf-32-le"), dtype=np.uint32) if n else np.zeros(0, np.uint32)
        nonspace = ~np.isin(visible, [9, 10, 11, 12, 13, 32, 0xA0])
        for s in analysis.sentences:
            if not s.techniques or not gold_any[s.start:s.end].any():
                continue
            n_sent += 1
            # masks over the sentence only: evidence lies inside its sentence
            a0, b0 = s.start, s.end
            vis, gold = nonspace[a0:b0], gold_any[a0:b0]
            ev = _covered([(a - a0, b - a0) for spans in s.evidence.values() for a, b in spans], b0 - a0)
            ev &= vis
            inside += int((ev & gold).sum())
            total += int(ev.sum())
            sent_inside += int((vis & gold).sum())
            sent_total += int(vis.sum())
            for t in s.techniques:
                decisions += 1
                spans = s.evidence.get(t, ())
                if any(a < gb and ga < b for a, b in spans for ga, gb in by_tech.get(t, ())):
                    touching += 1
    return {
        "sentences": n_sent,
        "inside_gold": inside / total if total else 0.0,
        "sentence_inside_gold": sent_inside / sent_total if sent_total else 0.0,
        "decisions": decisions,
        "touches_named": touching / decisions if decisions else 0.0,
    }


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


# -- the model's own training data, for the baselines ----------------------------
#: How the bundled model's training data is read, relative to the shared data
#: folder (``training/build_bundled.py``: PTC-2020 train only). Used when a
#: model's metadata names no source of its own.
BUNDLED_TRAINING_SOURCE: Mapping[str, Any] = {
    "format": "ptc", "corpus": "ptc", "articles": "train-articles",
    "labels": "train-task-flc-tc.labels",
}


def shared_data_dirs() -> list[Path]:
    """Where the corpora are looked for: ``$PROPDETECT_DATA``, then ``../shared/data``
    beside the current folder and beside the source checkout."""
    dirs = []
    if os.environ.get("PROPDETECT_DATA"):
        dirs.append(Path(os.environ["PROPDETECT_DATA"]))
    dirs.append(Path.cwd().resolve().parent / "shared" / "data")
    dirs.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    return list(dict.fromkeys(dirs))


def model_training_docs(metadata: Mapping[str, Any]) -> tuple[list[LabelledDocument] | None, str]:
    """Read the data a model was trained on, as its metadata says.

    Returns
    -------
    documents : list of LabelledDocument or None
        None when the data cannot be found.
    note : str
        What was read (or why nothing was), for the report.
    """
    td = metadata.get("training_data") or {}
    src = dict(td.get("source") or {})
    if not src and metadata.get("name") == "ptc2020":
        src = dict(BUNDLED_TRAINING_SOURCE)
    if not src:
        return None, ("the model's metadata does not say where its training data is; "
                      "pass --baseline-train-articles/--baseline-train-labels or --baseline-train-jsonl/-csv")
    base = None
    if src.get("corpus"):
        found = [d / src["corpus"] for d in shared_data_dirs() if (d / src["corpus"]).is_dir()]
        if not found:
            where = ", ".join(str(d / src["corpus"]) for d in shared_data_dirs())
            return None, (f"the model's training data ({src['corpus']}) was not found (looked in {where}); "
                          "set PROPDETECT_DATA to the folder holding it, or pass --baseline-train-*")
        base = found[0]
    try:
        docs, _ = read_source(src, base)
    except DataError as exc:
        return None, f"the model's training data could not be read: {exc}"
    what = ", ".join(f"{k}={v}" for k, v in src.items() if k != "format" and v not in (None, False))
    note = f"{src.get('format')} {what}" + (f" under {base}" if base else "")
    digest = td.get("digest")
    if digest and data_digest(d for d in docs if d.spans) != digest:
        note += " (WARNING: differs from the model's training data: digest mismatch)"
    return docs, note


def evaluate(detector: Detector, docs: Sequence[LabelledDocument],
             baseline_train_docs: Sequence[LabelledDocument] | None = None,
             baseline_note: str = "") -> dict[str, Any]:
    """The model's scores on ``docs`` and, when training data is given, the baselines'.

    Returns
    -------
    dict
        JSON-ready: ``micro_f1``, ``macro_f1``, ``binary_f1`` (with precision and
        recall), ``per_technique``, ``sentences``, ``model``, and ``baselines``
        (name -> the same metrics; empty when there was no training data, with the
        reason in ``baselines_note``).
    """
    result = evaluate_detector(detector, docs)
    meta = detector.metadata
    result["model"] = {"name": meta.get("name"), "model_version": meta.get("model_version"),
                       "techniques": len(detector.techniques)}
    result["documents"] = len(docs)
    result["baselines"] = evaluate_baselines(baseline_train_docs, docs) if baseline_train_docs else {}
    result["baselines_note"] = baseline_note
    return result


# -- renderers -------------------------------------------------------------------
def _systems(result: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    name = (result.get("model") or {}).get("name") or "model"
    return [(f"propdetect ({name})", result), *((f"baseline: {k}", v) for k, v in result["baselines"].items())]


def render_text(result: Mapping[str, Any]) -> str:
    """A plain-text report: one line per system, then per technique."""
    lines = [f"{result['documents']} documents, {result['sentences']} sentences",
             f"{'system':<28}{'micro-F1':>9}{'macro-F1':>9}{'binary-F1':>10}{'P':>7}{'R':>7}"]
    for name, r in _systems(result):
        lines.append(f"{name:<28}{r['micro_f1']:9.3f}{r['macro_f1']:9.3f}{r['binary_f1']:10.3f}"
                     f"{r['binary_precision']:7.3f}{r['binary_recall']:7.3f}")
    if result.get("baselines_note"):
        lines.append(f"baselines: {result['baselines_note']}")
    if result.get("evidence"):
        lines.append(_evidence_line(result["evidence"]))
    if result.get("span_identification"):
        lines.append(_si_line(result["span_identification"]))
    lines += ["", f"{'technique':<36}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}{'predicted':>11}"]
    for t, v in result["per_technique"].items():
        lines.append(f"{t:<36}{v['precision']:7.3f}{v['recall']:7.3f}{v['f1']:7.3f}"
                     f"{v['support']:9d}{v['predicted']:11d}")
    return "\n".join(lines)


def _evidence_line(ev: Mapping[str, Any]) -> str:
    return (f"evidence, {ev['sentences']} flagged gold-positive sentences: "
            f"{ev['inside_gold']:.3f} of evidence characters inside a gold span "
            f"(whole sentence: {ev['sentence_inside_gold']:.3f}); "
            f"{ev['touches_named']:.3f} of {ev['decisions']} decisions touch a gold span "
            "of the technique named")


def _si_line(si: Mapping[str, Any]) -> str:
    return (f"span identification (SemEval-2020 Task 11 SI measure, evidence of flagged sentences as fragments): "
            f"P {si['precision']:.3f} R {si['recall']:.3f} F1 {si['f1']:.3f} "
            f"({si['predicted_fragments']} predicted, {si['gold_fragments']} gold fragments)")


def render_markdown(result: Mapping[str, Any]) -> str:
    """Markdown tables fit for the README: systems, then per technique."""
    lines = ["| system | micro-F1 | macro-F1 | binary P | binary R | binary F1 |",
             "|---|---|---|---|---|---|"]
    for name, r in _systems(result):
        lines.append(f"| {name} | {r['micro_f1']:.3f} | {r['macro_f1']:.3f} | {r['binary_precision']:.3f} "
                     f"| {r['binary_recall']:.3f} | {r['binary_f1']:.3f} |")
    lines.append("")
    lines.append(f"{result['documents']} documents, {result['sentences']} sentences."
                 + (f" Baselines: {result['baselines_note']}." if result.get("baselines_note") else ""))
    if result.get("evidence"):
        lines += ["", _evidence_line(result["evidence"])]
    if result.get("span_identification"):
        lines += ["", _si_line(result["span_identification"])]
    lines += ["", "| technique | P | R | F1 | support |", "|---|---|---|---|---|"]
    for t, v in result["per_technique"].items():
        lines.append(f"| `{t}` | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
    return "\n".join(lines)
