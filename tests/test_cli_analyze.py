"""``propdetect analyze``: streaming inputs, error records, exit status, no tracebacks."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdetect import _stream
from propdetect.cli import EXIT_INPUT_ERROR, EXIT_OK, EXIT_USAGE, main

LOUD = "These traitors and thugs are destroying our great nation!"
MODEL = {"model", "model_version", "model_digest"}  # every output record names the model
CALM = "The council meets on Tuesday at the town hall."


@pytest.fixture(scope="module")
def tiny_model(tiny_detector, tmp_path_factory) -> str:
    """The fixture model saved to a folder, for ``--model`` (fast and independent of the bundled one)."""
    return str(tiny_detector.save(tmp_path_factory.mktemp("model") / "tiny"))


def run(capsys, *argv: str, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_jsonl_fields_copied_one_record_per_document(tmp_path, capsys, tiny_model):
    src = tmp_path / "news.jsonl"
    src.write_text(json.dumps({"id": "a1", "lang": "en", "text": f"{LOUD}\n{CALM}"}) + "\n"
                   + json.dumps({"id": "a2", "text": CALM, "source": "wire"}) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", str(src))
    assert status == EXIT_OK
    first, second = jsonl(out)
    assert first["id"] == "a1" and first["lang"] == "en" and "text" not in first
    assert first["source"] == str(src) and first["line"] == 1
    assert [s["text"] for s in first["sentences"]] == [LOUD, CALM]
    assert second["id"] == "a2" and second["input_source"] == "wire" and second["line"] == 2
    assert "2 documents, 3 sentences" in err and "0 errors" in err


def test_text_field_option(tmp_path, capsys, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"body": LOUD}) + "\n", encoding="utf-8")
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl",
                         "--text-field", "body", str(src))
    assert status == EXIT_OK and jsonl(out)[0]["sentences"][0]["text"] == LOUD


def test_directory_input_in_name_order(tmp_path, capsys, tiny_model):
    for name, text in (("b.txt", CALM), ("a.txt", LOUD), ("skip.md", "not read")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", str(tmp_path))
    assert status == EXIT_OK
    assert [r["source"] for r in jsonl(out)] == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]


def test_stdin_text_and_jsonl(capsys, monkeypatch, tiny_model):
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl",
                         stdin=f"{LOUD}\n{CALM}\n".encode(), monkeypatch=monkeypatch)
    (rec,) = jsonl(out)
    assert status == EXIT_OK and rec["source"] == "<stdin>" and len(rec["sentences"]) == 2
    lines = (json.dumps({"id": 1, "text": LOUD}) + "\n" + json.dumps({"id": 2, "text": CALM}) + "\n").encode()
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", "--input-format", "jsonl",
                         "-", stdin=lines, monkeypatch=monkeypatch)
    assert status == EXIT_OK and [r["id"] for r in jsonl(out)] == [1, 2]


def test_jobs_two_gives_the_same_output(tmp_path, capsys, tiny_model, monkeypatch):
    from propdetect import _pool

    monkeypatch.setattr(_pool, "COLD_CHARS", 0)  # workers even for this small input
    monkeypatch.setattr(_pool, "WARM_CHARS", 0)
    monkeypatch.setattr(_pool, "FORK_CHARS", 0)
    monkeypatch.setattr(_pool, "OVERLAP_CHARS", 0)
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"{LOUD} {i}\n{CALM}"}) + "\n" for i in range(40))
                   + "not json\n", encoding="utf-8")
    outs = []
    for jobs in ("1", "2"):
        status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", "--jobs", jobs,
                             "--batch-size", "3", str(src))
        assert status == EXIT_INPUT_ERROR
        outs.append(out)
    assert outs[0] == outs[1]
    assert len(jsonl(outs[0])) == 41 and jsonl(outs[0])[-1]["line"] == 41


BAD_CASES = {
    "missing file": (lambda d: str(d / "nope.txt"), "no such file"),
    # A directory argument stands for its files; one of those that is a directory is the error.
    "directory as file": (lambda d: (d / "in" / "x.txt").mkdir(parents=True) or (str(d / "in"), str(d / "in" / "x.txt")),
                          "is a directory, expected a file"),
    "non-UTF-8": (lambda d: (d / "l1.txt").write_bytes(b"caf\xe9") and str(d / "l1.txt"), "not valid utf-8"),
    "invalid JSON": (lambda d: (d / "a.jsonl").write_bytes(b"{oops\n") and str(d / "a.jsonl"), "invalid JSON"),
    "missing text field": (lambda d: (d / "b.jsonl").write_bytes(b'{"id": 1}\n') and str(d / "b.jsonl"),
                           "no 'text' field"),
    "non-string text": (lambda d: (d / "c.jsonl").write_bytes(b'{"text": [1]}\n') and str(d / "c.jsonl"),
                        "expected a string"),
    "non-UTF-8 JSON line": (lambda d: (d / "e.jsonl").write_bytes(b'{"text": "\xff"}\n') and str(d / "e.jsonl"),
                            "not valid utf-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_bad_input_becomes_an_error_record_and_exit_1(case, fmt, tmp_path, capsys, tiny_model):
    make, expected = BAD_CASES[case]
    good = tmp_path / "good.txt"
    good.write_text(LOUD, encoding="utf-8")
    bad = make(tmp_path)
    bad, source = bad if isinstance(bad, tuple) else (bad, bad)
    status, out, err = run(capsys, "analyze", "--model", tiny_model, "--format", fmt, str(good), bad, str(good))
    assert status == EXIT_INPUT_ERROR
    assert expected in err and "Traceback" not in err
    assert "2 documents" in err and "1 errors" in err
    if fmt == "jsonl":
        before, error, after = jsonl(out)
        assert before["source"] == after["source"] == str(good)  # the run went on
        assert set(error) == {"source", "line", "error"} | MODEL
        assert error["source"] == source and expected in error["error"] and error["model"] == "tiny"
    else:
        assert out.count(f"== {good}") == 2 and "error: " in out and expected in out


def test_unreadable_file(tmp_path, capsys, monkeypatch, tiny_model):
    path = tmp_path / "locked.txt"
    path.write_text(LOUD, encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_stream, "open", denied, raising=False)
    status, out, err = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", str(path))
    assert status == EXIT_INPUT_ERROR
    (rec,) = jsonl(out)
    assert {k: rec[k] for k in rec if k not in MODEL} == {"source": str(path), "line": None,
                                                          "error": "cannot read (Permission denied)"}


def test_empty_file_is_an_empty_document(tmp_path, capsys, tiny_model):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", str(path))
    (rec,) = jsonl(out)
    assert status == EXIT_OK and {k: rec[k] for k in rec if k not in MODEL} == {"source": str(path), "sentences": [],
                                                                                "warnings": []}


def test_encoding_and_errors_replace(tmp_path, capsys, tiny_model):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café crème. Ça va.".encode("latin-1"))
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", "--encoding", "latin-1",
                         str(path))
    assert status == EXIT_OK and jsonl(out)[0]["sentences"][0]["text"] == "Café crème."
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", "--errors", "replace",
                         str(path))
    assert status == EXIT_OK and jsonl(out)[0]["sentences"][0]["text"].startswith("Caf\ufffd cr\ufffdme.")


@pytest.mark.parametrize("argv, message", [
    (["--encoding", "klingon"], "unknown encoding"),
    (["--jobs", "0"], "--jobs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--model", "/no/such/model"], "no such model folder"),
])
def test_usage_errors_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "a.txt").write_text(LOUD, encoding="utf-8")
    status, _, err = run(capsys, "analyze", *argv, str(tmp_path / "a.txt"))
    assert status == EXIT_USAGE and message in err


def test_output_into_a_directory_is_a_usage_error(tmp_path, capsys, tiny_model):
    (tmp_path / "a.txt").write_text(LOUD, encoding="utf-8")
    status, _, err = run(capsys, "analyze", "--model", tiny_model, "-o", str(tmp_path), str(tmp_path / "a.txt"))
    assert status == EXIT_USAGE and "cannot write" in err


def test_lone_surrogate_from_json_is_written_as_an_escape(tmp_path, capsys, tiny_model):
    src = tmp_path / "s.jsonl"
    src.write_bytes(b'{"text": "Odd \\ud800 char. Corrupt thugs!"}\n')
    out_path = tmp_path / "out.jsonl"
    status, _, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "jsonl", "-o", str(out_path), str(src))
    assert status == EXIT_OK
    (rec,) = jsonl(out_path.read_text(encoding="utf-8"))
    assert rec["sentences"][0]["text"] == "Odd \ud800 char."


def _subprocess(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "propdetect.cli", *argv], input=stdin,
                          capture_output=True, check=False, timeout=120)


def test_real_process_streams_with_two_jobs_and_no_traceback(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(json.dumps({"id": i, "text": LOUD if i % 2 else CALM}).encode() + b"\n"
                             for i in range(30)) + b"\xff\xfe garbage\n")
    proc = _subprocess("analyze", "--model", tiny_model, "--format", "jsonl", "--jobs", "2", str(src),
                       str(tmp_path / "missing.txt"))
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_INPUT_ERROR, err
    assert "Traceback" not in err and "missing.txt: no such file" in err
    recs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r.get("id") for r in recs[:30]] == list(range(30))
    assert [r["line"] for r in recs[30:]] == [31, None]
    assert "30 documents" in err and "2 errors" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_progress_bar_on_a_terminal(tmp_path, tiny_model):
    """On a terminal, stderr shows tqdm's bar (the oldest supported tqdm included: constraints/oldest.txt)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    src = tmp_path / "in.txt"
    src.write_text(LOUD, encoding="utf-8")
    master, slave = pty.openpty()
    # 24 rows of 100 columns: a new terminal is 0 x 0, where tqdm draws a bar 0 characters wide
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.run([sys.executable, "-m", "propdetect.cli", "analyze", "--model", tiny_model,
                               "--format", "jsonl", str(src), str(src)],
                              stdout=subprocess.PIPE, stderr=slave, check=False, timeout=120)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    assert proc.returncode == EXIT_OK, err
    assert len(proc.stdout.decode().splitlines()) == 2
    assert re.search(rb"\r2 docs \[", err), err  # the bar's last state: two documents


