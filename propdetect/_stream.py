"""Many documents: input discovery and reading, bounded parallel detection, summary.

The command line's ``analyze`` is built from three pieces that also work alone:

- :func:`iter_records` turns what the user named (files, directories, ``-`` for
  stdin; plain text or JSON Lines) into a stream of :class:`Document` and
  :class:`InputError` records. Every input yields one or the other: nothing is
  skipped silently and nothing raises.
- :func:`iter_detect` / :func:`analyze_records` run the detector over a stream in
  order, with bounded work in flight (:mod:`propdetect._pool`: joblib, any
  backend, e.g. Dask), so that memory stays flat whatever the length of the input.
- :class:`Summary` counts documents, sentences, flagged sentences and errors.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ._detector import CODEC, Detector, _check_item
from ._pool import imap
from ._results import Analysis

__all__ = [
    "Document",
    "InputError",
    "RecordFile",
    "read_records",
    "Summary",
    "analyze_records",
    "iter_detect",
    "iter_records",
]

T = TypeVar("T")

#: Input formats: ``auto`` reads ``*.jsonl`` files as JSON Lines, anything else as text.
INPUT_FORMATS = ("auto", "text", "jsonl")
STDIN = "-"
STDIN_NAME = "<stdin>"
# Output keys that copied JSON Lines fields must not overwrite; such input
# fields are kept under "input_<key>" instead (nothing is lost).
RESERVED_KEYS = ("source", "line", "sentences", "error", "warnings", "model", "model_version",
                 "model_digest")



# -- records -----------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    """One text to analyse.

    Attributes
    ----------
    source : str
        The file it came from (``"<stdin>"`` for standard input).
    line : int or None
        Its line in a JSON Lines file; None for a whole text file.
    text : str
        The decoded text.
    fields : dict
        The other fields of its JSON Lines record (e.g. ``id``), to copy to the
        output.
    """

    source: str
    line: int | None
    text: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``source`` or ``source:line``, for messages and text output."""
        return self.source if self.line is None else f"{self.source}:{self.line}"

    def output_fields(self) -> dict[str, Any]:
        """The fields to put in the output record beside ``source`` and ``sentences``."""
        out = {(f"input_{k}" if k in RESERVED_KEYS else k): v for k, v in self.fields.items()}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass(frozen=True)
