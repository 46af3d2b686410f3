"""Readers: labelled data in its various formats -> labelled documents.

A :class:`LabelledDocument` is a text with its gold sentences (character spans) and
the technique ids of each. PTC-style articles give one document per article, with a
sentence per non-empty line and labels derived from the span annotations by the
rule of ``shared/docs/TAXONOMY.md`` (a line carries technique T when any span of T
overlaps at least one of its characters). Annotation tools' exports (Label Studio,
doccano) give one document per annotated text, labelled by the same rule.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import json
import os
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._frame import _plain, is_frame
from ._sentences import iter_lines, split_sentences
from ._taxonomy import TECHNIQUE_IDS, UnknownTechniqueError, technique_id

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "LabelledDocument",
    "CorpusReport",
    "DataError",
    "read_ptc",
    "read_jsonl",
    "read_csv",
    "read_semeval2021",
    "read_label_studio",
    "read_doccano",
    "documents_from_examples",
    "documents_from_dataset",
    "load_documents",
    "data_digest",
]

_ARTICLE_ID = re.compile(r"article(\d+)")


class DataError(ValueError):
    """Labelled data that cannot be used, with the file and line that say why."""


class _BadRow(DataError):
    """A malformed record (invalid JSON, wrong number of CSV fields, a missing field,
    empty text): an error, or skipped and counted under ``skip_bad_rows``."""


@dataclass(frozen=True)
class LabelledDocument:
    """A text with its gold sentence spans and the technique ids of each sentence."""

    id: str
    text: str
    spans: tuple[tuple[int, int], ...]
    labels: tuple[frozenset[str], ...]
    #: The gold technique spans ``(technique id, start, end)`` into ``text``, when the
    #: data marks them (PTC span files); sentence-level data has none. They train the
    #: token model that picks the evidence.
    technique_spans: tuple[tuple[str, int, int], ...] = ()

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
    #: The malformed records skipped under ``skip_bad_rows``, as error messages.
    skipped_rows: list[str] = field(default_factory=list)
    #: Annotation-tool exports: tasks with no annotation (not labelled yet, or every
    #: annotation cancelled), skipped rather than read as "no technique".
    unannotated: int = 0
    #: Label Studio tasks with several annotations, of which one was read.
    several_annotations: int = 0
    #: Label Studio result items that are not span labels, by type (ignored).
    ignored_results: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        spans = f", {self.spans} spans" if self.spans else ""
        out = [f"read {self.documents} documents, {self.sentences} sentences{spans}"]
        for label, n in sorted(self.dropped_labels.items()):
            what = "span(s)" if self.spans else "label(s)"
            out.append(f"dropped {n} {what} labelled {label!r} (no counterpart among the 14 techniques)")
        for s in self.skipped_spans:
            out.append(f"skipped {s}")
        if self.skipped_rows:
            shown = "; ".join(self.skipped_rows[:3]) + ("; ..." if len(self.skipped_rows) > 3 else "")
            out.append(f"skipped {len(self.skipped_rows)} bad row(s) (skip_bad_rows): {shown}")
        if self.unannotated:
            out.append(f"skipped {self.unannotated} task(s) with no annotation (not labelled yet, or cancelled)")
        if self.several_annotations:
            out.append(f"{self.several_annotations} task(s) had several annotations: read the ground-truth one, "
                       f"else the latest")
        for kind, n in sorted(self.ignored_results.items()):
            out.append(f"ignored {n} result(s) of type {kind!r} (only span labels are read)")
        return out

    def dropped_message(self) -> str | None:
        """One sentence naming how many labels were dropped and which, or None.

        Examples
        --------
        >>> CorpusReport(dropped_labels=Counter({"Smears": 2, "Obfuscation": 1})).dropped_message()
        "dropped 3 label(s) with no counterpart among the 14 techniques: 'Obfuscation' (1), 'Smears' (2)"
        """
        if not self.dropped_labels:
            return None
        n = sum(self.dropped_labels.values())
        which = ", ".join(f"{label!r} ({c})" for label, c in sorted(self.dropped_labels.items()))
        what = "span label(s)" if self.spans else "label(s)"
        return f"dropped {n} {what} with no counterpart among the 14 techniques: {which}"


def warn_dropped(report: CorpusReport, stacklevel: int = 2) -> None:
    """Warn (``UserWarning``) when ``report`` counts dropped labels: the Python API
    reports them as the command line does."""
    msg = report.dropped_message()
    if msg is not None:
        warnings.warn(msg, UserWarning, stacklevel=stacklevel + 1)


def _resolve_label(label: str, where: str) -> str | None:
    try:
        return technique_id(label)
    except UnknownTechniqueError:
        raise DataError(
            f"{where}: unknown technique label {label!r}; valid ids are: {', '.join(TECHNIQUE_IDS)}"
        ) from None


def _read_text(path: Path) -> str:
    """The file decoded as UTF-8 with nothing translated (offsets stay exact)."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}:{line}: not valid UTF-8 ({exc.reason} at byte {exc.start}); convert the file to UTF-8"
        ) from None


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

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "articles").mkdir()
    >>> _ = (root / "articles" / "article7.txt").write_text("A title\\n\\nThese traitors lie.\\nIt rained.\\n")
    >>> _ = (root / "spans.labels").write_text("7\\tName_Calling,Labeling\\t15\\t23\\n")
    >>> docs, report = read_ptc(root / "articles", root / "spans.labels")
    >>> docs[0].id, docs[0].sentences, docs[0].labels[1]
    ('7', ['A title', 'These traitors lie.', 'It rained.'], frozenset({'name_calling_labeling'}))
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


