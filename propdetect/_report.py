"""Renderers: analyses -> readable text, JSON Lines records and CSV rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._frame import COLUMNS, TAIL_COLUMNS, sentence_rows
from ._results import Analysis, Sentence

__all__ = ["render_text", "jsonl_record", "summary_line", "csv_header", "csv_rows"]


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


def render_text(source: str, analysis: Analysis, *,
                thresholds: Mapping[str, float] | None = None) -> str:
    """A readable listing of the flagged sentences, their techniques, scores and
    evidence words, then a one-line summary.

    With ``thresholds`` (technique id -> threshold, and ``"propaganda"`` for the
    flag's), each score is shown beside the threshold it was compared with, and a
    flagged sentence's propaganda probability first.

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
    >>> print(render_text("doc.txt", Analysis((s,)), thresholds={"name_calling_labeling": 0.168}))
    == doc.txt
    [0:9] Traitors!
        name_calling_labeling 0.900 (threshold 0.168) ['Traitors']
    summary: 1 sentences, 1 flagged (100%); top: name_calling_labeling 1
    """
    lines = [f"== {source}"]
    lines.extend(f"warning: {w}" for w in analysis.warnings)
    for s in analysis.flagged:
        lines.append(f"[{s.start}:{s.end}] {_short(s.text)}")
        if thresholds is None:
            for t in s.techniques:
                lines.append(f"    {t} {s.scores[t]:.2f}{_evidence_words(s.text, s, t)}")
            continue
        if s.propaganda_score is not None and thresholds.get("propaganda") is not None:
            lines.append(f"    propaganda {s.propaganda_score:.3f} (threshold {thresholds['propaganda']:.3g})")
        for t in s.techniques:
            thr = f" (threshold {thresholds[t]:.3g})" if t in thresholds else ""
            lines.append(f"    {t} {s.scores[t]:.3f}{thr}{_evidence_words(s.text, s, t)}")
    lines.append(f"summary: {summary_line(analysis)}")
    return "\n".join(lines)


def jsonl_record(source: str, analysis: Analysis, extra: Mapping[str, Any] | None = None) -> str:
    """One JSON Lines record: ``{"source": ..., "sentences": [...], "warnings": [...]}``
    (+ ``extra`` fields)."""
    rec: dict[str, Any] = dict(extra or {})
    rec["source"] = source
    rec["sentences"] = [
        {**s.to_dict(), "scores": {k: round(v, 6) for k, v in s.scores.items()}}
        for s in analysis.sentences
    ]
    rec["warnings"] = list(analysis.warnings)
    return json.dumps(rec, ensure_ascii=False)


def _csv_line(fields: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()[:-1]


def csv_header(techniques: Sequence[str]) -> str:
    """The CSV header: the columns of :func:`propdetect.to_frame`."""
    return _csv_line([*COLUMNS, *techniques, *TAIL_COLUMNS])


def csv_rows(source: str, analysis: Analysis, techniques: Sequence[str]) -> Iterator[str]:
    """One CSV line per sentence, in the columns of :func:`csv_header`.

    ``techniques`` are ``;``-separated ids (as :func:`propdetect.read_csv` reads
    them); scores are rounded to 6 decimals, as in JSON Lines; ``warnings`` (the
    text's) are separated by `` | ``.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> s = Sentence("Traitors, all!", 4, 18, ("name_calling_labeling",), {"name_calling_labeling": 0.91234567})
    >>> print(csv_header(["name_calling_labeling"]))
    source,start,end,text,techniques,name_calling_labeling,warnings
    >>> print(*csv_rows("doc.txt", Analysis((s,), ("too short",)), ["name_calling_labeling"]))
    doc.txt,4,18,"Traitors, all!",name_calling_labeling,0.912346,too short
    """
    for src, start, end, text, found, *scores, warnings in sentence_rows(analysis, source, techniques):
        yield _csv_line([src, start, end, text, ";".join(found),
                         *("" if v != v else round(v, 6) for v in scores),  # v != v: NaN
                         " | ".join(warnings)])
