"""Typed, frozen results: one :class:`Sentence` per sentence, one :class:`Analysis` per text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Sentence", "Analysis"]

Span = tuple[int, int]


def _freeze_scores(scores: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(scores))


def _freeze_evidence(evidence: Mapping[str, Any]) -> Mapping[str, tuple[Span, ...]]:
    return MappingProxyType(
        {k: tuple((int(a), int(b)) for a, b in v) for k, v in evidence.items()}
    )


@dataclass(frozen=True)
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
        text) of the words that pushed its score up the most.
    """

    text: str
    start: int
    end: int
    techniques: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    evidence: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "techniques", tuple(self.techniques))
        object.__setattr__(self, "scores", _freeze_scores(self.scores))
        object.__setattr__(self, "evidence", _freeze_evidence(self.evidence))

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
            "scores": dict(self.scores),
            "evidence": {k: [list(s) for s in v] for k, v in self.evidence.items()},
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
        )


@dataclass(frozen=True)
class Analysis:
    """The sentences of one text with the techniques found in each.

    Attributes
    ----------
    sentences : tuple of Sentence
        In text order; blank lines and surrounding whitespace belong to none.
    """

    sentences: tuple[Sentence, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sentences", tuple(self.sentences))

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
        """Return a JSON-ready dict: ``{"sentences": [...]}``."""
        return {"sentences": [s.to_dict() for s in self.sentences]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Analysis:
        """Rebuild an analysis from :meth:`to_dict` output."""
        return cls(tuple(Sentence.from_dict(s) for s in data["sentences"]))
