"""Evidence: which words of a flagged sentence carry the technique.

Two ways, depending on what the model was trained on:

* **Token model** (models trained on span-annotated data such as PTC): one logistic
  regression per technique over each token, trained on the words that human
  annotators marked inside gold spans. A token's features are its own identity
  (for the words of the vector table), its word vector, the mean vector of its
  neighbours and a few shape bits. Because the model is linear, scoring the tokens
  of a sentence is a table lookup plus one small matrix product: no per-token
  Python loop beyond tokenising. The evidence for a technique is the content
  words it scores highest (at most ``evidence_top``, and only those within
  ``evidence_margin`` logits of the best), joined into one phrase when only a
  function word lies between them ("manifestations of modern fascism").
* **Sentence-model contributions** (models trained on sentence labels only): the
  words whose n-grams add most to the sentence's linear score (see
  :func:`linear_evidence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._tokens import STOPWORDS, token_spans
from ._tokens import EVIDENCE, FLAGS, STOP, VECTOR, SpanBlock, _is_content
from ._vectors import WordVectors

__all__ = ["TOKEN_SHAPE", "TokenModel", "token_matrix", "linear_evidence", "merge_spans"]

#: Shape bits of a token, in column order after its vectors.
TOKEN_SHAPE = ("stopword", "capitalised", "all_caps", "unknown_word", "punctuation")


def token_matrix(sentence: str, vectors: WordVectors) -> tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray]:
    """Tokens of a sentence and their features for the token model.

    Returns
    -------
    tokens : list of (token, start, end)
        As :func:`propdetect._features.token_spans` gives them.
    ids : ndarray of shape (n_tokens,)
        Row of each token in the vector table; ``len(vectors)`` for unknown words
        and punctuation (one shared "other" row).
    dense : ndarray of shape (n_tokens, 2 * dim + len(TOKEN_SHAPE))
        The token's vector, the mean of its two neighbours' vectors, shape bits.
    """
    toks = token_spans(sentence)
    n = len(toks)
    d = vectors.dim
    dense = np.zeros((n, 2 * d + len(TOKEN_SHAPE)), dtype=np.float32)
    if n == 0:
        return toks, np.zeros(0, dtype=np.int64), dense
    words = [t for t, _, _ in toks]
    ids = vectors.ids(words)
    known = ids >= 0
    vec = np.zeros((n + 2, d), dtype=np.float32)  # padded: row 0 and n+1 are the edges
    vec[1:-1][known] = vectors.matrix[ids[known]]
    dense[:, :d] = vec[1:-1]
    dense[:, d : 2 * d] = 0.5 * (vec[:-2] + vec[2:])
    first = [sentence[a] for _, a, _ in toks]
    dense[:, 2 * d] = [w in STOPWORDS for w in words]
    dense[:, 2 * d + 1] = [c.isupper() for c in first]
    dense[:, 2 * d + 2] = [len(w) > 2 and sentence[a:b].isupper() for w, a, b in toks]
    dense[:, 2 * d + 3] = ~known
    dense[:, 2 * d + 4] = [not c.isalnum() for c in first]
    ids = np.where(known, ids, len(vectors))
    return toks, ids, dense


class TokenModel:
    """Per-technique linear scores of each token of a sentence.

    Parameters
    ----------
    word_weights : ndarray of shape (n_words + 1, n_techniques)
        Weight of each word of the vector table (last row: any other token).
    dense_weights : ndarray of shape (2 * dim + len(TOKEN_SHAPE), n_techniques)
    intercept : ndarray of shape (n_techniques,)
    vectors : WordVectors
        The table whose rows ``word_weights`` follows.
    """

    def __init__(self, word_weights: np.ndarray, dense_weights: np.ndarray,
                 intercept: np.ndarray, vectors: WordVectors) -> None:
        self.word_weights = np.asarray(word_weights, dtype=np.float32)
        self.dense_weights = np.asarray(dense_weights, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.vectors = vectors

    def scores(self, sentence: str, ks: Sequence[int]) -> tuple[list[tuple[str, int, int]], np.ndarray]:
        """Tokens of ``sentence`` and their logits for techniques ``ks``:
        an array of shape (n_tokens, len(ks))."""
        toks, ids, dense = token_matrix(sentence, self.vectors)
        ks = list(ks)
        z = self.word_weights[ids][:, ks] + _dense_logits(dense, self.dense_weights)[:, ks] + self.intercept[ks]
        return toks, z

    def evidence(self, sentence: str, offset: int, ks: Sequence[int], names: Sequence[str],
                 top: int, margin: float = float("inf")) -> dict[str, list[tuple[int, int]]]:
        """For each technique ``k`` in ``ks``: the spans (shifted by ``offset``) of the
        content words it scores highest, at most ``top`` of them and only those within
        ``margin`` (in logits) of the best one, a function word between two chosen
        words joining them into one phrase."""
        toks, z = self.scores(sentence, ks)
        out: dict[str, list[tuple[int, int]]] = {}
        if not toks:
            return {names[k]: [] for k in ks}
        content = np.fromiter((_is_content(w) for w, _, _ in toks), dtype=bool, count=len(toks))
        stop = np.fromiter((w in STOPWORDS for w, _, _ in toks), dtype=bool, count=len(toks))
        for c, k in enumerate(ks):
            score = np.where(content, z[:, c], -np.inf)
            chosen = np.zeros(len(toks), dtype=bool)
            order = np.argsort(-score, kind="stable")[: max(top, 0)]
            order = order[np.isfinite(score[order])]
            if len(order):
                order = order[score[order] >= score[order[0]] - margin]
            chosen[order] = True
            # a single function word between two chosen words joins them
            bridge = np.zeros_like(chosen)
            bridge[1:-1] = chosen[:-2] & chosen[2:] & stop[1:-1]
            chosen |= bridge
            spans = [(toks[i][1], toks[i][2]) for i in np.flatnonzero(chosen).tolist()]
            out[names[k]] = merge_spans(spans, offset, sentence)
        return out


    def evidence_block(self, block: SpanBlock, ks: Sequence[Sequence[int]], top: int,
                       margin: float = float("inf")) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`evidence` for several sentences at once.

        Parameters
        ----------
        block : SpanBlock
            The sentences' tokens (``TokenTable.spans``, from the same vectors).
        ks : sequence of sequence of int
            Per sentence, the techniques to find evidence for, in order.
        top, margin
            As for :meth:`evidence`.

        Returns
        -------
        counts : ndarray of shape (n_pairs,)
            Spans found for each (sentence, technique) pair, sentence by sentence,
            techniques in the order of ``ks``.
        starts, ends : ndarray of shape (counts.sum(),)
            The spans, pair by pair, offsets into their sentence: the same spans
            as :meth:`evidence` gives, to the bit (the token logits are computed
            per sentence, with the same matrix product, so no near tie can turn
            the other way).
        """
        lengths = block.lengths
        lo = np.cumsum(lengths) - lengths
        vec_ids = block.facts[:, VECTOR]
        known = vec_ids >= 0
        dense = self._token_features(block, vec_ids, known, lo)
        word_rows = np.take(self.word_weights, np.where(known, vec_ids, len(self.vectors)), axis=0)
        dense_z = _dense_logits(dense, self.dense_weights)  # every technique, the whole block at once
        z_parts = []
        for j, kl in enumerate(ks):
            a, b = lo[j], lo[j] + lengths[j]
            if a == b or not len(kl):
                continue
            kl = list(kl)
            # As in scores(), so that the logits are the same to the bit.
            z = word_rows[a:b][:, kl] + dense_z[a:b][:, kl] + self.intercept[kl]
            z_parts.append(z.T.ravel())
        n_k = np.fromiter(map(len, ks), dtype=np.int64, count=len(ks))
        pair_sent = np.repeat(np.arange(len(ks)), n_k)
        pair_len = lengths[pair_sent]
        pair_lo = np.cumsum(pair_len) - pair_len
        g = np.repeat(np.arange(len(pair_sent)), pair_len)  # pair of each (pair, token) entry
        tok = np.arange(len(g)) - pair_lo[g] + lo[pair_sent][g]  # its token in the block
        z = np.concatenate(z_parts) if z_parts else np.zeros(0, dtype=np.float32)
        flags = block.facts[tok, FLAGS]
        score = np.where((flags & EVIDENCE) > 0, z, -np.inf).astype(np.float32)
        # Per pair: the `top` best content words (ties: the earlier word), and only
        # those within `margin` of the best, computed in float32 as evidence() does.
        order = np.lexsort((tok, -score, g))
        ranked = score[order]
        rank = np.arange(len(g)) - pair_lo[g[order]]
        best = np.full(len(pair_len), -np.inf, dtype=np.float32)
        has = pair_len > 0
        best[has] = ranked[pair_lo[has]]
        floor = best - np.float32(margin)
        keep = (rank < max(top, 0)) & np.isfinite(ranked) & (ranked >= floor[g[order]])
        chosen = np.zeros(len(g), dtype=bool)
        chosen[order[keep]] = True
        # a single function word between two chosen words of the pair joins them
        if len(g) > 2:
            same = (g[:-2] == g[1:-1]) & (g[2:] == g[1:-1])
            chosen[1:-1] |= chosen[:-2] & chosen[2:] & ((flags[1:-1] & STOP) > 0) & same
        # merge_spans: chosen neighbours with only whitespace between them are one span
        at = np.flatnonzero(chosen)
        joined = np.zeros(len(at), dtype=bool)
        joined[1:] = (at[1:] == at[:-1] + 1) & (g[at[1:]] == g[at[:-1]]) & block.blank_after[tok[at[:-1]]]
        first = at[~joined]
        last = at[np.append(~joined[1:], True)] if len(at) else at
        counts = np.bincount(g[first], minlength=len(pair_len))
        return counts, block.starts[tok[first]], block.ends[tok[last]]

    def _token_features(self, block: SpanBlock, vec_ids: np.ndarray, known: np.ndarray,
                        lo: np.ndarray) -> np.ndarray:
        """:func:`token_matrix`'s ``dense`` for every token of a block."""
        n, d = len(vec_ids), self.vectors.dim
        dense = np.zeros((n, 2 * d + len(TOKEN_SHAPE)), dtype=np.float32)
        vec = dense[:, :d]
        vec[known] = np.take(self.vectors.matrix, vec_ids[known], axis=0)
        # neighbours' mean: zeros beyond the sentence's ends, as token_matrix pads
        prev = np.zeros_like(vec)
        nxt = np.zeros_like(vec)
        prev[1:] = vec[:-1]
        nxt[:-1] = vec[1:]
        nonempty = block.lengths > 0
        prev[lo[nonempty]] = 0.0
        nxt[(lo + block.lengths - 1)[nonempty]] = 0.0
        dense[:, d : 2 * d] = 0.5 * (prev + nxt)
        flags = block.facts[:, FLAGS]
        dense[:, 2 * d] = (flags & STOP) > 0
        dense[:, 2 * d + 1] = block.first_upper
        dense[:, 2 * d + 2] = block.all_caps
        dense[:, 2 * d + 3] = ~known
        dense[:, 2 * d + 4] = block.punct
        return dense