def _label_lines(doc_id: str, text: str, spans: Sequence[tuple[str, int, int]],
                 sentences: Sequence[tuple[int, int]] | None = None) -> LabelledDocument:
    """The document of ``text`` whose sentences (by default its lines) carry the
    techniques of the spans that overlap them."""
    lines = list(iter_lines(text)) if sentences is None else list(sentences)
    labels: list[set[str]] = [set() for _ in lines]
    starts = [a for a, _ in lines]
    for tid, s, e in spans:
        # first line whose end is after the span's start, while the line starts before its end
        i = max(bisect.bisect_right(starts, s) - 1, 0)
        while i < len(lines) and lines[i][0] < e:
            if lines[i][1] > s:
                labels[i].add(tid)
            i += 1
    return LabelledDocument(doc_id, text, tuple(lines), tuple(frozenset(x) for x in labels),
                            tuple(sorted(spans, key=lambda t: (t[1], t[2], t[0]))))


def data_digest(docs: Iterable[LabelledDocument]) -> str:
    """SHA-256 over the texts, sentence spans and labels: names the training data."""
    h = hashlib.sha256()
    for d in docs:
        h.update(d.id.encode() + b"\0" + d.text.encode("utf-8") + b"\0")
        for (a, b), labs in zip(d.spans, d.labels):
            h.update(f"{a}:{b}:{','.join(sorted(labs))};".encode())
    return "sha256:" + h.hexdigest()


# -- sentence records: JSON Lines, CSV, Python dicts, Hugging Face datasets ------
#: The fields a sentence record may carry. ``doc_id`` (or ``id``) groups records
#: into one document, in order, so that context features and grouped CV see the
#: article a sentence came from.
TEXT_FIELD = "text"
LABELS_FIELD = "techniques"
GROUP_FIELDS = ("doc_id", "id")


def _labels_of(value: Any, where: str, report: CorpusReport) -> frozenset[str]:
    """Resolve a record's labels: a list of names, or one ``;``-separated string."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [x for x in (p.strip() for p in value.split(";")) if x]
    elif not isinstance(value, (list, tuple)):
        raise DataError(
            f"{where}: {LABELS_FIELD!r} must be a list of technique names (or one ';'-separated string), "
            f"not {type(value).__name__}"
        )
    ids = set()
    for lab in value:
        if not isinstance(lab, str):
            raise DataError(f"{where}: technique labels must be strings, got {lab!r}")
        tid = _resolve_label(lab, where)
        if tid is None:
            report.dropped_labels[lab] += 1
        else:
            ids.add(tid)
    return frozenset(ids)


def _stripped_bounds(text: str) -> tuple[int, int] | None:
    lines = list(iter_lines(text))
    if not lines:
        return None
    return lines[0][0], lines[-1][1]


def _check_record(where: str, rec: Any) -> str:
    """The text of a well-formed record, else :class:`_BadRow` naming the problem."""
    if isinstance(rec, _BadRow):
        raise rec
    if not isinstance(rec, Mapping):
        raise _BadRow(
            f"{where}: expected an object with {TEXT_FIELD!r} and {LABELS_FIELD!r}, got {type(rec).__name__}"
        )
    missing = [k for k in (TEXT_FIELD, LABELS_FIELD) if k not in rec]
    if missing:
        hint = ("; this looks like a doccano export: read it with format=\"doccano\" (--doccano FILE)"
                if LABELS_FIELD in missing and ("label" in rec or "entities" in rec) else "")
        raise _BadRow(
            f"{where}: missing field(s) {', '.join(map(repr, missing))}; each record needs "
            f"{TEXT_FIELD!r} (the sentence) and {LABELS_FIELD!r} (a list of technique names, [] for none){hint}"
        )
    text = rec[TEXT_FIELD]
    if not isinstance(text, str) or not text.strip():
        raise _BadRow(f"{where}: {TEXT_FIELD!r} must be a non-empty string, got {text!r}")
    return text


def _documents_from_records(records: Iterable[tuple[str, Any]], report: CorpusReport | None = None,
                            skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """``(where, record)`` pairs -> documents, grouping records that share a
    ``doc_id``/``id``; records without one are a document each. A record may be a
    :class:`_BadRow` (a reader's parse error): raised, or with ``skip_bad_rows``
    counted in the report like a malformed record."""
    report = report if report is not None else CorpusReport()
    groups: dict[str, list[tuple[str, frozenset[str]]]] = {}
    n = 0
    for where, rec in records:
        n += 1
        try:
            text = _check_record(where, rec)
        except _BadRow as exc:
            if not skip_bad_rows:
                raise
            report.skipped_rows.append(str(exc))
            continue
        labels = _labels_of(rec[LABELS_FIELD], where, report)
        key = next((rec[k] for k in GROUP_FIELDS if rec.get(k) not in (None, "")), None)
        gkey = f"\0{n}" if key is None else str(key)
        groups.setdefault(gkey, []).append((text, labels))
    if n == 0:
        raise DataError("no records: the data is empty")
    if not groups:
        raise DataError(f"no usable records: all {n} were skipped as bad rows (first: {report.skipped_rows[0]})")
    docs = []
    for i, (gkey, items) in enumerate(groups.items(), start=1):
        parts, spans, pos = [], [], 0
        for text, _ in items:
            a, b = _stripped_bounds(text)  # type: ignore[misc]  # non-blank: checked above
            parts.append(text)
            spans.append((pos + a, pos + b))
            pos += len(text) + 1
        doc_id = str(i) if gkey.startswith("\0") else gkey
        docs.append(LabelledDocument(doc_id, "\n".join(parts), tuple(spans), tuple(l for _, l in items)))
    report.documents = len(docs)
    report.sentences = sum(len(d.spans) for d in docs)
    return docs, report


def _documents_from_file(path: Path, records: Iterable[tuple[str, Any]], empty: str,
                         skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    records = list(records)
    if not records:
        raise DataError(f"{path}: {empty}")
    return _documents_from_records(records, skip_bad_rows=skip_bad_rows)


def _nonblank_lines(path: Path, text: str) -> Iterator[tuple[str, str]]:
    # Split on "\n" only: JSON strings may hold a raw U+2028, which splitlines() would cut.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield f"{path}:{lineno}", line


def read_jsonl(path: str | os.PathLike[str],
               skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read labelled sentences from a JSON Lines file.

    Each non-blank line is an object ``{"text": str, "techniques": [name, ...]}``;
    names are technique ids or any label the taxonomy resolves (``[]`` for none).
    An optional ``doc_id`` (or ``id``) field puts the lines that share it into one
    document, in file order, so that article context and grouped cross-validation
    work as for PTC articles.

    Parameters
    ----------
    path : path
        A UTF-8 ``.jsonl`` file.
    skip_bad_rows : bool, default=False
        Skip malformed lines (invalid JSON, not an object, a missing field,
        empty text) and list them in the report's ``skipped_rows`` instead of
        raising. An unknown label is an error either way.

    Returns
    -------
    documents : list of LabelledDocument
    report : CorpusReport

    Raises
    ------
    DataError
        Unreadable or non-UTF-8 file, invalid JSON, a missing field, empty text,
        an unknown label; the message names the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_text('{"doc_id": "a", "text": "Traitors!", "techniques": ["name calling"]}\\n'
    ...                  '{"doc_id": "a", "text": "It rained.", "techniques": []}\\n')
    >>> docs, report = read_jsonl(p)
    >>> len(docs), docs[0].sentences, docs[0].labels[0]
    (1, ['Traitors!', 'It rained.'], frozenset({'name_calling_labeling'}))
    """
    path = Path(path)
    text = _read_text(path).removeprefix("\ufeff")

    def records() -> Iterator[tuple[str, Any]]:
        for where, line in _nonblank_lines(path, text):
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, _BadRow(
                    f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); "
                    f"each line must be one object like {{\"text\": \"...\", \"techniques\": []}}"
                )

    return _documents_from_file(path, records(), "no records (the file is empty)", skip_bad_rows)