class InputError:
    """An input that could not be analysed, and why.

    Examples
    --------
    >>> e = InputError("data.jsonl", 3, "invalid JSON: Expecting value (column 1)")
    >>> e.to_record()
    {'source': 'data.jsonl', 'line': 3, 'error': 'invalid JSON: Expecting value (column 1)'}
    >>> e.message()
    'data.jsonl:3: invalid JSON: Expecting value (column 1)'
    """

    source: str
    line: int | None
    error: str

    @property
    def label(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"

    def to_record(self) -> dict[str, Any]:
        """The JSON Lines error record: ``{"source", "line", "error"}``."""
        return {"source": self.source, "line": self.line, "error": self.error}

    def message(self) -> str:
        """One line for stderr: ``source[:line]: error``."""
        return f"{self.label}: {self.error}"


Record = Document | InputError


# -- reading -----------------------------------------------------------------------
def _decode(data: bytes, encoding: str, errors: str) -> str | str_error:
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return str_error(
            f"not valid {encoding} at line {line} (byte {exc.start}: {exc.reason}); convert the "
            f"input, or read it with --encoding ENCODING or --errors replace", line)


class str_error(str):  # noqa: N801 -- a str that marks a failure, with its line
    """A decoding failure message (a ``str`` subclass so that it can stand in for text)."""

    line: int

    def __new__(cls, message: str, line: int) -> str_error:
        self = super().__new__(cls, message)
        self.line = line
        return self


def _is_ascii_compatible(encoding: str) -> bool:
    try:
        return "\n{}\"".encode(encoding) == b"\n{}\""
    except (LookupError, UnicodeError):
        return False


def _read_text(source: str, fh: BinaryIO, encoding: str, errors: str) -> Record:
    data = fh.read()
    text = _decode(data, encoding, errors)
    if isinstance(text, str_error):
        return InputError(source, text.line, str(text))
    return Document(source, None, text)


def _parse_json_line(source: str, lineno: int, raw: bytes, text_field: str,
                     encoding: str, errors: str) -> Record | None:
    line = _decode(raw, encoding, errors)
    if isinstance(line, str_error):
        return InputError(source, lineno, str(line).replace(" at line 1 ", " "))
    if not line.strip(" \t\r\n"):
        return None  # a blank line (JSON whitespace only) holds no record, e.g. a final newline
    try:
        obj = json.loads(line)
    except RecursionError:
        return InputError(source, lineno, "invalid JSON: nested too deeply")
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        msg = f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return InputError(source, lineno, f"invalid JSON: {msg}")
    if not isinstance(obj, dict):
        return InputError(source, lineno, f"expected a JSON object, got {_json_type(obj)}")
    if text_field not in obj:
        return InputError(source, lineno, f"no {text_field!r} field (name the text field with --text-field)")
    text = obj.pop(text_field)
    if not isinstance(text, str):
        return InputError(source, lineno, f"field {text_field!r} is {_json_type(text)}, expected a string")
    return Document(source, lineno, text, obj)


def _json_type(obj: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(obj), type(obj).__name__)


def _read_jsonl(source: str, fh: BinaryIO, text_field: str, encoding: str,
                errors: str) -> Iterator[Record]:
    if not _is_ascii_compatible(encoding):
        yield InputError(source, None, f"JSON Lines must be in an ASCII-compatible encoding "
                                       f"(UTF-8, Latin-1, cp1252, ...), not {encoding}")
        return
    # Binary lines: a bad byte spoils one record, and reading resumes at the next.
    for lineno, raw in enumerate(fh, 1):
        rec = _parse_json_line(source, lineno, raw, text_field, encoding, errors)
        del raw  # not held while the record is analysed: a line may be 50 MB
        if rec is not None:
            yield rec


def _format_of(path: Path, input_format: str) -> str:
    if input_format != "auto":
        return input_format
    return "jsonl" if path.suffix.lower() == ".jsonl" else "text"


def _read_file(path: Path, source: str, input_format: str, text_field: str,
               encoding: str, errors: str) -> Iterator[Record]:
    try:
        if path.is_dir():
            yield InputError(source, None, "is a directory, expected a file")
            return
        fh = open(path, "rb")  # noqa: SIM115 -- closed below, also when the reader stops
    except FileNotFoundError:
        yield InputError(source, None, "no such file")
        return
    except OSError as exc:
        yield InputError(source, None, f"cannot read ({exc.strerror or exc})")
        return
    with fh:
        try:
            if _format_of(path, input_format) == "jsonl":
                yield from _read_jsonl(source, fh, text_field, encoding, errors)
            else:
                yield _read_text(source, fh, encoding, errors)
        except OSError as exc:  # e.g. EIO, or a directory opened on some systems
            yield InputError(source, None, f"read failed ({exc.strerror or exc})")


def _directory_members(path: Path, input_format: str) -> list[Path] | str:
    wanted = {"auto": (".txt", ".jsonl"), "text": (".txt",), "jsonl": (".jsonl",)}[input_format]
    try:
        return sorted(p for p in path.iterdir() if p.suffix.lower() in wanted)
    except OSError as exc:
        return f"cannot list directory ({exc.strerror or exc})"


def iter_records(names: Sequence[str], *, input_format: str = "auto", text_field: str = "text",
                 encoding: str = "utf-8", errors: str = "strict",
                 stdin: BinaryIO | None = None) -> Iterator[Record]:
    """Read every input named, lazily: one :class:`Document` or :class:`InputError` each.

    Parameters
    ----------
    names : sequence of str
        Files, directories and ``"-"`` (standard input). A directory stands for its
        ``*.txt`` (and, with ``input_format="auto"``, ``*.jsonl``) files in name
        order.
    input_format : {"auto", "text", "jsonl"}, default="auto"
        ``text``: a file is one document. ``jsonl``: one JSON object per line, the
        text in ``text_field``; blank lines are ignored. ``auto``: ``*.jsonl`` files
        are JSON Lines, everything else (and stdin) is text.
    text_field : str, default="text"
        The JSON Lines field that holds the text; the other fields are kept in
        :attr:`Document.fields`.
    encoding : str, default="utf-8"
        How the bytes are decoded.
    errors : {"strict", "replace"}, default="strict"
        ``strict``: undecodable bytes make that input an :class:`InputError`;
        ``replace``: they become U+FFFD.
    stdin : binary file, optional
        Read for ``"-"``; default ``sys.stdin.buffer``.

    Yields
    ------
    Document or InputError
        In input order. A missing, unreadable or undecodable file, a directory
        where a file was expected, a line that is not a JSON object with a string
        text: each gives an :class:`InputError` naming the file (and line).
        An empty file is an empty document.

    Examples
    --------
    >>> import io
    >>> data = io.BytesIO(b'{"id": 1, "text": "Hello."}\\nnot json\\n')
    >>> for r in iter_records(["-"], input_format="jsonl", stdin=data):
    ...     print(r)
    Document(source='<stdin>', line=1, text='Hello.', fields={'id': 1})
    InputError(source='<stdin>', line=2, error='invalid JSON: Expecting value (column 1)')
    """
    for name in names:
        if name == STDIN:
            fh = stdin if stdin is not None else sys.stdin.buffer
            try:
                if input_format == "jsonl":
                    yield from _read_jsonl(STDIN_NAME, fh, text_field, encoding, errors)
                else:
                    yield _read_text(STDIN_NAME, fh, encoding, errors)
            except OSError as exc:
                yield InputError(STDIN_NAME, None, f"read failed ({exc.strerror or exc})")
            continue
        path = Path(name)
        try:
            is_dir = path.is_dir()
        except OSError:  # e.g. a name too long for the file system
            is_dir = False
        if not is_dir:
            yield from _read_file(path, name, input_format, text_field, encoding, errors)
            continue
        members = _directory_members(path, input_format)
        if isinstance(members, str):
            yield InputError(name, None, members)
        elif not members:
            kinds = {"auto": "*.txt or *.jsonl", "text": "*.txt", "jsonl": "*.jsonl"}[input_format]
            yield InputError(name, None, f"directory holds no {kinds} files")
        for member in members if isinstance(members, list) else ():
            yield from _read_file(member, str(member), input_format, text_field, encoding, errors)


# -- detection ---------------------------------------------------------------------
def analyze_records(detector: Detector, items: Iterable[T], *,
                    text_of: Callable[[T], str | None] = lambda item: item,  # type: ignore[assignment,return-value]
                    n_jobs: int | None = None, batch_size: int | None = None,
                    max_in_flight: int | None = -1, capture_errors: bool = False,
                    render: Callable[[str, Analysis], Any] | None = None) -> Iterator[tuple[T, Any]]:
    """Detect the text of each item, in order, with at most a window of work in flight.

    The work runs in :func:`propdetect._pool.imap`: a small input is detected in
    this process (no workers are started; the budgets are in that module), a
    longer one on workers that stay up between calls, a window of batches (32 per
    worker) at a time.

    Parameters
    ----------
    detector : Detector
    items : iterable
        Consumed lazily: at most a window ahead of the results yielded.
    text_of : callable, optional
        ``item -> str``, or None for an item that passes through unanalysed (e.g.
        an :class:`InputError`). Default: the item is the text.
    n_jobs : int, optional
        As in :meth:`Detector.detect_many`.
    batch_size : int, optional
        At most this many texts per task; by default tasks are cut by length
        (as in :meth:`Detector.detect_many`).
    max_in_flight : int or None, default=-1
        Batches per window; -1 means 32 per worker; None means one window
        (everything at once, for inputs already in memory).
    capture_errors : bool, default=False
        When a text makes the detector raise, yield its error message (a ``str``)
        instead of raising.
    render : callable, optional
        ``render(text, analysis)``, a top-level function, yielded instead of the
        analysis and run where the analysis is made (in the workers, for texts
        up to a million characters), e.g. :func:`propdetect._report.jsonl_sentences`.

    Yields
    ------
    (item, result)
        ``result`` is an :class:`Analysis` (or what ``render`` made of it), None
        for a pass-through item, or the error message when ``capture_errors``.
    """
    return imap(detector, items, CODEC, text_of=text_of, n_jobs=n_jobs, batch_size=batch_size,
                max_in_flight=max_in_flight, capture_errors=capture_errors, render=render)


def iter_detect(detector: Detector, texts: Iterable[str], *, n_jobs: int | None = None,
                batch_size: int | None = None, max_in_flight: int | None = -1) -> Iterator[Analysis]:
    """The lazy :meth:`Detector.detect_many`: analyses in input order, as they come.

    At most ``max_in_flight`` batches are read ahead of the analyses yielded, so
    that an endless generator of texts runs in bounded memory.

    Examples
    --------
    >>> det = Detector.load()
    >>> texts = (f"Sentence number {i}." for i in range(3))
    >>> [len(a.sentences) for a in iter_detect(det, texts)]
    [1, 1, 1]
    """
    checked = (_check_item(t, i, "iter_detect") for i, t in enumerate(texts))
    for _, analysis in analyze_records(detector, checked, n_jobs=n_jobs, batch_size=batch_size,
                                       max_in_flight=max_in_flight):
        yield analysis  # type: ignore[misc]


# -- summary -----------------------------------------------------------------------
@dataclass
class Summary:
    """Running totals for a run over many documents.

    Examples
    --------
    >>> s = Summary(started=0.0)
    >>> s.errors += 1
    >>> s.line(now=2.0)
    '0 documents, 0 sentences, 0 flagged, 1 errors in 2.0 s'
    """

    documents: int = 0
    sentences: int = 0
    flagged: int = 0
    errors: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, analysis: Analysis) -> None:
        self.add_counts(len(analysis.sentences), sum(1 for s in analysis.sentences if s.techniques))

    def add_counts(self, sentences: int, flagged: int) -> None:
        """Count one document of ``sentences`` sentences, ``flagged`` of them flagged."""
        self.documents += 1
        self.sentences += sentences
        self.flagged += flagged

    def line(self, now: float | None = None) -> str:
        elapsed = (time.perf_counter() if now is None else now) - self.started
        rate = f" ({self.documents / elapsed:.1f} documents/s)" if self.documents and elapsed >= 1 else ""
        return (f"{self.documents} documents, {self.sentences} sentences, {self.flagged} flagged, "
                f"{self.errors} errors in {elapsed:.1f} s{rate}")


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or ValueError naming the problem."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} (try utf-8, latin-1, cp1252)") from None