def _dense_logits(dense: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``dense @ weights`` as float32, the same on every processor.

    A float32 BLAS product sums in an order that depends on the processor
    (OpenBLAS's AVX-512 and AVX2 kernels differ in the last bit), and a near tie
    between two words' logits then picks different evidence on different machines.
    Here the product is taken in float64, where each product of two float32 numbers
    is exact and the sums differ between kernels only around 1e-16, and rounded to
    float32: the kernels agree unless a sum falls within that distance of a float32
    rounding boundary (about one element in ten million).

    >>> d = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    >>> _dense_logits(d, np.array([[1.0], [0.5]], dtype=np.float32)).tolist()
    [[2.0], [5.0]]
    """
    w = weights.astype(np.float64)
    out = np.empty((dense.shape[0], weights.shape[1]), dtype=np.float32)
    # Row blocks small enough that OpenBLAS runs each product on one thread: its
    # threads would cost more than such small products (and spin on the CPU).
    for i in range(0, dense.shape[0], _LOGIT_ROWS):
        out[i : i + _LOGIT_ROWS] = dense[i : i + _LOGIT_ROWS].astype(np.float64) @ w
    return out


_LOGIT_ROWS = 128


def merge_spans(spans: list[tuple[int, int]], offset: int,
                text: str | None = None) -> list[tuple[int, int]]:
    """Sorted spans, overlapping ones merged (and, given the ``text`` they index,
    ones separated by whitespace only), shifted by ``offset``.

    >>> merge_spans([(0, 4), (5, 9), (20, 23)], 100, "evil regime is here, yes")
    [(100, 109), (120, 123)]
    """
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and (a <= merged[-1][1] or (text is not None and not text[merged[-1][1]:a].strip())):
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return [(a + offset, b + offset) for a, b in merged]


def linear_evidence(featurizer: Any, coef_lex: np.ndarray, word_cache: dict[str, tuple[np.ndarray, int]],
                    sentence: str, offset: int, X: Any, row: int, ks: list[int],
                    names: Sequence[str], top: int) -> dict[str, list[tuple[int, int]]]:
    """The words of the sentence that add most to each technique's score.

    For models without a token model. The sentence model is linear, so a
    technique's score is a sum of one term per feature (weight x TF-IDF value).
    Those terms are gathered into units a reader can see: each word (its unigram
    plus, split evenly among the words that contain it, each of its character
    n-grams) and each word n-gram. The ``top`` units that add most, if they add
    anything, are the evidence; function words alone ("as", "as a") never are.
    """
    f = featurizer
    vocab = f.vocabulary_
    lo, hi = X.indptr[row], X.indptr[row + 1]
    cols, vals = X.indices[lo:hi], X.data[lo:hi]
    if len(cols) == 0:
        return {names[k]: [] for k in ks}
    toks = token_spans(sentence)
    words = [t for t, _, _ in toks]
    n_word = f.n_word_terms_
    spans: list[tuple[int, int]] = []
    feats: list[np.ndarray] = []
    n_char: list[int] = []
    for i, w in enumerate(words):
        if w in STOPWORDS:
            continue
        fw, nc = _word_features(f, word_cache, w)
        spans.append((toks[i][1], toks[i][2]))
        feats.append(fw)
        n_char.append(nc)
    n_units_words = len(spans)
    bigram_feats: list[int] = []
    for n in range(2, f.ngram_max + 1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if all(w in STOPWORDS for w in gram):
                continue
            j = vocab.get(" ".join(gram))
            if j is not None and j < n_word:
                bigram_feats.append(j)
                spans.append((toks[i][1], toks[i + n - 1][2]))
    lengths = [len(x) for x in feats]
    u_idx = np.concatenate([
        np.repeat(np.arange(n_units_words), lengths),
        np.arange(n_units_words, len(spans)),
    ]).astype(np.int64)
    u_feat = np.concatenate([*feats, np.asarray(bigram_feats, dtype=np.int64)]).astype(np.int64)
    # the last n_char[u] features of a word unit are its char n-grams
    u_char = np.zeros(len(u_feat), dtype=bool)
    at = 0
    for ln, nc in zip(lengths, n_char):
        u_char[at + ln - nc : at + ln] = True
        at += ln
    if not len(u_feat):
        return {names[k]: [] for k in ks}
    pos = np.minimum(np.searchsorted(cols, u_feat), len(cols) - 1)
    ok = cols[pos] == u_feat
    unit, pos, is_char = u_idx[ok], pos[ok], u_char[ok]
    # A char n-gram found in m words gives each of them 1/m of its term.
    mult = np.bincount(pos[is_char], minlength=len(cols))
    share = np.where(is_char, 1.0 / np.maximum(mult[pos], 1), 1.0)
    terms = coef_lex[cols][:, ks] * vals[:, None]  # (features, len(ks))
    w = terms[pos] * share[:, None]
    scores = np.column_stack([np.bincount(unit, weights=w[:, c], minlength=len(spans))
                              for c in range(len(ks))])
    out: dict[str, list[tuple[int, int]]] = {}
    for c, k in enumerate(ks):
        order = np.argsort(-scores[:, c], kind="stable")[:top]
        chosen = [spans[u] for u in order.tolist() if scores[u, c] > 0]
        out[names[k]] = merge_spans(chosen, offset)
    return out


def _word_features(f: Any, cache: dict[str, tuple[np.ndarray, int]], word: str) -> tuple[np.ndarray, int]:
    """Columns of a word's unigram and char n-grams (cached), and how many of
    them (at the end) are char n-grams."""
    hit = cache.get(word)
    if hit is None:
        j = f.vocabulary_.get(word)
        head = [j] if j is not None and j < f.n_word_terms_ else []
        chars = sorted(set(f._char_ids(word))) if f.char_ngrams and word[0].isalpha() else []
        hit = (np.asarray(head + chars, dtype=np.int64), len(chars))
        if len(cache) >= 100_000:  # bounded on endless new words
            cache.clear()
        cache[word] = hit
    return hit
