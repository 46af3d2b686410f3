"""Scorers: a block of sentences -> probabilities, and the evidence of what was named.

Below :class:`~propdetect.Detector`, which splits the text, decides with thresholds,
builds the results and runs the workers, a scorer does two things (:class:`Scorer`):

* ``score(sentences, stats, offset, before)``: the technique probabilities of a block
  of one document's sentences ``(n, k)``, the propaganda ("any technique")
  probabilities ``(n,)`` or None, and whatever its evidence needs later (``state``);
* ``evidence(sentences, spans, state, rows, ks, names, top)``: for the flagged rows of
  the block, the spans that carry each named technique.

Two implementations, side by side:

* :class:`LinearScorer`, the fast model: features (``_features``), linear heads
  (``_heads``) and a token model or the heads' word weights for evidence
  (``_evidence``);
* :class:`AccurateScorer`, the accurate model: the linear scorer and the encoder
  (``_encoder``), combined by the rule of :mod:`propdetect._accurate`, with phrase
  evidence from the encoder's token head.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ._accurate import EncoderPart, token_evidence
from ._evidence import TokenModel, linear_evidence
from ._features import DocStats, Featurizer
from ._heads import Heads
from ._results import _Evidence

__all__ = ["Scorer", "LinearScorer", "AccurateScorer"]


class Scorer(Protocol):
    """What :class:`~propdetect.Detector` asks of a model's scoring half."""

    def score(self, sentences: Sequence[str], stats: DocStats | None, offset: int,
              before: str = "") -> tuple[np.ndarray, np.ndarray | None, Any]:
        """``(p, p_any, state)`` of a block; ``before`` is the sentence before it."""
        ...

    def evidence(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]], state: Any,
                 rows: list[int], ks: list[list[int]], names: Sequence[str], top: int) -> list[_Evidence]:
        """The evidence of technique indices ``ks[j]`` in sentence ``rows[j]`` of the block."""
        ...


class LinearScorer:
    """The fast model: features, linear heads, token-model evidence."""

    def __init__(self, featurizer: Featurizer, heads: Heads, token_model: TokenModel | None,
                 evidence_margin: float) -> None:
        self.featurizer = featurizer
        self.heads = heads
        self.token_model = token_model
        self.evidence_margin = evidence_margin
        self._word_cache: dict[str, tuple[np.ndarray, int]] = {}

    def score(self, sentences: Sequence[str], stats: DocStats | None, offset: int,
              before: str = "") -> tuple[np.ndarray, np.ndarray | None, Any]:
        X, D = self.featurizer.transform_doc(sentences, stats, offset)
        p, p_any = self.heads.proba(X, D)
        return p, p_any, X

    def evidence(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]], state: Any,
                 rows: list[int], ks: list[list[int]], names: Sequence[str], top: int) -> list[_Evidence]:
        """From the token model when the model has one (all sentences at once), else
        from the sentence model's word contributions."""
        if not rows:
            return []
        if self.token_model is None:
            return [_Evidence(linear_evidence(self.featurizer, self.heads.coef_lex, self._word_cache,
                                              sentences[i], spans[i][0], state, i, kl, names, top))
                    for i, kl in zip(rows, ks)]
        if len(rows) == 1:
            # One sentence: the per-sentence way has less fixed cost (same spans).
            i, kl = rows[0], ks[0]
            return [_Evidence(self.token_model.evidence(sentences[i], spans[i][0], kl, names, top,
                                                        self.evidence_margin))]
        block = self.featurizer._token_table().spans([sentences[i] for i in rows])
        counts, starts, ends = self.token_model.evidence_block(block, ks, top, self.evidence_margin)
        # offsets into the text, as one flat array of (start, end) per sentence
        n_k = [len(kl) for kl in ks]
        pair_offset = np.repeat([spans[i][0] for i in rows], n_k)
        offset = np.repeat(pair_offset, counts)
        flat = np.empty(2 * len(starts), dtype=np.int64)
        flat[0::2] = starts + offset
        flat[1::2] = ends + offset
        raw = flat.tobytes()
        ends_of = [0, *np.cumsum(counts).tolist()]
        out = []
        at = 0
        for kl in ks:
            lo = ends_of[at]
            data = array("q")
            data.frombytes(raw[16 * lo : 16 * ends_of[at + len(kl)]])  # 16 bytes a span
            out.append(_Evidence._of(tuple(map(names.__getitem__, kl)),
                                     tuple([e - lo for e in ends_of[at : at + len(kl) + 1]]), data))
            at += len(kl)
        return out


class AccurateScorer:
    """The accurate model: the linear scorer and the encoder, combined."""

    def __init__(self, linear: LinearScorer, encoder: EncoderPart) -> None:
        self.linear = linear
        self.encoder = encoder

    def score(self, sentences: Sequence[str], stats: DocStats | None, offset: int,
              before: str = "") -> tuple[np.ndarray, np.ndarray | None, Any]:
        p, p_any, X = self.linear.score(sentences, stats, offset)
        scorer = self.encoder.scorer
        previous = [before, *sentences[:-1]] if scorer.context else None
        p_enc, tokens = scorer.score(sentences, previous)
        if len(sentences):
            p, p_any = self.encoder.combination.combine(p, p_any, p_enc)
        return p, p_any, tokens

    def evidence(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]], state: Any,
                 rows: list[int], ks: list[list[int]], names: Sequence[str], top: int) -> list[_Evidence]:
        """Phrases from the encoder's token head, per named technique."""
        comb = self.encoder.combination
        thr = comb.evidence_threshold
        return [_Evidence({names[k]: [(spans[i][0] + a, spans[i][0] + b)
                                      for a, b in token_evidence(state[i], comb.token_column(k), thr, top,
                                                                 sentences[i])]
                           for k in kl})
                for i, kl in zip(rows, ks)]
