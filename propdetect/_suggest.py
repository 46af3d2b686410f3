"""Which sentences to label next: uncertainty near the thresholds, spread over techniques and documents.

A label teaches a model most where it is least sure of its decision. A detector names a
technique when the calibrated probability reaches that technique's threshold, so a
sentence whose probability sits at a threshold is one whose label decides which side it
belongs to; one far below every threshold (most sentences of most articles) teaches
little. :func:`suggest` scores every sentence by how close its most uncertain decision
is to its threshold, then picks greedily, halving a sentence's priority for each
suggestion already taken from its document and for each "fair share" already taken for
its technique, and skipping near-copies of suggestions already taken: 200 suggestions
are then 200 different sentences from many documents, about many techniques.

``training/active_loop.py`` measures it on PTC-2020: models retrained with sentences
chosen this way against the same numbers of randomly chosen sentences.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._results import Analysis, Sentence

if TYPE_CHECKING:  # pragma: no cover
    from ._corpus import LabelledDocument
    from ._detector import Detector

__all__ = ["Suggestion", "suggest", "uncertainty"]

#: The name of the "any technique" decision (the propaganda flag) in :attr:`Suggestion.decision`.
PROPAGANDA = "propaganda"

# Each suggestion already taken from a document, and each fair share (n / number of
# decisions) already taken for a technique, multiplies a candidate's priority by this:
# a judgement call, not tuned (the loop of training/active_loop.py ran with it as is).
_DECAY = 0.5

# Two sentences whose word sets overlap this much (Jaccard) are near-copies: wire
# stories repeated across articles, boilerplate ("Read more: ..."), quotes.
_NEAR_COPY = 0.8

_WORD = re.compile(r"[^\W_]+")


def uncertainty(p: np.ndarray | float, threshold: np.ndarray | float) -> np.ndarray:
    """How close a probability is to its decision threshold: 1 at the threshold, 0 at 0 or 1.

    ``p / threshold`` below the threshold and ``(1 - p) / (1 - threshold)`` above it:
    both sides are measured in the room they have, so that a rare technique with a
    threshold of 0.2 is as uncertain at 0.1 as a frequent one with a threshold of 0.6
    at 0.3.

    Parameters
    ----------
    p : float or array
        Calibrated probabilities.
    threshold : float or array
        Their thresholds (broadcast against ``p``).

    Returns
    -------
    ndarray
        In [0, 1], the shape of ``p`` broadcast with ``threshold``.

    Examples
    --------
    >>> uncertainty([0.1, 0.2, 0.6, 1.0], 0.2).round(3).tolist()
    [0.5, 1.0, 0.5, 0.0]
    """
    p = np.asarray(p, dtype=np.float64)
    t = np.clip(np.asarray(threshold, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.clip(np.where(p < t, p / t, (1.0 - p) / (1.0 - t)), 0.0, 1.0)


@dataclass(frozen=True)
class Suggestion:
    """One sentence worth labelling, and why it was chosen.

    Attributes
    ----------
    rank : int
        1 for the first sentence to label.
    doc_id : str
        The document it belongs to (the id given, else its index as a string).
    start, end : int
        Character offsets into that document's text.
    text : str
        The sentence: ``document[start:end] == text``.
    priority : float
        What ranked it: :attr:`uncertainty` after the spread penalties.
    uncertainty : float
        How close its most uncertain decision is to its threshold (1: at it;
        :func:`uncertainty`).
    decision : str
        That decision: a technique id, or ``"propaganda"`` for the propaganda flag.
    probability, threshold : float
        That decision's probability and threshold.
    also_uncertain : tuple of str
        Other decisions with an uncertainty of at least 0.5, most uncertain first.
    same_document, same_decision : int
        Suggestions ranked before it from the same document, and for the same
        decision (they lowered its priority).
    sentence : Sentence
        The model's full result for it (scores, techniques named, evidence with
        offsets into the document): what a pre-annotation shows.
    """

    rank: int
    doc_id: str
    start: int
    end: int
    text: str
    priority: float
    uncertainty: float
    decision: str
    probability: float
    threshold: float
    also_uncertain: tuple[str, ...] = ()
    same_document: int = 0
    same_decision: int = 0
    sentence: Sentence | None = field(default=None, repr=False)

    @property
    def reason(self) -> str:
        """Why it was chosen, in one sentence."""
        side = "below" if self.probability < self.threshold else "at or above"
        out = (f"{self.decision} probability {self.probability:.3f}, {side} its threshold {self.threshold:.3f} "
               f"(uncertainty {self.uncertainty:.2f})")
        if self.also_uncertain:
            out += "; also uncertain: " + ", ".join(self.also_uncertain)
        if self.same_document or self.same_decision:
            out += (f"; ranked after {self.same_document} suggestion(s) from its document and "
                    f"{self.same_decision} for {self.decision}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: the sentence's fields as ``propdetect analyze`` writes
        them (``start``, ``end``, ``text``, ``techniques``, ``scores``, ``evidence``,
        ``propaganda_score``; offsets into the document) with ``doc_id``, ``rank``,
        ``priority`` and ``why``."""
        sentence = self.sentence.to_dict() if self.sentence is not None else {
            "start": self.start, "end": self.end, "text": self.text}
        return {
            "doc_id": self.doc_id,
            "rank": self.rank,
            **sentence,
            "priority": self.priority,
            "why": {
                "decision": self.decision,
                "probability": self.probability,
                "threshold": self.threshold,
                "uncertainty": self.uncertainty,
                "also_uncertain": list(self.also_uncertain),
                "same_document": self.same_document,
                "same_decision": self.same_decision,
                "reason": self.reason,
            },
        }


