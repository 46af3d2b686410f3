"""Typed, frozen results: one :class:`Sentence` per sentence, one :class:`Analysis` per text."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Sentence", "Analysis"]

Span = tuple[int, int]



@lru_cache(maxsize=64)
def _columns(ids: tuple[str, ...]) -> Mapping[str, int]:
    """Technique id -> column, shared by every score mapping with the same ids."""
    return MappingProxyType({t: j for j, t in enumerate(ids)})


class _Frozen(Mapping[str, Any]):
    """A compact read-only mapping over ``_keys`` (any container of the keys, in
    order); subclasses store the values and define ``__getitem__``."""

    __slots__ = ()
    _keys: Any

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        # Plain values: one row rather than the block a row belongs to, no proxies.
        return (type(self), (dict(self.items()),))


class _Scores(_Frozen):
    """Read-only mapping technique id -> probability over one row of a shared array.

    A detector scores sentences in blocks; each sentence's scores are a view of its
    row (about 80 bytes) instead of a dict of 14 boxed floats (about 1 KB), which is
    what keeps the results of a 50 MB document in memory. It behaves as a read-only
    ``dict``: ``s.scores["doubt"]``, ``dict(s.scores)``, iteration in the model's
    technique order, equality with any mapping holding the same items.

    Examples
    --------
    >>> s = _Scores({"doubt": 0.25, "slogans": 0.5})
    >>> s["slogans"], list(s), s == {"slogans": 0.5, "doubt": 0.25}
    (0.5, ['doubt', 'slogans'], True)
    """

    __slots__ = ("_keys", "_block", "_row")

    def __init__(self, scores: Mapping[str, float] | None = None) -> None:
        scores = dict(scores or {})
        if not all(isinstance(k, str) for k in scores):
            raise TypeError("score keys must be technique ids (str)")
        block = np.array([[float(v) for v in scores.values()]], dtype=np.float64)
        block.flags.writeable = False
        self._keys = _columns(tuple(scores))
        self._block = block.reshape(1, len(scores))
        self._row = 0

    @classmethod
    def _of_row(cls, ids: tuple[str, ...], block: np.ndarray, row: int) -> _Scores:
        """The scores of ``block[row]``; ``block`` must not change afterwards."""
        self = cls.__new__(cls)
        self._keys = _columns(ids)
        self._block = block
        self._row = row
        return self

    @classmethod
    def _of_rows(cls, ids: tuple[str, ...], block: np.ndarray) -> list[_Scores]:
        """``[_of_row(ids, block, i) for i in range(len(block))]``, faster."""
        keys, new = _columns(ids), cls.__new__
        out = []
        for row in range(len(block)):
            self = new(cls)
            self._keys, self._block, self._row = keys, block, row
            out.append(self)
        return out

    def __getitem__(self, key: str) -> float:
        return float(self._block[self._row, self._keys[key]])

    def as_dict(self) -> dict[str, float]:
        """A plain ``dict`` copy (faster than ``dict(scores)``)."""
        return dict(zip(self._keys, self._block[self._row].tolist()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Scores):
            return self.as_dict() == other.as_dict()
        if isinstance(other, Mapping):
            return self.as_dict() == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] - a mapping, like dict


def _freeze_scores(scores: Mapping[str, float]) -> Mapping[str, float]:
    return scores if isinstance(scores, _Scores) else _Scores(scores)


@lru_cache(maxsize=4096)
def _shared(t: tuple[Any, ...]) -> tuple[Any, ...]:
    """One object for equal small tuples (technique-id combinations, span counts)."""
    return t


class _Evidence(_Frozen):
    """Read-only mapping technique id -> spans, stored as one flat array of offsets.

    About 250 bytes for a flagged sentence instead of ~1 KB for a dict of tuples of
    tuples of boxed ints; the spans are built as tuples when asked for.

    Examples
    --------
    >>> e = _Evidence({"doubt": [(0, 3), (9, 12)], "slogans": [(4, 8)]})
    >>> e["doubt"], list(e), e == {"slogans": ((4, 8),), "doubt": ((0, 3), (9, 12))}
    (((0, 3), (9, 12)), ['doubt', 'slogans'], True)
    """

    __slots__ = ("_keys", "_ends", "_flat")

    def __init__(self, evidence: Mapping[str, Any] | None = None) -> None:
        evidence = evidence or {}
        keys, ends, flat = [], [0], array("q")
        for k, spans in evidence.items():
            if not isinstance(k, str):
                raise TypeError("evidence keys must be technique ids (str)")
            for a, b in spans:
                flat.append(int(a))
                flat.append(int(b))
            keys.append(k)
            ends.append(len(flat) // 2)
        self._keys = _shared(tuple(keys))
        self._ends = _shared(tuple(ends))
        self._flat = flat

    @classmethod
    def _of(cls, keys: tuple[str, ...], ends: tuple[int, ...], flat: array) -> _Evidence:
        """Evidence already in this form: span ``j`` is ``flat[2j:2j+2]``, the spans of
        ``keys[i]`` are ``ends[i]`` to ``ends[i+1]`` (``ends[0] == 0``)."""
        self = cls.__new__(cls)
        self._keys, self._ends, self._flat = _shared(keys), _shared(ends), flat
        return self

    def keys_tuple(self) -> tuple[str, ...]:
        """The keys, in order, as a tuple (shared between equal ones)."""
        return self._keys

    def __getitem__(self, key: str) -> tuple[Span, ...]:
        try:
            i = self._keys.index(key)
        except ValueError:
            raise KeyError(key) from None
        flat = self._flat
        return tuple((flat[2 * j], flat[2 * j + 1]) for j in range(self._ends[i], self._ends[i + 1]))



_NO_EVIDENCE = _Evidence()


def _freeze_evidence(evidence: Mapping[str, Any]) -> Mapping[str, tuple[Span, ...]]:
    if not evidence:
        return _NO_EVIDENCE
    if isinstance(evidence, _Evidence):
        return evidence
    return _Evidence(evidence)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the analysed text and what the model found in it.

    Attributes
    ----------
    text : str
        The sentence, exactly as in the input: ``input[start:end] == text``.
    start, end : int
        Character offsets (Python string indices) into the input text.
    techniques : tuple of str
        Ids of the techniques whose score reached their decision threshold,
        most confident first (highest score relative to its threshold).
    scores : mapping of str to float
        Every one of the model's technique ids -> calibrated probability in [0, 1].
    evidence : mapping of str to tuple of (int, int)
        For each technique in ``techniques``: the character spans (into the input
        text) of the words that carry it (for models trained on span annotations,
        the words a human annotator would most likely have marked).
    propaganda_score : float or None
        Calibrated probability that the sentence uses any technique, from the
        model's dedicated "any technique" head; the sentence is flagged when it
        reaches that head's threshold. ``None`` for models without that head.
    """

    text: str
    start: int
    end: int
    techniques: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    evidence: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)
    propaganda_score: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "techniques", tuple(self.techniques))
        object.__setattr__(self, "scores", _freeze_scores(self.scores))
        object.__setattr__(self, "evidence", _freeze_evidence(self.evidence))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Sentence, (self.text, self.start, self.end, self.techniques,
                           self.scores, self.evidence, self.propaganda_score))

    @property
    def flagged(self) -> bool:
        """True when at least one technique was found."""
        return bool(self.techniques)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (evidence spans as ``[start, end]`` lists)."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "techniques": list(self.techniques),
            "scores": self.scores.as_dict(),  # type: ignore[attr-defined] - always _Scores
            "evidence": {k: [list(s) for s in v] for k, v in self.evidence.items()},
            "propaganda_score": self.propaganda_score,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sentence:
        """Rebuild a sentence from :meth:`to_dict` output."""
        return cls(
            text=data["text"],
            start=int(data["start"]),
            end=int(data["end"]),
            techniques=tuple(data.get("techniques", ())),
            scores=data.get("scores", {}),
            evidence=data.get("evidence", {}),
            propaganda_score=(None if data.get("propaganda_score") is None
                              else float(data["propaganda_score"])),
        )


