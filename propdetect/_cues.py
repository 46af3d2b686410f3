"""Cues: words that human annotators marked inside each technique's spans.

Sentence labels say *that* a sentence uses a technique; span annotations say *which
words* carry it. The cue table keeps the second kind of knowledge for every word of
the vector table: per technique, the smoothed log-lift of the word being inside a
gold span of that technique,

    log( (inside[k, w] + alpha * rate[k]) / (count[w] + alpha) / rate[k] )

where ``inside[k, w]`` counts occurrences of word ``w`` inside spans of technique
``k``, ``count[w]`` all its occurrences in the training sentences, and ``rate[k]`` the
share of all tokens that lie inside spans of ``k``. ``alpha`` pulls words seen a few
times toward no lift, and a word counts as inside only when at least
``min_docs`` documents mark it, so that one article's turn of phrase ("chop their")
is not taken for a cue of the technique.

A sentence's cue features are, per technique, the largest lift among its words and
the mean of its three largest: ``2 * n_techniques`` dense columns. During training
they are computed out of fold (each fold's sentences scored by a table built from
the other folds), so the sentence heads learn how much to trust cues on sentences
the table has not seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._tokens import STOPWORDS
from ._vectors import WordVectors

__all__ = ["CueTable", "fit_cue_table"]

# Smoothing and support (see the module docstring); fixed a priori, not tuned.
ALPHA = 20.0
MIN_DOCS = 2
_TOP = 3


class CueTable:
    """Per word of a vector table and per technique, the log-lift of being inside a
    gold span of that technique (last row: any other word, 0).

    Examples
    --------
    >>> wv = WordVectors(["evil", "rain"], np.zeros((2, 2)))
    >>> table = CueTable(np.array([[2.0], [-1.0], [0.0]]), wv)
    >>> table.features([["evil", "rain"], ["rain"], []]).tolist()
    [[2.0, 0.5], [-1.0, -1.0], [0.0, 0.0]]
    """

    def __init__(self, lift: np.ndarray, vectors: WordVectors) -> None:
        self.lift = np.asarray(lift, dtype=np.float32)
        self.vectors = vectors

    @property
    def n_features(self) -> int:
        return 2 * self.lift.shape[1]

    def features(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Per sentence and technique: the largest lift among its content words and
        the mean of the three largest (zeros for a sentence with none)."""
        n, k = len(token_lists), self.lift.shape[1]
        out = np.zeros((n, 2 * k), dtype=np.float64)
        words = [[t for t in toks if t not in STOPWORDS and t[0].isalpha()] for toks in token_lists]
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=n)
        if not lengths.sum():
            return out
        ids = self.vectors.ids([w for ws in words for w in ws])
        ids[ids < 0] = len(self.vectors)
        L = self.lift[ids]  # (tokens, k)
        width = int(lengths.max())
        pad = np.full((n, width, k), -np.inf, dtype=np.float32)
        row = np.repeat(np.arange(n), lengths)
        col = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        pad[row, col] = L
        top = -np.sort(-pad, axis=1)[:, :_TOP]  # (n, <=3, k), largest first
        has = lengths > 0
        out[has, :k] = top[has, 0]
        m = np.minimum(lengths, _TOP)[has]
        finite = np.where(np.isfinite(top[has]), top[has], 0.0)
        out[has, k:] = finite.sum(axis=1) / m[:, None]
        return out


def fit_cue_table(docs: Sequence[object], techniques: Sequence[str], vectors: WordVectors,
                  alpha: float = ALPHA, min_docs: int = MIN_DOCS) -> CueTable:
    """Count, over span-annotated documents, how often each word lies inside each
    technique's gold spans. Documents without spans are ignored.

    ``docs`` are :class:`~propdetect._corpus.LabelledDocument` objects.
    """
    from ._tokens import token_spans

    n_words = len(vectors) + 1
    K = len(techniques)
    index = {t: k for k, t in enumerate(techniques)}
    count = np.zeros(n_words)
    inside = np.zeros((n_words, K))
    doc_seen = np.zeros((n_words, K), dtype=np.int32)
    n_tokens = 0
    for d in docs:
        spans = getattr(d, "technique_spans", ())
        if not spans:
            continue
        doc_in: dict[tuple[int, int], int] = {}
        for a, b in d.spans:  # type: ignore[attr-defined]
            toks = token_spans(d.text[a:b])  # type: ignore[attr-defined]
            words = [t for t, _, _ in toks]
            ids = vectors.ids(words)
            ids[ids < 0] = len(vectors)
            np.add.at(count, ids, 1)
            n_tokens += len(ids)
            starts = np.array([a + s for _, s, _ in toks], dtype=np.int64)
            ends = np.array([a + e for _, _, e in toks], dtype=np.int64)
            for tid, gs, ge in spans:
                if gs >= b or ge <= a or tid not in index:
                    continue
                hit = ids[(starts < ge) & (ends > gs)]
                k = index[tid]
                np.add.at(inside[:, k], hit, 1)
                for w in set(hit.tolist()):
                    doc_in[(w, k)] = 1
        for (w, k) in doc_in:
            doc_seen[w, k] += 1
    inside[doc_seen < min_docs] = 0.0
    rate = np.maximum(inside.sum(axis=0), 1.0) / max(n_tokens, 1)
    lift = np.log((inside + alpha * rate) / (count[:, None] + alpha) / rate)
    lift[-1] = 0.0  # unknown words carry no cue
    return CueTable(lift.astype(np.float32), vectors)