def _words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def _near_copy(words: frozenset[str], taken: Sequence[frozenset[str]]) -> bool:
    for other in taken:
        union = len(words | other)
        if union == 0 or len(words & other) / union >= _NEAR_COPY:
            return True
    return False


def _documents(texts: Any, ids: Sequence[str] | None, detector: Detector,
               n_jobs: int | None) -> tuple[list[str], list[Analysis]]:
    """``(doc ids, analyses)`` of ``texts``: strings (split by the detector), a mapping
    id -> text, or LabelledDocuments (scored on their own sentence spans)."""
    from ._corpus import LabelledDocument
    from ._detector import _check_item

    if isinstance(texts, (str, bytes)):
        raise TypeError("suggest() takes an iterable of texts (or a mapping id -> text), not one str: "
                        "wrap it in a list")
    if isinstance(texts, Mapping):
        if ids is not None:
            raise TypeError("give ids or a mapping id -> text, not both")
        ids, texts = [str(k) for k in texts], list(texts.values())
    items = list(texts)
    if ids is not None:
        ids = [str(i) for i in ids]
        if len(ids) != len(items):
            raise ValueError(f"{len(ids)} ids for {len(items)} texts")
    if items and all(isinstance(d, LabelledDocument) for d in items):
        docs: list[LabelledDocument] = items
        analyses = [Analysis(tuple(detector._sentences(d.text, list(d.spans)))) if d.spans else Analysis(())
                    for d in docs]
        return ids if ids is not None else [d.id for d in docs], analyses
    strings = [_check_item(t, i, "suggest") for i, t in enumerate(items)]
    analyses = detector.detect_many(strings, n_jobs=n_jobs)
    return ids if ids is not None else [str(i) for i in range(len(items))], analyses