def read_csv(path: str | os.PathLike[str],
             skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read labelled sentences from a CSV file with a header row.

    Columns ``text`` and ``techniques`` (technique names separated by ``;``, empty
    for none) are required; an optional ``doc_id`` (or ``id``) column groups rows
    into documents as in :func:`read_jsonl`. Other columns are ignored. Every
    row has as many fields as the header (an empty ``techniques`` field for none).

    Parameters
    ----------
    path : path
        A UTF-8 CSV file with a header row.
    skip_bad_rows : bool, default=False
        Skip rows with too few or too many fields or an empty text, and list them
        in the report's ``skipped_rows``, instead of raising.

    Raises
    ------
    DataError
        Unreadable or non-UTF-8 file, a missing column, malformed CSV, a row with
        too few or too many fields, empty text, an unknown label; the message
        names the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text('text,techniques\\n"Traitors, all of them!",Name_Calling;loaded language\\nIt rained.,\\n')
    >>> docs, _ = read_csv(p)
    >>> [sorted(d.labels[0]) for d in docs]
    [['loaded_language', 'name_calling_labeling'], []]
    """
    path = Path(path)
    text = _read_text(path).removeprefix("\ufeff")
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DataError(f"{path}:1: malformed CSV header ({exc})") from None
    if header is None:
        raise DataError(f"{path}: empty file; expected a header line with columns text,techniques")
    header = [h.strip() for h in header]
    missing = [c for c in (TEXT_FIELD, LABELS_FIELD) if c not in header]
    if missing:
        raise DataError(
            f"{path}:1: missing column(s) {', '.join(missing)}; the header must name the columns "
            f"{TEXT_FIELD} and {LABELS_FIELD} (found: {', '.join(header) or 'nothing'})"
        )

    def records() -> Iterator[tuple[str, Any]]:
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"{path}:{start}: malformed CSV ({exc})") from None
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if len(row) <= 1 and not "".join(row).strip():
                continue  # a blank line
            if len(row) > len(header):
                yield where, _BadRow(
                    f"{where}: {len(row)} fields but the header has {len(header)}; quote fields that "
                    f"contain commas"
                )
            elif len(row) < len(header):
                yield where, _BadRow(
                    f"{where}: {len(row)} field(s) but the header has {len(header)} ({', '.join(header)}); "
                    f"add the missing ones (an empty {LABELS_FIELD} field for none)"
                )
            else:
                yield where, dict(zip(header, row))

    return _documents_from_file(path, records(), "no data rows after the header", skip_bad_rows)


def _json_array_items(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """The items of a top-level JSON array with the line each one starts on."""
    dec = json.JSONDecoder()
    ws = re.compile(r"\s*")

    def fail(pos: int, what: str) -> DataError:
        return DataError(f"{path}:{text.count(chr(10), 0, pos) + 1}: {what}")

    i = ws.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", i):
        raise fail(i, "expected a JSON array of {\"id\", \"labels\", \"text\"} objects")
    i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", i):
        return
    while True:
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise fail(exc.pos, f"invalid JSON ({exc.msg})") from None
        yield text.count("\n", 0, i) + 1, obj
        i = ws.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", i):
            i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", i):
            return
        else:
            raise fail(i, "invalid JSON (expected ',' or ']' between array items)")


def read_semeval2021(path: str | os.PathLike[str]) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read SemEval-2021 Task 6 subtask-1 meme texts with their whole-text labels.

    The files (``*_task1.txt``) are JSON arrays of ``{"id", "labels", "text"}``.
    Each meme becomes one document whose one gold "sentence" is its whole text,
    so that an evaluation scores a meme by the union of the techniques found in
    its sentences. Labels map by the taxonomy; the three with no counterpart
    (Smears, Glittering generalities, Obfuscation) are dropped and counted.

    Raises
    ------
    DataError
        Unreadable file, invalid JSON, a missing field, empty text, an unknown label;
        the message names the file and line.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dev_set_task1.txt"
    >>> _ = p.write_text(json.dumps([{"id": "1", "labels": ["Smears", "Doubt"], "text": "Is he honest?"}]))
    >>> docs, report = read_semeval2021(p)
    >>> docs[0].labels, dict(report.dropped_labels)
    ((frozenset({'doubt'}),), {'Smears': 1})
    """
    path = Path(path)
    text = _read_text(path).removeprefix("\ufeff")
    report = CorpusReport()
    docs = []
    seen: set[str] = set()
    for lineno, item in _json_array_items(path, text):
        where = f"{path}:{lineno}"
        if not isinstance(item, dict) or "text" not in item or "labels" not in item:
            raise DataError(f"{where}: expected an object with \"id\", \"labels\" and \"text\"")
        meme = item["text"]
        if not isinstance(meme, str) or not meme.strip():
            raise DataError(f"{where}: \"text\" must be a non-empty string")
        labels = _labels_of(item["labels"], where, report)
        doc_id = str(item.get("id", lineno))
        if doc_id in seen:
            raise DataError(f"{where}: id {doc_id!r} appears twice")
        seen.add(doc_id)
        docs.append(LabelledDocument(doc_id, meme, (_stripped_bounds(meme),), (labels,)))  # type: ignore[arg-type]
    if not docs:
        raise DataError(f"{path}: the array is empty")
    report.documents = report.sentences = len(docs)
    return docs, report


def documents_from_examples(examples: Iterable[Mapping[str, Any]],
                            where: str = "examples") -> list[LabelledDocument]:
    """Sentence-level examples (Python mappings) -> labelled documents.

    Each example has ``text`` (str) and ``techniques`` (a list of technique ids or
    any name the taxonomy resolves, or one ``;``-separated string; ``[]`` for
    none), and optionally ``doc_id``/``id`` to group sentences into documents.

    Examples
    --------
    >>> docs = documents_from_examples([
    ...     {"text": "Traitors!", "techniques": ["Name_Calling,Labeling"]},
    ...     {"text": "It rained.", "techniques": []}])
    >>> len(docs), docs[0].labels
    (2, (frozenset({'name_calling_labeling'}),))
    """
    if isinstance(examples, (str, bytes, os.PathLike)):
        raise DataError(
            f"{where}: expected an iterable of dicts, got a {type(examples).__name__}; to read a file use "
            f"read_jsonl / read_csv / read_ptc"
        )
    return _documents_from_records((f"{where}: item {i}", ex) for i, ex in enumerate(examples, start=1))[0]


def _is_hf(obj: object, cls: str) -> bool:
    # Never import `datasets` here: if obj is one of its objects, it is imported already.
    mod = sys.modules.get("datasets")
    return mod is not None and isinstance(obj, getattr(mod, cls, ()))


def documents_from_dataset(ds: Any, skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """A Hugging Face ``datasets.Dataset`` with ``text`` and ``techniques`` columns
    (and optionally ``doc_id``/``id``) -> labelled documents.

    ``techniques`` holds names, or ``ClassLabel`` ints whose names the taxonomy
    resolves.

    Raises
    ------
    DataError
        A ``DatasetDict`` (pick a split), a missing column, or a bad row (named by
        its 0-based index).
    """
    if _is_hf(ds, "DatasetDict"):
        raise DataError(
            f"a DatasetDict holds several splits ({', '.join(ds)}): pass one of them, e.g. ds[{next(iter(ds))!r}]"
        )
    cols = list(getattr(ds, "column_names", None) or [])
    missing = [c for c in (TEXT_FIELD, LABELS_FIELD) if c not in cols]
    if missing:
        raise DataError(
            f"dataset: missing column(s) {', '.join(missing)} (found: {', '.join(cols) or 'none'}); rename "
            f"them, e.g. ds.rename_column('sentence', 'text')"
        )
    # A list of ClassLabel ints (the usual Hub encoding of multi-label columns) -> names.
    inner = getattr(getattr(ds, "features", {}).get(LABELS_FIELD), "feature", None)
    names = getattr(inner, "names", None)

    def rows() -> Iterator[tuple[str, Any]]:
        for i, row in enumerate(ds):
            if names and isinstance(row.get(LABELS_FIELD), list):
                row = {**row, LABELS_FIELD: [names[x] if isinstance(x, int) else x for x in row[LABELS_FIELD]]}
            yield f"dataset row {i}", row

    return _documents_from_records(rows(), skip_bad_rows=skip_bad_rows)


def load_documents(source: Any, format: str | None = None, *,  # noqa: A002 -- the word users know
                   labels: str | os.PathLike[str] | None = None, skip_bad_spans: bool = False,
                   skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read labelled sentences from a file, a folder or a Python object.

    Parameters
    ----------
    source : path, DataFrame, datasets.Dataset or iterable
        A file, or a folder of PTC articles (with ``labels``); a pandas DataFrame
        or a Hugging Face ``Dataset`` with ``text`` and ``techniques`` columns (and
        optionally ``doc_id``); an iterable of dicts with those keys; or
        :class:`LabelledDocument` objects, returned as they are.
    format : {"ptc", "jsonl", "csv", "semeval2021", "label-studio", "doccano"}, optional
        The format of a path. By default a folder is ``ptc`` and a file is known
        by its name: ``*.jsonl`` (:func:`read_jsonl`), ``*.csv`` (:func:`read_csv`),
        ``*.json`` or ``*_task1.txt`` (:func:`read_semeval2021`; a ``*.json`` whose
        objects have ``"data"`` or ``"annotations"`` is a Label Studio export).
        Annotation tools' exports: ``"label-studio"`` (:func:`read_label_studio`,
        Label Studio's JSON export) and ``"doccano"`` (:func:`read_doccano`,
        doccano's JSONL export, which ``*.jsonl`` does not tell apart).
    labels : path, optional
        With a PTC folder: its span annotations, one merged file or a folder of
        per-article files (:func:`read_ptc`).
    skip_bad_spans : bool, default=False
        With a PTC folder or an annotation tool's export: skip spans that fall
        outside their text, and list them in the report, instead of raising.
    skip_bad_rows : bool, default=False
        With sentence records (JSON Lines, CSV, a DataFrame, a dataset, dicts):
        skip malformed ones (invalid JSON, wrong number of CSV fields, a missing
        field, empty text) and list them in the report's ``skipped_rows``,
        instead of raising.

    Returns
    -------
    documents : list of LabelledDocument
    report : CorpusReport
        What was read, and the labels dropped (no counterpart among the 14
        techniques), spans or rows skipped.

    Raises
    ------
    DataError
        The data cannot be used; the message names the file and line, or the item.

    Warns
    -----
    UserWarning
        When labels with no counterpart among the 14 techniques were dropped:
        how many, and which.

    Examples
    --------
    >>> import tempfile, pathlib, propdetect
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sentences.csv"
    >>> _ = p.write_text("doc_id,text,techniques\\na,Traitors!,name calling\\na,It rained.,\\n")
    >>> docs, report = propdetect.load_documents(p)
    >>> docs[0].sentences, docs[0].labels
    (['Traitors!', 'It rained.'], (frozenset({'name_calling_labeling'}), frozenset()))
    >>> report.lines()
    ['read 1 documents, 2 sentences']
    >>> docs, _ = propdetect.load_documents([{"text": "Is he honest?", "techniques": ["Doubt"]}])
    >>> docs[0].labels
    (frozenset({'doubt'}),)
    """
    docs, report = _load_documents(source, format, labels=labels, skip_bad_spans=skip_bad_spans,
                                   skip_bad_rows=skip_bad_rows)
    warn_dropped(report)
    return docs, report


# -- annotation tools: Label Studio and doccano exports --------------------------------
# An annotated text becomes one LabelledDocument: its sentences are those detect()
# finds in it (the same splitter, so that training sees the sentences inference will),
# its technique spans are the annotators' spans, and a sentence carries technique T
# when a span of T overlaps at least one of its characters (the PTC rule).
# Label Studio offsets are code points in today's versions; older ones counted UTF-16
# units, which differ after an emoji: a span whose value.text matches the text only in
# UTF-16 units is read with its offsets converted.
#: The names of the ``<Labels>`` control and ``<Text>`` object in propdetect's Label
#: Studio config (``_annotation.label_studio_config``), and the key of a task's text.
LABEL_STUDIO_TEXT = "text"


def _labelled(doc_id: str, text: str, spans: Sequence[tuple[str, int, int]], where: str) -> LabelledDocument:
    """A document of ``text``'s sentences (the detector's splitter) labelled by the spans."""
    sentences = split_sentences(text)
    if not sentences:
        raise DataError(f"{where}: the text is empty")
    return _label_lines(doc_id, text, list(set(spans)), sentences)


def _utf16_to_index(text: str, units: int) -> int | None:
    """The string index at ``units`` UTF-16 code units into ``text``, or None."""
    n = 0
    for i, ch in enumerate(text):
        if n == units:
            return i
        n += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if n == units else None


def _span(text: str, start: Any, end: Any, quoted: Any, where: str) -> tuple[int, int] | str:
    """Checked ``(start, end)``, or the message saying why the span cannot be used."""
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        return f"{where}: start and end must be integers, got {start!r}, {end!r}"
    inside = 0 <= start < end <= len(text)
    if isinstance(quoted, str) and not (inside and text[start:end] == quoted):
        a, b = _utf16_to_index(text, start), _utf16_to_index(text, end)
        if a is not None and b is not None and a < b and text[a:b] == quoted:
            return a, b  # offsets in UTF-16 units (older Label Studio)
        if inside:
            return (f"{where}: span {start}-{end} is {text[start:end]!r} in the text but the export says "
                    f"{quoted!r}; was the text changed after it was annotated?")
    if not inside:
        return f"{where}: span {start}-{end} is outside the text (length {len(text)})"
    return start, end


def _add_span(spans: list[tuple[str, int, int]], report: CorpusReport, text: str, label: Any, start: Any,
              end: Any, quoted: Any, where: str, skip_bad_spans: bool) -> None:
    if not isinstance(label, str):
        raise DataError(f"{where}: a label must be a string, got {label!r}")
    tid = _resolve_label(label, where)
    if tid is None:
        report.dropped_labels[label] += 1
        return
    checked = _span(text, start, end, quoted, where)
    if isinstance(checked, str):
        if not skip_bad_spans:
            raise DataError(checked + "; fix it or pass skip_bad_spans / --skip-bad-spans")
        report.skipped_spans.append(checked)
        return
    spans.append((tid, *checked))
    report.spans += 1


def _finish(docs: list[LabelledDocument], report: CorpusReport, path: Path, what: str) -> tuple[
        list[LabelledDocument], CorpusReport]:
    if not docs:
        raise DataError(f"{path}: no annotated {what}" + (
            f" ({report.unannotated} without an annotation)" if report.unannotated else ""))
    report.documents = len(docs)
    report.sentences = sum(len(d.spans) for d in docs)
    return docs, report


# -- Label Studio --------------------------------------------------------------------
def _when(annotation: Mapping[str, Any]) -> tuple[float, float, int]:
    """Sort key: the latest update, then creation, then id (missing ones first)."""
    def stamp(key: str) -> float:
        value = annotation.get(key)
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
        except ValueError:
            return float("-inf")
    ident = annotation.get("id")
    return stamp("updated_at"), stamp("created_at"), ident if isinstance(ident, int) else -1


def choose_annotation(annotations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The annotation of a task that counts (the rule of :func:`read_label_studio`).

    Cancelled (skipped) annotations do not count; among the others, one marked as
    ground truth wins over the rest; then the most recently updated.

    Examples
    --------
    >>> choose_annotation([{"id": 1, "updated_at": "2024-05-02T10:00:00Z", "result": []},
    ...                    {"id": 2, "updated_at": "2024-05-01T10:00:00Z", "result": []}])["id"]
    1
    >>> choose_annotation([{"id": 1, "was_cancelled": True, "result": []}]) is None
    True
    """
    live = [a for a in annotations if not a.get("was_cancelled")]
    if not live:
        return None
    return max(live, key=lambda a: (bool(a.get("ground_truth")), _when(a)))


def read_label_studio(path: str | os.PathLike[str], skip_bad_spans: bool = False,
                      text_field: str = LABEL_STUDIO_TEXT) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read a Label Studio JSON export: annotated texts with their technique spans.

    The export (*Export > JSON*) is a JSON array of tasks, each with ``data.text``
    and ``annotations``, whose ``result`` items of type ``labels`` are span labels
    (``value.start``, ``value.end``, ``value.text``, ``value.labels``). Labels go
    through the taxonomy (``"Loaded Language"``, ``"Appeal to fear-prejudice"``,
    ``"Name_Calling,Labeling"``, ids ... all resolve); a label with no counterpart
    among the 14 techniques is dropped and counted, an unknown one is an error.

    Which annotation counts: a task may have several (several annotators, or a
    relabelling). Cancelled (skipped) ones are ignored; of the rest, one marked as
    ground truth wins, else the most recently updated one. The others are not
    merged in: a later annotation is taken to correct an earlier one. A task with
    no annotation left is not labelled yet, so it is skipped (and counted), not read
    as "no technique". Result items of other types (choices, text areas, relations)
    are ignored and counted.

    Parameters
    ----------
    path : path
        The exported ``.json`` file.
    skip_bad_spans : bool, default=False
        Skip spans whose offsets fall outside the text, or whose ``value.text`` is
        not the text at their offsets, and list them in the report, instead of
        raising.
    text_field : str, default="text"
        The key of ``data`` that holds the text (``$text`` in the config).

    Returns
    -------
    documents : list of LabelledDocument
        One per annotated task, in file order, with the task's id as its id.
    report : CorpusReport

    Raises
    ------
    DataError
        Unreadable file, invalid JSON, not an array of tasks, a task without its
        text, a malformed result, an unknown label, bad offsets; the message names
        the task by its number in the file and its id.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> text = "These traitors lie. It rained."
    >>> span = {"type": "labels", "from_name": "label", "to_name": "text",
    ...         "value": {"start": 6, "end": 14, "text": "traitors", "labels": ["Name Calling,Labeling"]}}
    >>> export = [{"id": 7, "data": {"text": text}, "annotations": [{"id": 1, "result": [span]}]},
    ...           {"id": 8, "data": {"text": "Not done yet."}, "annotations": []}]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "export.json"
    >>> _ = p.write_text(json.dumps(export))
    >>> docs, report = read_label_studio(p)
    >>> docs[0].id, docs[0].sentences, docs[0].labels
    ('7', ['These traitors lie.', 'It rained.'], (frozenset({'name_calling_labeling'}), frozenset()))
    >>> docs[0].technique_spans, report.unannotated
    ((('name_calling_labeling', 6, 14),), 1)
    """
    path = Path(path)
    raw = _read_text(path).removeprefix("\ufeff")
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); expected Label Studio's JSON export "
                        f"(Export > JSON), an array of tasks") from None
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]  # one task, as Label Studio also imports
    if not isinstance(tasks, list):
        raise DataError(f"{path}: expected a JSON array of tasks (Label Studio's Export > JSON), "
                        f"got a {type(tasks).__name__}")
    if not tasks:
        raise DataError(f"{path}: the array of tasks is empty")
    report = CorpusReport()
    docs: list[LabelledDocument] = []
    seen: set[str] = set()
    for n, task in enumerate(tasks, start=1):
        where = f"{path}: task #{n}"
        if not isinstance(task, dict):
            raise DataError(f"{where}: expected an object with \"data\" and \"annotations\", "
                            f"got {type(task).__name__}")
        if "id" in task:
            where += f" (id {task['id']})"
        data = task.get("data")
        if not isinstance(data, dict) or text_field not in data:
            found = ", ".join(map(repr, data)) if isinstance(data, dict) else "no data object"
            hint = (" (this looks like the JSON-MIN export: export as JSON instead)"
                    if text_field in task and "data" not in task else "")
            raise DataError(f"{where}: no data.{text_field} (found: {found or 'nothing'}){hint}; "
                            f"pass text_field= the key your config's <Text value=\"$...\"> names")
        text = data[text_field]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: data.{text_field} must be a non-empty string")
        annotations = task.get("annotations", task.get("completions", []))  # "completions": before 1.0
        if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            raise DataError(f"{where}: \"annotations\" must be an array of objects")
        chosen = choose_annotation(annotations)
        if chosen is None:
            report.unannotated += 1
            continue
        if len([a for a in annotations if not a.get("was_cancelled")]) > 1:
            report.several_annotations += 1
        result = chosen.get("result", [])
        if not isinstance(result, list):
            raise DataError(f"{where}: the annotation's \"result\" must be an array")
        spans: list[tuple[str, int, int]] = []
        for k, item in enumerate(result, start=1):
            at = f"{where}, result #{k}"
            if not isinstance(item, dict):
                raise DataError(f"{at}: expected an object, got {type(item).__name__}")
            kind = item.get("type")
            if kind != "labels":
                report.ignored_results[str(kind)] += 1
                continue
            value = item.get("value")
            if not isinstance(value, dict) or not isinstance(value.get("labels"), list):
                raise DataError(f"{at}: a \"labels\" result needs value.start, value.end and value.labels")
            for label in value["labels"]:
                _add_span(spans, report, text, label, value.get("start"), value.get("end"), value.get("text"),
                          at, skip_bad_spans)
        doc_id = str(task.get("id", n))
        if doc_id in seen:
            raise DataError(f"{where}: the id {doc_id} appears twice")
        seen.add(doc_id)
        docs.append(_labelled(doc_id, text, spans, where))
    return _finish(docs, report, path, "tasks")


# -- doccano -------------------------------------------------------------------------
def read_doccano(path: str | os.PathLike[str], skip_bad_spans: bool = False
                 ) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read a doccano JSONL export: texts with their technique spans.

    A sequence-labelling project exports one object per line: ``text`` and
    ``label``, a list of ``[start, end, "Label"]`` (code-point offsets, end
    exclusive); a project with relations exports ``entities`` (objects with
    ``start_offset``, ``end_offset`` and ``label``) instead, and older doccano
    versions named the text ``data``. All three are read. A text-classification
    export (``label`` a list of names) reads as one labelled sentence per line.

    doccano exports every example, annotated or not (``label: []``): tick *Export
    only approved documents* so that a line with no span means "no technique".
    Labels go through the taxonomy; one with no counterpart among the 14
    techniques is dropped and counted, an unknown one is an error. A project
    without collaborative annotation exports one file per annotator (in a zip):
    read one of them.

    Parameters
    ----------
    path : path
        The exported ``.jsonl`` file.
    skip_bad_spans : bool, default=False
        Skip spans outside their text (and list them in the report) instead of
        raising.

    Returns
    -------
    documents : list of LabelledDocument
        One per line, in file order, with the example's ``id`` as its id.
    report : CorpusReport

    Raises
    ------
    DataError
        Unreadable file, invalid JSON, a line without text or labels, an unknown
        label, bad offsets; the message names the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "admin.jsonl"
    >>> _ = p.write_text('{"id": 3, "text": "These traitors lie. It rained.", '
    ...                  '"label": [[6, 14, "Name_Calling,Labeling"]], "Comments": []}\\n')
    >>> docs, report = read_doccano(p)
    >>> docs[0].id, docs[0].labels, docs[0].technique_spans
    ('3', (frozenset({'name_calling_labeling'}), frozenset()), (('name_calling_labeling', 6, 14),))
    """
    path = Path(path)
    if path.suffix.lower() == ".zip":
        raise DataError(f"{path}: a zip of per-annotator files; unzip it and pass one annotator's .jsonl")
    raw = _read_text(path).removeprefix("\ufeff")
    report = CorpusReport()
    docs: list[LabelledDocument] = []
    seen: set[str] = set()
    for lineno, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); expected doccano's "
                            f"JSONL export, one {{\"text\": ..., \"label\": [[start, end, \"Label\"], ...]}} "
                            f"per line") from None
        if not isinstance(rec, dict):
            raise DataError(f"{where}: expected an object, got {type(rec).__name__}")
        text = rec.get("text", rec.get("data"))
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: \"text\" must be a non-empty string")
        key = next((k for k in ("label", "labels", "entities") if k in rec), None)
        if key is None:
            raise DataError(f"{where}: no \"label\" (or \"entities\") field; export a sequence-labelling "
                            f"project as JSONL")
        items = rec[key]
        if not isinstance(items, list):
            raise DataError(f"{where}: {key!r} must be a list")
        doc_id = str(rec.get("id", lineno))
        if doc_id in seen:
            raise DataError(f"{where}: the id {doc_id} appears twice (several annotators' files joined? "
                            f"read one annotator's file)")
        seen.add(doc_id)
        if items and all(isinstance(x, str) for x in items):  # a text-classification export
            ids = set()
            for x in items:
                tid = _resolve_label(x, where)
                if tid is None:
                    report.dropped_labels[x] += 1
                else:
                    ids.add(tid)
            sentences = split_sentences(text)
            docs.append(LabelledDocument(doc_id, text, ((sentences[0][0], sentences[-1][1]),), (frozenset(ids),)))
            continue
        spans: list[tuple[str, int, int]] = []
        for k, item in enumerate(items, start=1):
            at = f"{where}: {key} #{k}"
            if isinstance(item, list) and len(item) == 3:
                start, end, label = item
            elif isinstance(item, dict) and {"start_offset", "end_offset", "label"} <= set(item):
                start, end, label = item["start_offset"], item["end_offset"], item["label"]
            else:
                raise DataError(f"{at}: expected [start, end, \"Label\"] or an object with start_offset, "
                                f"end_offset and label, got {item!r}")
            _add_span(spans, report, text, label, start, end, None, at, skip_bad_spans)
        docs.append(_labelled(doc_id, text, spans, where))
    return _finish(docs, report, path, "lines")