# -- fuzz: random bytes through every reader ------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), kind=st.sampled_from(["txt", "jsonl", "stdin-jsonl"]),
       errors=st.sampled_from(["strict", "replace"]))
def test_fuzz_readers_random_bytes(data, kind, errors, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    if kind == "stdin-jsonl":
        recs = list(_stream.iter_records(["-"], input_format="jsonl", errors=errors, stdin=io.BytesIO(data)))
    else:
        path = folder / f"input.{kind}"
        path.write_bytes(data)
        recs = list(_stream.iter_records([str(path)], errors=errors))
    assert all(isinstance(r, (_stream.Document, _stream.InputError)) for r in recs)
    if kind == "txt":
        assert len(recs) == 1  # a text file is one document or one error, always
    else:
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        records_expected = [i for i, raw in enumerate(lines, 1) if raw.strip(b" \t\r\n")]
        assert [r.line for r in recs] == records_expected  # one record per non-blank line, in order


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), fmt=st.sampled_from(["jsonl", "text"]))
def test_fuzz_cli_random_bytes(data, fmt, tmp_path_factory, capsys, tiny_model):
    folder = tmp_path_factory.mktemp("fuzzcli")
    files = []
    for name in ("a.txt", "b.jsonl"):
        (folder / name).write_bytes(data)
        files.append(str(folder / name))
    status = main(["analyze", "--model", tiny_model, "--format", fmt, *files])
    out, err = capsys.readouterr()
    assert status in (EXIT_OK, EXIT_INPUT_ERROR)
    assert "Traceback" not in err
    n_errors = int(err.rsplit(" errors in ", 1)[0].rsplit(", ", 1)[1])
    assert (status == EXIT_INPUT_ERROR) == (n_errors > 0)
    if fmt == "jsonl":
        recs = [json.loads(line) for line in out.splitlines()]
        assert recs[0]["source"] == files[0]  # the text file: a document or an error record
        assert all(("sentences" in r) != ("error" in r) for r in recs)
        assert sum("error" in r for r in recs) == n_errors