def suggest(texts: Iterable[str] | Mapping[str, str] | Iterable[LabelledDocument], n: int = 200, *,
            model: Detector | str | None = None, ids: Sequence[str] | None = None,
            skip: Iterable[tuple[str, int, int]] = (), n_jobs: int | None = None) -> list[Suggestion]:
    """Rank the sentences of unlabelled texts by how much a label would teach the model.

    Every decision the model makes about a sentence (each technique, and the
    propaganda flag when the model has one) gets an :func:`uncertainty`: 1 when
    the probability sits at its threshold. A sentence counts by its most uncertain
    decision. Sentences are then picked greedily, the most uncertain first, but
    each suggestion already taken from the same document halves a candidate's
    priority, and so does each ``n / (number of decisions)`` already taken for the
    same decision; a sentence whose words overlap a taken one's by 80% or more
    (Jaccard) is left out as a near-copy.

    Parameters
    ----------
    texts : iterable of str, mapping of id to str, or iterable of LabelledDocument
        The unlabelled documents. Strings are split into sentences as
        :meth:`Detector.detect` splits them; LabelledDocuments (e.g. from
        :func:`propdetect.load_documents`) keep their own sentences and ids.
    n : int, default=200
        How many suggestions (fewer when the texts hold fewer sentences).
    model : Detector or str, optional
        The model whose uncertainty counts: a :class:`Detector`, or a name or
        folder for :meth:`Detector.load` (default: the default bundled model).
        Thresholds set with :meth:`Detector.with_thresholds` are the ones used.
    ids : sequence of str, optional
        Document ids for strings (default: ``"0"``, ``"1"``, ...).
    skip : iterable of (doc_id, start, end)
        Sentences never to suggest, e.g. those labelled already.
    n_jobs : int, optional
        Worker processes for scoring strings, as for :meth:`Detector.detect_many`.

    Returns
    -------
    list of Suggestion
        Best first; ``to_dict()`` gives the JSON Lines record
        ``propdetect suggest`` writes.

    Raises
    ------
    TypeError
        One string instead of an iterable, or an item that is not a string.
    ValueError
        ``n`` below 1, or as many ids as texts not given.

    Examples
    --------
    >>> import propdetect
    >>> texts = {"a1": "The council met on Tuesday. These corrupt traitors will destroy us all! "
    ...                "Is this really what the experts want?",
    ...          "a2": "Rain is expected tomorrow. Our great nation will never surrender to these thugs."}
    >>> picks = propdetect.suggest(texts, n=3)
    >>> [p.rank for p in picks]
    [1, 2, 3]
    >>> p = picks[0]
    >>> texts[p.doc_id][p.start:p.end] == p.text, 0 <= p.uncertainty <= 1
    (True, True)
    >>> sorted(p.to_dict()["why"])[:3]
    ['also_uncertain', 'decision', 'probability']
    """
    from ._detector import Detector

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of suggestions, got {n!r}")
    det = model if isinstance(model, Detector) else Detector.load(model)
    doc_ids, analyses = _documents(texts, ids, det, n_jobs)
    skipped = {(str(d), int(a), int(b)) for d, a, b in skip}

    names = list(det.techniques)
    thresholds = np.array([det.thresholds[t] for t in names], dtype=np.float64)
    any_threshold = det.propaganda_threshold
    if any_threshold is not None:
        names.append(PROPAGANDA)
        thresholds = np.append(thresholds, any_threshold)

    cands: list[tuple[int, Sentence]] = [
        (d, s) for d, a in enumerate(analyses) for s in a.sentences
        if (doc_ids[d], s.start, s.end) not in skipped and s.text.strip()]
    if not cands:
        return []
    P = np.array([[s.scores[t] for t in det.techniques] for _, s in cands], dtype=np.float64)
    if any_threshold is not None:
        P = np.column_stack([P, [s.propaganda_score for _, s in cands]])
    U = uncertainty(P, thresholds)
    best = U.argmax(axis=1)
    u = U[np.arange(len(cands)), best]

    share = max(1.0, n / len(names))
    per_doc: Counter = Counter()
    per_decision: Counter = Counter()
    taken: list[Suggestion] = []
    taken_words: list[frozenset[str]] = []

    def priority(i: int) -> float:
        return float(u[i] * _DECAY ** per_doc[cands[i][0]] * _DECAY ** (per_decision[int(best[i])] / share))

    # Lazy greedy: priorities only fall as suggestions are taken, so a candidate whose
    # recomputed priority still beats the stored best of the rest is the true best.
    # Ties go to the earlier sentence (document order), which keeps the order stable.
    heap = [(-float(u[i]), i) for i in range(len(cands))]
    heapq.heapify(heap)
    while heap and len(taken) < n:
        stored, i = heapq.heappop(heap)
        now = priority(i)
        if heap and -now > heap[0][0]:
            heapq.heappush(heap, (-now, i))
            continue
        d, s = cands[i]
        words = _words(s.text)
        if _near_copy(words, taken_words):
            continue
        k = int(best[i])
        order = np.argsort(-U[i], kind="stable")
        also = tuple(names[j] for j in order if j != k and U[i, j] >= 0.5)
        taken.append(Suggestion(
            rank=len(taken) + 1, doc_id=doc_ids[d], start=s.start, end=s.end, text=s.text,
            priority=now, uncertainty=float(u[i]), decision=names[k], probability=float(P[i, k]),
            threshold=float(thresholds[k]), also_uncertain=also, same_document=per_doc[d],
            same_decision=per_decision[k], sentence=s))
        taken_words.append(words)
        per_doc[d] += 1
        per_decision[k] += 1
    return taken
