"""Renderers: analyses -> readable text and JSON Lines records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._results import Analysis, Sentence

__all__ = ["render_text", "jsonl_record", "summary_line"]


def _short(text: str, width: int = 160) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def _evidence_words(text: str, s: Sentence, technique: str) -> str:
    words = [text[a - s.start : b - s.start] for a, b in s.evidence.get(technique, ())]
    return f" [{', '.join(repr(w) for w in words)}]" if words else ""


def summary_line(analysis: Analysis) -> str:
    """``N sentences, M flagged (P%); top: technique n, ...``."""
    n = len(analysis.sentences)
    flagged = len(analysis.flagged)
    share = f" ({100 * flagged / n:.0f}%)" if n else ""
    counts = analysis.technique_counts()
    top = ", ".join(f"{t} {c}" for t, c in list(counts.items())[:3])
    return f"{n} sentences, {flagged} flagged{share}" + (f"; top: {top}" if top else "")


def render_text(source: str, analysis: Analysis) -> str:
    """A readable listing of the flagged sentences, their techniques, scores and
    evidence words, then a one-line summary.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> s = Sentence("Traitors!", 0, 9, ("name_calling_labeling",),
    ...              {"name_calling_labeling": 0.9}, {"name_calling_labeling": [(0, 8)]})
    >>> print(render_text("doc.txt", Analysis((s,))))
    == doc.txt
    [0:9] Traitors!
        name_calling_labeling 0.90 ['Traitors']
    summary: 1 sentences, 1 flagged (100%); top: name_calling_labeling 1
    """
    lines = [f"== {source}"]
    for s in analysis.flagged:
        lines.append(f"[{s.start}:{s.end}] {_short(s.text)}")
        for t in s.techniques:
            lines.append(f"    {t} {s.scores[t]:.2f}{_evidence_words(s.text, s, t)}")
    lines.append(f"summary: {summary_line(analysis)}")
    return "\n".join(lines)


def jsonl_record(source: str, analysis: Analysis, extra: Mapping[str, Any] | None = None) -> str:
    """One JSON Lines record: ``{"source": ..., "sentences": [...]}`` (+ ``extra`` fields)."""
    rec: dict[str, Any] = dict(extra or {})
    rec["source"] = source
    rec["sentences"] = [
        {**s.to_dict(), "scores": {k: round(v, 6) for k, v in s.scores.items()}}
        for s in analysis.sentences
    ]
    return json.dumps(rec, ensure_ascii=False)