# -- output that survives the run ending ------------------------------------------------
class RecordFile:
    """An output file written a whole record at a time, for ``-o FILE``.

    Text is gathered per record and handed to the operating system only at record
    boundaries (every :attr:`FLUSH_BYTES` or :attr:`FLUSH_SECONDS`, whichever comes
    first, with SIGINT and SIGTERM held back during the write), so that the file never
    ends inside a record, however the run ends: an exception, a signal, even SIGKILL.
    The one exception is a record longer than :attr:`STREAM_BYTES` (a document of
    tens of MB, whose JSON is never held whole): it is written as it is made, and a
    run stopped inside it by an exception or a catchable signal cuts the file back
    to the record's start on :meth:`close`; after SIGKILL, ``--resume`` drops it.

    Parameters
    ----------
    path : str
        The file; created, or emptied (``append=False``), or appended to.
    append : bool, default=False

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.jsonl")
    >>> out = RecordFile(path)
    >>> _ = out.write('{"a": 1}\\n'); out.end_record()
    >>> _ = out.write('{"b": '); out.close()   # stopped inside a record: it is not written
    >>> with open(path) as fh:
    ...     fh.read()
    '{"a": 1}\\n'
    """

    FLUSH_BYTES = 1 << 16
    FLUSH_SECONDS = 1.0
    STREAM_BYTES = 4 << 20

    def __init__(self, path: str, append: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o666)
        self.name = path
        self.encoding = "utf-8"
        self._done = bytearray()  # whole records not yet written
        self._record: list[bytes] = []  # the record being made
        self._record_bytes = 0
        self._streamed_from: int | None = None  # file size when a long record began to be written
        self._last = time.monotonic()

    def write(self, text: str) -> int:
        data = text.encode("utf-8", "backslashreplace")  # a lone surrogate: \udXXX, valid JSON
        self._record.append(data)
        self._record_bytes += len(data)
        if self._record_bytes > self.STREAM_BYTES:
            if self._streamed_from is None:
                self._write_out()  # the records before it, whole
                self._streamed_from = os.fstat(self._fd).st_size
            self._done += b"".join(self._record)
            self._record, self._record_bytes = [], 0
            self._write_out()
        return len(text)

    def end_record(self) -> None:
        """The text written since the last call is a whole record."""
        self._done += b"".join(self._record)
        self._record, self._record_bytes = [], 0
        self._streamed_from = None
        if len(self._done) >= self.FLUSH_BYTES or time.monotonic() - self._last >= self.FLUSH_SECONDS:
            self._write_out()

    def flush(self) -> None:
        """Write the whole records made so far (not a record in the making)."""
        self._write_out()

    def _write_out(self) -> None:
        if not self._done:
            return
        held = _hold_signals()
        try:
            view = memoryview(self._done)
            while view:
                view = view[os.write(self._fd, view):]
            view.release()
            self._done.clear()
        finally:
            _release_signals(held)
        self._last = time.monotonic()

    def close(self) -> None:
        """Write the whole records and close; a record in the making is dropped (and a
        long one already partly written is cut off)."""
        if self._fd < 0:
            return
        try:
            self._record, self._record_bytes = [], 0
            if self._streamed_from is not None:
                self._done.clear()
                try:
                    os.ftruncate(self._fd, self._streamed_from)
                except OSError:  # not a regular file (a pipe, /dev/null): nothing to cut
                    pass
            self._write_out()
        finally:
            os.close(self._fd)
            self._fd = -1


