"""Readers: labelled data in its various formats -> labelled documents.

A :class:`LabelledDocument` is a text with its gold sentences (character spans) and
the technique ids of each. PTC-style articles give one document per article, with a
sentence per non-empty line and labels derived from the span annotations by the
rule of ``shared/docs/TAXONOMY.md`` (a line carries technique T when any span of T
overlaps at least one of its characters).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._sentences import iter_lines
from ._taxonomy import TECHNIQUE_IDS, UnknownTechniqueError, technique_id

__all__ = ["LabelledDocument", "CorpusReport", "DataError", "read_ptc", "data_digest"]

_ARTICLE_ID = re.compile(r"article(\d+)")


class DataError(ValueError):
    """Labelled data that cannot be used, with the file and line that say why."""


@dataclass(frozen=True)
class LabelledDocument:
    """A text with its gold sentence spans and the technique ids of each sentence."""

    id: str
    text: str
    spans: tuple[tuple[int, int], ...]
    labels: tuple[frozenset[str], ...]

    @property
    def sentences(self) -> list[str]:
        """The gold sentences' texts."""
        return [self.text[a:b] for a, b in self.spans]


@dataclass
class CorpusReport:
    """What a reader read, and what it dropped (never silently)."""

    documents: int = 0
    sentences: int = 0
    spans: int = 0
    dropped_labels: Counter = field(default_factory=Counter)
    skipped_spans: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        out = [f"read {self.documents} documents, {self.sentences} sentences, {self.spans} spans"]
        for label, n in sorted(self.dropped_labels.items()):
            out.append(f"dropped {n} span(s) labelled {label!r} (no counterpart among the 14 techniques)")
        for s in self.skipped_spans:
            out.append(f"skipped {s}")
        return out


def _resolve_label(label: str, where: str) -> str | None:
    try:
        return technique_id(label)
    except UnknownTechniqueError:
        raise DataError(
            f"{where}: unknown technique label {label!r}; valid ids are: {', '.join(TECHNIQUE_IDS)}"
        ) from None


def _read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None


