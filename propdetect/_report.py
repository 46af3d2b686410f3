"""Renderers: analyses -> readable text, JSON Lines records and CSV rows."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from ._frame import COLUMNS, TAIL_COLUMNS, sentence_rows
from ._results import Analysis, Sentence

if TYPE_CHECKING:  # pragma: no cover
    from ._detector import Detector

__all__ = ["render_text", "jsonl_record", "iter_jsonl_record", "jsonl_sentences", "JsonlSentences",
           "StreamedSentences", "stream_jsonl_sentences",
           "summary_line", "csv_header", "csv_rows", "model_fields", "MODEL_COLUMNS"]

#: The fields that name the model in every output record (see :func:`model_fields`).
MODEL_COLUMNS = ("model", "model_version", "model_digest")


def model_digest(detector: Detector) -> str:
    """``sha256:`` and 16 hex digits over the model's arrays (weights and thresholds),
    vocabulary and metadata: two models differ in it, and so does one model used
    with other thresholds."""
    import numpy as np

    h = hashlib.sha256(json.dumps(dict(detector.metadata), sort_keys=True, default=str).encode())
    h.update("\n".join(detector._featurizer.terms()).encode("utf-8", "surrogatepass"))
    for name in sorted(detector._arrays):
        a = np.ascontiguousarray(detector._arrays[name])
        h.update(f"\0{name}:{a.dtype.str}:{a.shape}\0".encode())
        h.update(a.tobytes())
    encoder = getattr(detector, "_encoder", None)
    if encoder is not None:  # the accurate model's encoder files
        for name, digest in sorted(encoder.digests.items()):
            h.update(f"\0{name}:{digest}\0".encode())
    return "sha256:" + h.hexdigest()[:16]


def model_fields(detector: Detector) -> dict[str, str | None]:
    """What every output record says about the model that made it: ``model`` (its
    name), ``model_version`` (name and training date, from its metadata) and
    ``model_digest`` (:func:`model_digest`), so that results of two models, or of
    one model with other thresholds, can be told apart later.

    Examples
    --------
    >>> from propdetect import Detector
    >>> fields = model_fields(Detector.load())
    >>> sorted(fields) == sorted(MODEL_COLUMNS), fields["model"]
    (True, 'ptc2020')
    >>> model_fields(Detector.load().with_thresholds(0.9))["model_digest"] != fields["model_digest"]
    True
    """
    meta = detector.metadata
    return {"model": meta.get("name"), "model_version": meta.get("model_version"),
            "model_digest": model_digest(detector)}


def model_label(fields: Mapping[str, Any]) -> str:
    """One line naming the model: ``ptc2020-2026-11-30 (sha256:...)``."""
    return f"{fields.get('model_version') or fields.get('model') or 'unnamed'} ({fields.get('model_digest')})"


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
                thresholds: Mapping[str, float] | None = None,
                model: Mapping[str, Any] | None = None) -> str:
    """A readable listing of the flagged sentences, their techniques, scores and
    evidence words, then a one-line summary.

    With ``thresholds`` (technique id -> threshold, and ``"propaganda"`` for the
    flag's), each score is shown beside the threshold it was compared with, and a
    flagged sentence's propaganda probability first. With ``model``
    (:func:`model_fields`), the summary line names the model.

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
    lines.append(f"summary: {summary_line(analysis)}" + (f"; model {model_label(model)}" if model else ""))
    return "\n".join(lines)


def jsonl_record(source: str, analysis: Analysis | JsonlSentences | StreamedSentences, extra: Mapping[str, Any] | None = None,
                 model: Mapping[str, Any] | None = None) -> str:
    """One JSON Lines record: ``{"source": ..., "sentences": [...], "warnings": [...]}``
    (+ ``extra`` fields first, + the ``model`` fields of :func:`model_fields` last).

    The same text as :func:`iter_jsonl_record` gives in pieces.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> s = Sentence("Traitors!", 0, 9, ("name_calling_labeling",), {"name_calling_labeling": 0.9})
    >>> jsonl_record("doc.txt", Analysis((s,)), {"id": 7})[:60]
    '{"id": 7, "source": "doc.txt", "sentences": [{"start": 0, "e'
    """
    return "".join(iter_jsonl_record(source, analysis, extra, model))


# Sentences per piece of iter_jsonl_record: few write calls, and a piece of a
# few hundred KB whatever the document's length.
_SENTENCES_PER_PIECE = 512
_MARK = "\0propdetect:sentences\0"


def _sentence_json(s: Sentence) -> str:
    d = s.to_dict()
    # to_dict's scores are a plain dict: rounding it is cheaper than walking s.scores
    d["scores"] = {k: round(v, 6) for k, v in d["scores"].items()}
    return json.dumps(d, ensure_ascii=False)


def iter_jsonl_record(source: str, analysis: Analysis | JsonlSentences | StreamedSentences, extra: Mapping[str, Any] | None = None,
                      model: Mapping[str, Any] | None = None) -> Iterator[str]:
    """:func:`jsonl_record` in pieces (no newline), a few hundred sentences each, so
    that writing the record of a huge document never holds its whole JSON text:
    memory follows the piece, not the document. ``analysis`` may also be its
    :func:`jsonl_sentences` (the sentences already rendered) or a
    :class:`StreamedSentences` (the sentences detected as they are written).

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> a = Analysis(tuple(Sentence(f"S{i}.", 4 * i, 4 * i + 3) for i in range(1000)))
    >>> pieces = list(iter_jsonl_record("doc.txt", a))
    >>> len(pieces), "".join(pieces) == jsonl_record("doc.txt", a)
    (4, True)
    """
    rec: dict[str, Any] = dict(extra or {})
    rec["source"] = source
    rec["sentences"] = [_MARK]
    rec["warnings"] = list(analysis.warnings)
    rec.update(model or {})
    # Only our own fields (warnings, model) follow the sentences, and none holds a
    # NUL: the last marker is ours whatever the extra fields hold.
    head, _, tail = json.dumps(rec, ensure_ascii=False).rpartition(json.dumps([_MARK]))
    yield head + "["
    if isinstance(analysis, JsonlSentences) and analysis.body is not None:
        yield analysis.body
    else:
        yield from _sentence_pieces(analysis.sentences)
    yield "]" + tail


def _sentence_pieces(sents: Iterable[Sentence]) -> Iterator[str]:
    it = iter(sents)
    sep = ""
    while chunk := list(islice(it, _SENTENCES_PER_PIECE)):
        yield sep + ", ".join(map(_sentence_json, chunk))
        sep = ", "


# Analyses of at most this many sentences are rendered at once by
# jsonl_sentences; longer ones (a huge document) stay lazy, written piece by piece.
_EAGER_SENTENCES = 4096


@dataclass(frozen=True)
class JsonlSentences:
    """A document's sentences as JSON Lines text: what ``analyze --format jsonl``
    needs of an :class:`Analysis`, made where the analysis is (a worker process)
    so that the process that writes the output only copies text.

    Attributes
    ----------
    n_sentences, n_flagged : int
        For the run's summary.
    warnings : tuple of str
    body : str or None
        The sentences' JSON objects joined by ``", "`` (the inside of the record's
        ``"sentences"`` array); None when ``sentences`` holds them unrendered.
    sentences : tuple of Sentence
        Empty when ``body`` is given; else rendered piece by piece when written.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> a = Analysis((Sentence("Hi.", 0, 3), Sentence("Bye.", 4, 8, ("doubt",), {"doubt": 0.7})))
    >>> r = jsonl_sentences("Hi. Bye.", a)
    >>> r.n_sentences, r.n_flagged, r.body[:30]
    (2, 1, '{"start": 0, "end": 3, "text":')
    >>> jsonl_record("doc.txt", r) == jsonl_record("doc.txt", a)
    True
    """

    n_sentences: int
    n_flagged: int
    warnings: tuple[str, ...]
    body: str | None
    sentences: tuple[Sentence, ...] = ()


def jsonl_sentences(text: str, analysis: Analysis) -> JsonlSentences:
    """``analysis`` rendered for :func:`iter_jsonl_record` (``text`` unused: the
    signature of a render function of :func:`propdetect._pool.imap`)."""
    sents = analysis.sentences
    flagged = sum(1 for s in sents if s.techniques)
    if len(sents) > _EAGER_SENTENCES:
        return JsonlSentences(len(sents), flagged, analysis.warnings, None, sents)
    return JsonlSentences(len(sents), flagged, analysis.warnings, "".join(_sentence_pieces(sents)))


class StreamedSentences:
    """The sentences of a huge document, detected as :func:`iter_jsonl_record`
    writes them, a block at a time: the document's analysis is never held whole.
    Single use; ``n_sentences`` and ``n_flagged`` count what has been written.

    Examples
    --------
    >>> from propdetect import Detector
    >>> det = Detector.load()
    >>> text = "Calm day. These traitors lie!"
    >>> streamed = stream_jsonl_sentences(text, det)
    >>> jsonl_record("doc.txt", streamed) == jsonl_record("doc.txt", det.detect(text))
    True
    >>> streamed.n_sentences
    2
    """

    def __init__(self, sentences: Iterable[Sentence], warnings: Sequence[str]) -> None:
        self._sentences = iter(sentences)
        self.warnings = tuple(warnings)
        self.n_sentences = self.n_flagged = 0

    @property
    def sentences(self) -> Iterator[Sentence]:
        for s in self._sentences:
            self.n_sentences += 1
            self.n_flagged += bool(s.techniques)
            yield s


def stream_jsonl_sentences(text: str, model: Any) -> StreamedSentences | None:
    """:func:`jsonl_sentences` of ``model.detect(text)``, detected lazily while it is
    written (None for a model that cannot): how the calling process handles a
    document too long to render at once (:func:`propdetect._pool.imap`)."""
    lazily = getattr(model, "_detect_lazily", None)
    if lazily is None:
        return None
    sentences, warnings = lazily(text)
    return StreamedSentences(sentences, warnings)


jsonl_sentences.stream = stream_jsonl_sentences  # type: ignore[attr-defined]


def _csv_line(fields: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()[:-1]


def csv_header(techniques: Sequence[str], model: Mapping[str, Any] | None = None) -> str:
    """The CSV header: the columns of :func:`propdetect.to_frame`, then with
    ``model`` the :data:`MODEL_COLUMNS`."""
    return _csv_line([*COLUMNS, *techniques, *TAIL_COLUMNS, *(MODEL_COLUMNS if model is not None else ())])


def csv_rows(source: str, analysis: Analysis, techniques: Sequence[str],
             model: Mapping[str, Any] | None = None) -> Iterator[str]:
    """One CSV line per sentence, in the columns of :func:`csv_header`.

    ``techniques`` are ``;``-separated ids (as :func:`propdetect.read_csv` reads
    them); scores are rounded to 6 decimals, as in JSON Lines; ``warnings`` (the
    text's) are separated by `` | ``; with ``model`` (:func:`model_fields`), its
    fields end each row.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> s = Sentence("Traitors, all!", 4, 18, ("name_calling_labeling",), {"name_calling_labeling": 0.91234567})
    >>> print(csv_header(["name_calling_labeling"]))
    source,start,end,text,techniques,propaganda_score,name_calling_labeling,warnings
    >>> print(*csv_rows("doc.txt", Analysis((s,), ("too short",)), ["name_calling_labeling"]))
    doc.txt,4,18,"Traitors, all!",name_calling_labeling,,0.912346,too short
    """
    tail = [model.get(k) or "" for k in MODEL_COLUMNS] if model is not None else []
    for src, start, end, text, found, *scores, warnings in sentence_rows(analysis, source, techniques):
        yield _csv_line([src, start, end, text, ";".join(found),
                         *("" if v != v else round(v, 6) for v in scores),  # v != v: NaN
                         " | ".join(warnings), *tail])
