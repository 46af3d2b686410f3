"""Many documents: detect_many across workers, the lazy pipeline, input records."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from propdetect import Detector
from propdetect import _pool, _stream
from propdetect._detector import CODEC
from propdetect._stream import Document, InputError, Summary, analyze_records, iter_detect, iter_records

TEXTS = [
    "These traitors and thugs are destroying our great nation! The council meets on Tuesday.",
    "",
    "   \n\n ",
    "Is this so-called expert really telling the truth?\nThe bridge will be closed for repairs.",
    "Patriots must stand up for our flag. " * 40,
    "No punctuation at all just words and more words " * 20,
    "Emoji 🇺🇦 and zero\u200bwidth and RTL שלום. Corrupt criminals!\r\nCRLF line.",
]


@pytest.fixture(autouse=True)
def _workers_even_for_small_inputs(monkeypatch):
    """These inputs are tiny: without this, ``n_jobs=2`` would run them in process
    (the small-input policy, tested on its own below)."""
    monkeypatch.setattr(_pool, "COLD_CHARS", 0)
    monkeypatch.setattr(_pool, "WARM_CHARS", 0)
    monkeypatch.setattr(_pool, "FORK_CHARS", 0)
    monkeypatch.setattr(_pool, "OVERLAP_CHARS", 0)


def _dicts(analyses):
    return [a.to_dict() for a in analyses]


# -- detect_many ---------------------------------------------------------------------
def test_detect_many_two_workers_matches_one(tiny_detector):
    texts = TEXTS * 5
    one = tiny_detector.detect_many(texts, n_jobs=1)
    two = tiny_detector.detect_many(texts, n_jobs=2, batch_size=3)
    assert _dicts(one) == _dicts(two) == _dicts(tiny_detector.detect(t) for t in texts)
    assert one == two  # the frozen dataclasses compare equal too


def test_detect_many_bundled_model_two_workers_matches_detect():
    det = Detector.load()
    texts = TEXTS * 3
    assert _dicts(det.detect_many(texts, n_jobs=2, batch_size=4)) == _dicts(det.detect(t) for t in texts)


def test_detect_many_refuses_one_string_and_non_text(tiny_detector):
    with pytest.raises(TypeError, match="for one text use detect"):
        tiny_detector.detect_many("one text")
    with pytest.raises(TypeError, match=r"^detect_many\(\): item 1 is int, not str$"):
        tiny_detector.detect_many(["ok", 42])
    with pytest.raises(TypeError, match=r"item 0 is bytes, not str: decode it"):
        tiny_detector.detect_many([b"bytes"], n_jobs=2)


def test_detect_many_empty_and_generator_input(tiny_detector):
    assert tiny_detector.detect_many([]) == []
    assert tiny_detector.detect_many([], n_jobs=2) == []
    gen = (t for t in TEXTS)
    assert _dicts(tiny_detector.detect_many(gen)) == _dicts(tiny_detector.detect(t) for t in TEXTS)


def test_model_travels_as_bytes_and_is_decoded_once_per_digest(tiny_detector, monkeypatch):
    digest, blob = _pool.model_payload(tiny_detector, CODEC)
    assert digest.startswith("sha256:") and blob.dtype.name == "uint8"
    # Same detector -> the very same array object, so joblib ships it once per pool.
    assert _pool.model_payload(tiny_detector, CODEC)[1] is blob
    # A fresh worker: nothing cached; the blob rebuilds an equivalent detector once.
    monkeypatch.setattr(_pool, "_models", {})
    copy = _pool.worker_model(digest, blob, CODEC)
    assert copy is not tiny_detector
    assert _pool.worker_model(digest, None, CODEC) is copy
    text = TEXTS[0] + "\n" + TEXTS[3]
    assert copy.detect(text) == tiny_detector.detect(text)
    monkeypatch.setattr(_pool, "_models", {})
    with pytest.raises(RuntimeError, match="not cached"):
        _pool.worker_model(digest, None, CODEC)


def test_detect_batch_captures_a_failing_text(tiny_detector, monkeypatch):
    digest, blob = _pool.model_payload(tiny_detector, CODEC)
    def failing(real):
        def boom(self, text):
            if text == "bad":
                raise ValueError("kaput")
            return real(self, text)
        return boom

    # workers call _detect_packed (detect when they render): both fail on "bad"
    monkeypatch.setattr(type(tiny_detector), "detect", failing(Detector.detect))
    monkeypatch.setattr(type(tiny_detector), "_detect_packed", failing(Detector._detect_packed))
    ids, out = _pool._run_batch(digest, blob, CODEC, ["fine.", "bad"], capture_errors=True)
    assert ids == tiny_detector.techniques
    assert isinstance(out[0], tuple) and out[1] == "ValueError: kaput"
    assert _pool._unpack(out[0], "fine.", ids) == tiny_detector.detect("fine.")
    with pytest.raises(ValueError, match="kaput"):
        _pool._run_batch(digest, blob, CODEC, ["bad"])


# -- the lazy pipeline -----------------------------------------------------------------
class _Counting:
    """An endless input that records how far it has been read."""

    def __init__(self) -> None:
        self.taken = 0

    def __iter__(self):
        for i in itertools.count():
            self.taken = i + 1
            yield f"Sentence {i} about corrupt thugs. Another sentence."


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_iter_detect_reads_a_bounded_window_ahead(tiny_detector, n_jobs):
    src = _Counting()
    stream = iter_detect(tiny_detector, src, n_jobs=n_jobs, batch_size=3, max_in_flight=2)
    first = list(itertools.islice(stream, 7))
    assert len(first) == 7
    # One window is 2 batches of 3 texts: the reader is never more than a window ahead.
    assert src.taken <= 7 + 6
    assert _dicts(first) == _dicts(tiny_detector.detect(f"Sentence {i} about corrupt thugs. Another sentence.")
                                   for i in range(7))
    stream.close()


def test_windows_are_bounded_by_characters_too(monkeypatch):
    monkeypatch.setattr(_pool, "_BATCH_CHARS", 10)
    monkeypatch.setattr(_pool, "_WINDOW_CHARS", 25)
    monkeypatch.setattr(_pool, "_TEXT_COST_CHARS", 0)
    items = ["x" * 8] * 10
    windows = list(_pool._windows(items, lambda t: t, batch_size=100, max_batches=100))
    assert [len(w) for w, _ in windows] == [4, 4, 2]
    assert [[len(b) for b in bs] for _, bs in windows] == [[2, 2], [2, 2], [2]]
    assert sum(len(w) for w, _ in windows) == len(items)


def test_pass_through_items_keep_their_place(tiny_detector):
    items = ["Corrupt thugs!", None, "Calm day.", None]
    for n_jobs in (1, 2):
        out = list(analyze_records(tiny_detector, items, text_of=lambda x: x, n_jobs=n_jobs, batch_size=1))
        assert [item for item, _ in out] == items
        assert [r is None for _, r in out] == [False, True, False, True]


def test_analyze_records_rejects_bad_batch_size(tiny_detector):
    with pytest.raises(ValueError, match="batch_size"):
        list(analyze_records(tiny_detector, ["a"], batch_size=0))


# -- reading inputs -----------------------------------------------------------------------
def _records(names, **kw):
    return list(iter_records([str(n) for n in names], **kw))


def test_text_files_directories_and_order(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "b.txt").write_text("B text.", encoding="utf-8")
    (d / "a.txt").write_text("A text.", encoding="utf-8")
    (d / "notes.md").write_text("ignored: not .txt", encoding="utf-8")
    (d / "c.jsonl").write_text('{"text": "C text.", "id": 7}\n', encoding="utf-8")
    (d / "z.txt").mkdir()  # a directory where a file was expected
    (tmp_path / "empty.txt").write_bytes(b"")
    recs = _records([d, tmp_path / "empty.txt", tmp_path / "missing.txt"])
    assert recs == [
        Document(str(d / "a.txt"), None, "A text."),
        Document(str(d / "b.txt"), None, "B text."),
        Document(str(d / "c.jsonl"), 1, "C text.", {"id": 7}),
        InputError(str(d / "z.txt"), None, "is a directory, expected a file"),
        Document(str(tmp_path / "empty.txt"), None, ""),
        InputError(str(tmp_path / "missing.txt"), None, "no such file"),
    ]
    assert [type(r) for r in _records([d], input_format="text")] == [Document, Document, InputError]


def test_empty_directory_is_an_error_not_silence(tmp_path):
    (recs,) = [_records([tmp_path])]
    assert len(recs) == 1 and "holds no" in recs[0].error


def test_jsonl_bad_records_each_become_an_error(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "a", "text": "Fine."}\n'
                     b"\n"
                     b"{not json\n"
                     b'{"id": "c"}\n'
                     b'{"text": 5}\n'
                     b'{"text": null}\n'
                     b'["text"]\n'
                     b'{"text": "caf\xe9"}\n'
                     + b"[" * 100_000 + b"\n"
                     + b"1" * 5000 + b"\n"
                     + b" \t\r\n"
                     b"\x1c\n"
                     b'{"text": "last", "source": "wire", "line": 9}')
    recs = _records([path])
    by_line = {r.line: r for r in recs}
    assert sorted(by_line) == [1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]  # blank lines 2 and 11 hold no record
    assert by_line[1] == Document(str(path), 1, "Fine.", {"id": "a"})
    assert "invalid JSON" in by_line[3].error
    assert "no 'text' field" in by_line[4].error and "--text-field" in by_line[4].error
    assert by_line[5].error == "field 'text' is a number, expected a string"
    assert by_line[6].error == "field 'text' is null, expected a string"
    assert by_line[7].error == "expected a JSON object, got an array"
    assert "not valid utf-8" in by_line[8].error and "--errors replace" in by_line[8].error
    assert by_line[9].error == "invalid JSON: nested too deeply"
    assert "invalid JSON" in by_line[10].error
    assert "invalid JSON" in by_line[12].error
    last = by_line[13]
    assert last.text == "last" and last.output_fields() == {"input_source": "wire", "input_line": 9, "line": 13}


def test_text_field_option_and_stdin(tmp_path):
    stdin = io.BytesIO(b'{"body": "Hello.", "id": 1}\n{"text": "no body"}\n')
    recs = list(iter_records(["-"], input_format="jsonl", text_field="body", stdin=stdin))
    assert recs[0] == Document("<stdin>", 1, "Hello.", {"id": 1})
    assert isinstance(recs[1], InputError) and "'body'" in recs[1].error
    # Text format reads all of stdin as one document.
    (rec,) = iter_records(["-"], stdin=io.BytesIO(b"One.\nTwo."))
    assert rec == Document("<stdin>", None, "One.\nTwo.")


def test_encoding_and_replacement(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"line one\ncaf\xe9 au lait\n")
    (err,) = _records([path])
    assert isinstance(err, InputError) and err.line == 2 and "byte 12" in err.error
    (doc,) = _records([path], encoding="latin-1")
    assert doc.text == "line one\ncafé au lait\n"
    (doc,) = _records([path], errors="replace")
    assert doc.text == "line one\ncaf\ufffd au lait\n"
    (err,) = _records([path], input_format="jsonl", encoding="utf-16")
    assert "ASCII-compatible" in err.error


def test_unreadable_file_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("text", encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_stream, "open", denied, raising=False)
    (err,) = _records([path])
    assert err == InputError(str(path), None, "cannot read (Permission denied)")


def test_summary_counts():
    det = Detector.load()
    s = Summary(started=0.0)
    s.add(det.detect("Calm day. Another calm day."))
    s.errors += 2
    line = s.line(now=4.0)
    assert line.startswith("1 documents, 2 sentences, ") and "2 errors in 4.0 s" in line


def test_check_encoding():
    assert _stream.check_encoding("LATIN-1") == "iso8859-1"
    with pytest.raises(ValueError, match="unknown encoding"):
        _stream.check_encoding("no-such-codec")


def test_paths_are_reported_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("x", encoding="utf-8")
    assert _records(["a.txt"])[0].source == "a.txt"