# Sentence's fields, set directly: what a detector makes is already in frozen form,
# and skipping __init__ and __post_init__ saves a few microseconds per sentence.
_SENTENCE_SETTERS = tuple(getattr(Sentence, name).__set__ for name in
                          ("text", "start", "end", "techniques", "scores", "evidence", "propaganda_score"))


def _sentence(text: str, start: int, end: int, techniques: tuple[str, ...], scores: _Scores,
              evidence: _Evidence, propaganda_score: float | None) -> Sentence:
    """A :class:`Sentence` from values already frozen (a tuple, :class:`_Scores`,
    :class:`_Evidence`): what ``Sentence(...)`` would make, without its checks."""
    s = object.__new__(Sentence)
    set_text, set_start, set_end, set_techniques, set_scores, set_evidence, set_score = _SENTENCE_SETTERS
    set_text(s, text)
    set_start(s, start)
    set_end(s, end)
    set_techniques(s, techniques)
    set_scores(s, scores)
    set_evidence(s, evidence)
    set_score(s, propaganda_score)
    return s


@dataclass(frozen=True)
class Analysis:
    """The sentences of one text with the techniques found in each.

    Attributes
    ----------
    sentences : tuple of Sentence
        In text order; blank lines and surrounding whitespace belong to none.
    warnings : tuple of str
        What the reader should know before trusting the results, one sentence
        each: the text does not look like English (the models know English only),
        or it is too short to tell. Empty for an English article.
    """

    sentences: tuple[Sentence, ...] = ()
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sentences", tuple(self.sentences))
        if isinstance(self.warnings, str):
            raise TypeError("warnings is a tuple of str, not one str")
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def flagged(self) -> tuple[Sentence, ...]:
        """The sentences in which at least one technique was found."""
        return tuple(s for s in self.sentences if s.techniques)

    def technique_counts(self) -> dict[str, int]:
        """Number of sentences flagged with each technique (only those found)."""
        counts: dict[str, int] = {}
        for s in self.sentences:
            for t in s.techniques:
                counts[t] = counts.get(t, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: ``{"sentences": [...], "warnings": [...]}``."""
        return {"sentences": [s.to_dict() for s in self.sentences], "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Analysis:
        """Rebuild an analysis from :meth:`to_dict` output (``warnings`` optional)."""
        return cls(tuple(Sentence.from_dict(s) for s in data["sentences"]), tuple(data.get("warnings", ())))

    def to_frame(self, source: Any = 0) -> Any:
        """Return a pandas DataFrame with one row per sentence (needs pandas).

        The columns of :func:`propdetect.to_frame`: ``source`` (here ``source``),
        ``start``, ``end``, ``text``, ``techniques``, then one probability column
        per technique.

        Examples
        --------
        >>> import propdetect
        >>> df = propdetect.detect("Rain. Sun.").to_frame()
        >>> df[["source", "start", "end", "text"]].values.tolist()
        [[0, 0, 5, 'Rain.'], [0, 6, 10, 'Sun.']]
        """
        from ._frame import to_frame

        return to_frame([self], [source])