def test_a_huge_document_is_detected_as_it_is_written_same_bytes(tmp_path, capsys, monkeypatch, tiny_model):
    """A document over RENDER_CHARS, detected in this process, is scored a block at a
    time while its record is written (the analysis is never held whole): the same
    bytes and counts as the ordinary way."""
    from propdetect import Detector, _detector, _pool, _report

    long_text = "\n".join(f"{LOUD} Day {i} of the council. {CALM}" for i in range(_detector._CHUNK + 40))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                           for i, t in enumerate([CALM, long_text, LOUD])), encoding="utf-8")
    args = ("analyze", "--model", tiny_model, "--format", "jsonl", str(src))
    status, whole, whole_err = run(capsys, *args)
    assert status == EXIT_OK

    lazy_calls: list[int] = []
    real = Detector._detect_lazily

    def spy(self, text):
        lazy_calls.append(len(text))
        return real(self, text)

    monkeypatch.setattr(Detector, "_detect_lazily", spy)
    monkeypatch.setattr(_pool, "RENDER_CHARS", 1000)
    monkeypatch.setattr(_report, "_SENTENCES_PER_PIECE", 7)
    status, streamed, streamed_err = run(capsys, *args)
    assert status == EXIT_OK
    assert lazy_calls == [len(long_text)]  # only the long one, once
    assert streamed == whole  # same records
    def counts(err):
        return re.sub(r" in [0-9.]+ s.*", "", err)  # the time and rate differ
    assert counts(streamed_err) == counts(whole_err) and "documents" in whole_err  # same summary counts
    n = len(Detector.load(tiny_model).detect(long_text).sentences)
    assert n > _detector._CHUNK and jsonl(streamed)[1]["sentences"][-1]["end"] == len(long_text)


def test_streamed_sentences_are_made_block_by_block(tiny_model):
    from propdetect import Detector, _detector, _report

    det = Detector.load(tiny_model)
    text = "\n".join(f"{LOUD} Day {i}." for i in range(3 * _detector._CHUNK))
    scored: list[int] = []
    real = det._iter_blocks

    def blocks(sents):
        for block in real(sents):
            scored.append(len(block[0]))
            yield block

    det._iter_blocks = blocks  # type: ignore[method-assign]
    streamed = _report.stream_jsonl_sentences(text, det)
    it = streamed.sentences
    next(it)
    assert scored == [_detector._CHUNK] and streamed.n_sentences == 1  # one block, not the document
    rest = sum(1 for _ in it)
    assert streamed.n_sentences == rest + 1 == len(det.detect(text).sentences)