# -- labelled data from a DataFrame ----------------------------------------------------
def frame_records(df: pandas.DataFrame, required: Sequence[str] = ("text", "techniques")
                  ) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` pairs from a DataFrame's rows, for the record readers.

    Raises
    ------
    DataError
        A required column is missing.
    """
    cols = [str(c) for c in df.columns]
    missing = [c for c in required if c not in cols]
    if missing:
        raise DataError(
            f"DataFrame: missing column(s) {', '.join(missing)} (found: {', '.join(cols) or 'none'}); rename "
            f"them, e.g. df.rename(columns={{'sentence': 'text'}})"
        )
    for index, row in zip(df.index, df.itertuples(index=False, name=None)):
        yield f"DataFrame row {index!r}", {c: _plain(v) for c, v in zip(cols, row)}


def _load_documents(source: Any, format: str | None = None, *,  # noqa: A002
                    labels: str | os.PathLike[str] | None = None, skip_bad_spans: bool = False,
                    skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """:func:`load_documents` without the warning (callers report the drops themselves)."""
    if isinstance(source, (str, os.PathLike)):
        return _load_path(Path(source), format, labels, skip_bad_spans, skip_bad_rows)
    if format is not None or labels is not None:
        raise DataError("format= and labels= describe a file or folder; "
                        f"a {type(source).__name__} is read as it is")
    if _is_hf(source, "Dataset") or _is_hf(source, "DatasetDict"):
        return documents_from_dataset(source, skip_bad_rows)
    if is_frame(source):
        return _documents_from_records(frame_records(source), skip_bad_rows=skip_bad_rows)
    if isinstance(source, bytes):
        documents_from_examples(source)  # raises the explanatory error
    items = list(source)
    if items and all(isinstance(x, LabelledDocument) for x in items):
        report = CorpusReport(documents=len(items), sentences=sum(len(d.spans) for d in items))
        return items, report
    if any(isinstance(x, LabelledDocument) for x in items):
        raise DataError("examples: mix of LabelledDocument and other items; pass one kind")
    return _documents_from_records(
        ((f"examples: item {i}", ex) for i, ex in enumerate(items, start=1)), skip_bad_rows=skip_bad_rows)


def _looks_like_label_studio(path: Path) -> bool:
    """A ``.json`` file whose start has a task's ``"data": {`` or ``"annotations"`` key:
    a Label Studio export (SemEval-2021 files have ``id``, ``labels`` and ``text``)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(65536)
    except OSError:
        return False
    return re.search(r'"(?:data"\s*:\s*\{|annotations"\s*:)', head) is not None


def _load_path(path: Path, fmt: str | None, labels: str | os.PathLike[str] | None,
               skip_bad_spans: bool, skip_bad_rows: bool = False) -> tuple[list[LabelledDocument], CorpusReport]:
    """:func:`load_documents` of a path: name the format, then :func:`read_source`."""
    if fmt is None:
        name = path.name.lower()
        if path.is_dir():
            fmt = "ptc"
        elif name.endswith(".jsonl"):
            fmt = "jsonl"
        elif name.endswith(".csv"):
            fmt = "csv"
        elif name.endswith(".json") and _looks_like_label_studio(path):
            fmt = "label-studio"
        elif name.endswith((".json", "_task1.txt")):
            fmt = "semeval2021"
        elif not path.exists():
            raise DataError(f"{path}: no such file or folder")
        else:
            raise DataError(f"{path}: cannot tell its format from its name; pass format= one of "
                            f"{', '.join(SOURCE_FORMATS)}")
    elif fmt not in SOURCE_FORMATS:
        raise DataError(f"format {fmt!r} is not one of {', '.join(SOURCE_FORMATS)}")
    if fmt == "ptc":
        if labels is None:
            raise DataError(f"{path}: PTC articles need their span annotations: pass labels=FILE_OR_FOLDER")
        return read_source({"format": "ptc", "articles": str(path), "labels": str(labels),
                            "skip_bad_spans": skip_bad_spans})
    if labels is not None:
        raise DataError(f"labels= goes with a folder of PTC articles, not with {fmt} data")
    source: dict[str, Any] = {"format": fmt, "path": str(path)}
    if fmt in ANNOTATION_FORMATS:
        source["skip_bad_spans"] = skip_bad_spans
    if skip_bad_rows:
        source["skip_bad_rows"] = True
    return read_source(source)


#: The data formats a source mapping (``metadata["training_data"]["source"]``, the
#: CLI's data options) may name.
SOURCE_FORMATS = ("ptc", "jsonl", "csv", "semeval2021", "label-studio", "doccano")
#: The formats of annotation tools' exports (read by ``_annotation``): texts with spans.
ANNOTATION_FORMATS = ("label-studio", "doccano")


def read_source(source: Mapping[str, Any],
                base: str | os.PathLike[str] | None = None) -> tuple[list[LabelledDocument], CorpusReport]:
    """Read the data a source mapping names.

    Parameters
    ----------
    source : mapping
        ``{"format": "ptc", "articles": DIR, "labels": PATH, "skip_bad_spans": bool}``
        or ``{"format": "jsonl" | "csv" | "semeval2021" | "label-studio" | "doccano",
        "path": FILE}``; jsonl and csv sources may add ``"skip_bad_rows": true``,
        label-studio and doccano sources ``"skip_bad_spans": true``.
    base : path, optional
        Folder against which relative paths are resolved.

    Raises
    ------
    DataError
        An unknown format, a missing key, or anything the reader raises.
    """
    fmt = source.get("format")
    root = Path(base) if base is not None else Path()

    def path(key: str) -> Path:
        if not source.get(key):
            raise DataError(f"data source {dict(source)!r} lacks {key!r}")
        return root / str(source[key])

    if fmt == "ptc":
        return read_ptc(path("articles"), path("labels"), skip_bad_spans=bool(source.get("skip_bad_spans")))
    if fmt in ANNOTATION_FORMATS:
        reader = read_label_studio if fmt == "label-studio" else read_doccano
        return reader(path("path"), skip_bad_spans=bool(source.get("skip_bad_spans")))
    readers = {"jsonl": read_jsonl, "csv": read_csv, "semeval2021": read_semeval2021}
    if fmt in ("jsonl", "csv") and source.get("skip_bad_rows"):
        return readers[fmt](path("path"), skip_bad_rows=True)
    if fmt in readers:
        return readers[fmt](path("path"))
    raise DataError(f"data source format {fmt!r} is not one of {', '.join(SOURCE_FORMATS)}")