def _label_files(labels: Path) -> list[Path]:
    if labels.is_dir():
        files = sorted(p for p in labels.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataError(f"{labels}: no label files in this folder")
        return files
    if labels.is_file():
        return [labels]
    raise DataError(f"{labels}: no such file or folder")


def read_ptc(articles: str | os.PathLike[str], labels: str | os.PathLike[str],
             skip_bad_spans: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read PTC-style articles and technique span annotations.

    Parameters
    ----------
    articles : path
        Folder of ``article<ID>.txt`` files (title, blank line, one sentence per line).
    labels : path
        One merged tab-separated file, or a folder of per-article files, with lines
        ``id <TAB> label <TAB> start <TAB> end`` (code-point offsets, end exclusive).
        PTC-2020 labels (14) and PTC-18 labels (EMNLP-2019, NLP4IF) both work; labels
        with no counterpart (Obfuscation) are dropped and counted in the report.
    skip_bad_spans : bool, default=False
        Skip spans whose offsets fall outside their article (and list them in the
        report) instead of raising. The EMNLP-2019 release has one such span.

    Returns
    -------
    documents : list of LabelledDocument
        One per article, sorted by id; articles with no spans have no labels.
    report : CorpusReport

    Raises
    ------
    DataError
        Unreadable file, malformed line, unknown label, bad offsets, a span for an
        article that is not in the folder.
    """
    articles = Path(articles)
    if not articles.is_dir():
        raise DataError(f"{articles}: not a folder of article<ID>.txt files")
    texts: dict[str, tuple[Path, str]] = {}
    for p in sorted(articles.glob("article*.txt")):
        m = _ARTICLE_ID.match(p.name)
        if m:
            texts[m.group(1)] = (p, _read_text(p))
    if not texts:
        raise DataError(f"{articles}: no article<ID>.txt files found")
    report = CorpusReport()
    spans_by_doc: dict[str, list[tuple[str, int, int]]] = {k: [] for k in texts}
    for lf in _label_files(Path(labels)):
        raw = _read_text(lf)
        for lineno, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{lf}:{lineno}"
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 4:
                raise DataError(
                    f"{where}: expected 4 tab-separated fields (id, label, start, end), got {len(parts)}"
                )
            doc_id, label, s_start, s_end = (p.strip() for p in parts)
            try:
                start, end = int(s_start), int(s_end)
            except ValueError:
                raise DataError(f"{where}: start and end must be integers, got {s_start!r}, {s_end!r}") from None
            if doc_id not in texts:
                raise DataError(f"{where}: article {doc_id} is not in {articles}")
            tid = _resolve_label(label, where)
            if tid is None:
                report.dropped_labels[label] += 1
                continue
            n = len(texts[doc_id][1])
            if not 0 <= start < end <= n:
                msg = f"{where}: span {start}-{end} is outside article {doc_id} (length {n})"
                if skip_bad_spans:
                    report.skipped_spans.append(msg)
                    continue
                raise DataError(msg + "; fix the offsets or pass skip_bad_spans / --skip-bad-spans")
            spans_by_doc[doc_id].append((tid, start, end))
            report.spans += 1
    docs = [
        _label_lines(doc_id, texts[doc_id][1], spans_by_doc[doc_id]) for doc_id in sorted(texts)
    ]
    report.documents = len(docs)
    report.sentences = sum(len(d.spans) for d in docs)
    return docs, report


def _label_lines(doc_id: str, text: str, spans: Sequence[tuple[str, int, int]]) -> LabelledDocument:
    lines = list(iter_lines(text))
    labels: list[set[str]] = [set() for _ in lines]
    starts = [a for a, _ in lines]
    for tid, s, e in spans:
        # first line whose end is after the span's start, while the line starts before its end
        i = max(bisect.bisect_right(starts, s) - 1, 0)
        while i < len(lines) and lines[i][0] < e:
            if lines[i][1] > s:
                labels[i].add(tid)
            i += 1
    return LabelledDocument(doc_id, text, tuple(lines), tuple(frozenset(x) for x in labels))


def data_digest(docs: Iterable[LabelledDocument]) -> str:
    """SHA-256 over the texts, sentence spans and labels: names the training data."""
    h = hashlib.sha256()
    for d in docs:
        h.update(d.id.encode() + b"\0" + d.text.encode("utf-8") + b"\0")
        for (a, b), labs in zip(d.spans, d.labels):
            h.update(f"{a}:{b}:{','.join(sorted(labs))};".encode())
    return "sha256:" + h.hexdigest()


def documents_from_examples(examples: Iterable[dict], where: str = "examples") -> list[LabelledDocument]:
    """Sentence-level examples -> one single-sentence document each.

    Each example is a mapping with ``text`` (str) and ``techniques`` (a list of
    technique ids or any name the taxonomy resolves; a ``;``-separated string is
    also accepted).
    """
    docs = []
    for i, ex in enumerate(examples, start=1):
        here = f"{where}: item {i}"
        if not isinstance(ex, dict):
            raise DataError(f"{here}: expected a mapping with 'text' and 'techniques'")
        text = ex.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{here}: 'text' must be a non-empty string")
        labels = ex.get("techniques") or []
        if isinstance(labels, str):
            labels = [x for x in (p.strip() for p in labels.split(";")) if x]
        ids = set()
        for lab in labels:
            tid = _resolve_label(str(lab), here)
            if tid is not None:
                ids.add(tid)
        lines = list(iter_lines(text))
        if not lines:
            raise DataError(f"{here}: 'text' must be a non-empty string")
        # The whole text is the gold sentence: its labels apply to all of it.
        span = ((lines[0][0], lines[-1][1]),)
        docs.append(LabelledDocument(str(ex.get("id", i)), text, span, (frozenset(ids),)))
    return docs