_HELD = (signal.SIGINT, signal.SIGTERM)


def _hold_signals() -> set[int] | None:
    """Hold back SIGINT and SIGTERM (delivered when released); None where that cannot be done."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, _HELD))


def _release_signals(old: set[int] | None) -> None:
    if old is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass
class ResumeState:
    """What an output file of an earlier run holds: the inputs it has a record for
    (``source -> lines``, None for a whole file) and how many records and error records."""

    done: dict[str, set[int | None]] = field(default_factory=dict)
    records: int = 0
    errors: int = 0
    dropped_bytes: int = 0

    def has(self, record: Document | InputError) -> bool:
        lines = self.done.get(record.source)
        return lines is not None and record.line in lines


def read_records(path: str, model_digest: str) -> ResumeState:
    """Read the JSON Lines records an earlier ``analyze --format jsonl -o path`` wrote,
    for ``--resume``; cut off a torn last line (a run stopped inside it).

    Raises
    ------
    ValueError
        A whole line that is not a record of ``analyze --format jsonl``, or a record
        made by another model or other thresholds (another ``model_digest``).
    """
    state = ResumeState()
    good = 0  # bytes of whole lines
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.endswith(b"\n"):
                break  # torn: the run stopped while writing it
            good += len(raw)
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except ValueError:
                raise ValueError(f"line {lineno} is not JSON: not the output of `propdetect analyze "
                                 "--format jsonl`") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("source"), str) or (
                    "sentences" not in rec and "error" not in rec):
                raise ValueError(f"line {lineno} is not a record of `propdetect analyze --format jsonl`")
            if rec.get("model_digest") != model_digest:
                raise ValueError(f"line {lineno} was made by another model or other thresholds "
                                 f"(model_digest {rec.get('model_digest')}, this run {model_digest}): resume "
                                 "with the same --model and --threshold, or write to another file")
            line = rec.get("line")
            state.done.setdefault(sys.intern(rec["source"]), set()).add(line if isinstance(line, int) else None)
            state.records += 1
            state.errors += "sentences" not in rec
        size = fh.seek(0, os.SEEK_END)
    state.dropped_bytes = size - good
    if state.dropped_bytes:
        os.truncate(path, good)
    return state
