"""Nothing lost under faults (issue 21): SIGTERM, SIGKILL, a killed worker, a resumed run.

Every test here runs ``propdetect analyze`` as a real child process, sends real
signals, and is bounded in time (each wait has a timeout). The input is long enough
(a few thousand short documents) that the run is still going when the signal lands.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propdetect import _stream
from propdetect.cli import EXIT_INPUT_ERROR, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc: Linux")

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "These traitors and thugs are destroying our great nation!",
    "The council meets on Tuesday at the town hall.",
    "Is this so-called expert really telling the truth?",
    "Patriots must stand up for our flag and our country.",
    "Rainfall was slightly above average this year.",
    "Corrupt criminals run this disgusting regime, and everybody knows it.",
]


N_DOCS = 1500


def write_docs(path: Path, n: int, sentences_per_doc: int = 16) -> Path:
    """``n`` JSON Lines documents, each a different mix of the sentences."""
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(SENTENCES[(i * 7 + k * (1 + i % 5)) % len(SENTENCES)] for k in range(sentences_per_doc))
            fh.write(json.dumps({"id": f"doc-{i}", "text": text}) + "\n")
    return path


def start(*argv: str, env: dict[str, str] | None = None, code: str | None = None) -> subprocess.Popen:
    """``python -m propdetect.cli ARGV`` (or ``python -c CODE ARGV``) in a new child."""
    cmd = [sys.executable, *(["-c", code] if code else ["-m", "propdetect.cli"]), *argv]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, **(env or {})})


def lines_of(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (its worker processes)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def whole_records(path: Path) -> list[dict]:
    """Every line of ``path``: each must end in a newline and be one JSON object."""
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends in a torn record: ...{data[-80:]!r}"
    return [json.loads(line) for line in data.splitlines()]


def analyze(src: Path, out: Path, *extra: str) -> list[str]:
    return ["analyze", "--format", "jsonl", "--jobs", "2", "--no-progress", "-o", str(out), *extra, str(src)]


def stop_midway(proc: subprocess.Popen, out: Path, sig: int, at_least: int = 20) -> tuple[int, str, list[int]]:
    """Once ``out`` holds some records and workers run, send ``sig``; the exit status,
    stderr, and the worker pids seen."""
    wait_for(lambda: (lines_of(out) >= at_least and len(children(proc.pid)) >= 2) or proc.poll() is not None,
             120, "the first records and the workers")
    assert proc.poll() is None, "the run ended before it could be stopped: give it more input"
    workers = children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)  # also: no worker holds the stderr pipe open
    return proc.returncode, err.decode(), workers


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    return write_docs(tmp_path_factory.mktemp("faults") / "docs.jsonl", N_DOCS)


@pytest.fixture(scope="module")
def full_run(docs, tmp_path_factory) -> list[dict]:
    """The records of an uninterrupted run over ``docs``."""
    out = tmp_path_factory.mktemp("full") / "out.jsonl"
    proc = start(*analyze(docs, out))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_OK, err.decode()
    return whole_records(out)


@pytest.mark.parametrize("start_method", ["auto", "loky"])
def test_sigterm_stops_like_ctrl_c_whole_records_no_worker_left(docs, tmp_path, start_method):
    """SIGTERM (a scheduler stopping the job): exit 143 with a message, an output of
    whole records, and no worker alive a few seconds later (before: exit -15, a torn
    46,029-character record, and both workers alive a minute later)."""
    out = tmp_path / "out.jsonl"
    proc = start(*analyze(docs, out), env={"PROPDETECT_START": start_method})
    status, err, workers = stop_midway(proc, out, signal.SIGTERM)
    assert status == EXIT_TERMINATED, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert workers
    wait_for(lambda: not any(map(alive, workers)), 10, f"workers {workers} to end")
    records = whole_records(out)
    assert 20 <= len(records) < N_DOCS and all("sentences" in r for r in records)


@pytest.mark.parametrize("start_method", ["auto", "loky"])
def test_workers_do_not_outlive_a_parent_killed_with_sigkill(docs, tmp_path, start_method):
    """SIGKILL of the CLI cannot be caught: its workers notice and end by themselves
    (forked ones are killed by the kernel, loky's watch their parent), and the
    output still holds only whole records (they are written whole)."""
    out = tmp_path / "out.jsonl"
    proc = start(*analyze(docs, out), env={"PROPDETECT_START": start_method})
    status, _, workers = stop_midway(proc, out, signal.SIGKILL)
    assert status == -signal.SIGKILL and workers
    wait_for(lambda: not any(map(alive, workers)), 10, f"workers {workers} to end after their parent")
    assert len(whole_records(out)) >= 20


def test_sigint_keeps_whole_records_too(docs, tmp_path):
    out = tmp_path / "out.jsonl"
    proc = start(*analyze(docs, out))
    status, err, workers = stop_midway(proc, out, signal.SIGINT)
    assert status == 130 and "interrupted" in err
    wait_for(lambda: not any(map(alive, workers)), 10, "workers to end")
    assert len(whole_records(out)) >= 20


def test_a_killed_worker_is_replaced_and_every_document_analysed(docs, tmp_path, full_run):
    """One worker killed mid-run, as the out-of-memory killer does: a new one takes its
    batches and the run ends with every document (before: exit 2 after 947 of 3,000)."""
    out = tmp_path / "out.jsonl"
    proc = start(*analyze(docs, out))
    wait_for(lambda: (lines_of(out) >= 20 and len(children(proc.pid)) >= 2) or proc.poll() is not None,
             120, "the first records and the workers")
    workers = children(proc.pid)
    assert proc.poll() is None and workers
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_OK, err.decode()
    assert "worker process died" in err.decode() and "Traceback" not in err.decode()
    assert sorted(map(json.dumps, whole_records(out))) == sorted(map(json.dumps, full_run))


_POISON = """
import os, signal, sys
from propdetect import Detector
def poisoned(real):
    def detect(self, text):
        if "POISON" in text:  # kills the worker that analyses it, every time
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, text)
    return detect
# the forked workers inherit them
Detector.detect, Detector._detect_packed = poisoned(Detector.detect), poisoned(Detector._detect_packed)
from propdetect.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_document_that_kills_every_worker_becomes_an_error_record(tmp_path):
    src = write_docs(tmp_path / "docs.jsonl", 400)
    lines = src.read_text(encoding="utf-8").splitlines()
    poisoned = json.loads(lines[123])
    poisoned["text"] = "POISON. " + poisoned["text"]
    lines[123] = json.dumps(poisoned)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = start(*analyze(src, out), code=_POISON)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_INPUT_ERROR, err.decode()
    records = whole_records(out)
    assert len(records) == 400
    errors = [r for r in records if "error" in r]
    assert [(r["line"], r["error"].split(":")[0]) for r in errors] == [(124, "analysis failed")]
    assert "worker process died 2 times" in errors[0]["error"] and "this is a bug" not in errors[0]["error"]


def test_resume_after_sigterm_gives_the_uninterrupted_run(docs, tmp_path, full_run):
    out = tmp_path / "out.jsonl"
    status, _, _ = stop_midway(start(*analyze(docs, out)), out, signal.SIGTERM, at_least=200)
    assert status == EXIT_TERMINATED
    first = len(whole_records(out))
    # without --resume the file is refused, untouched
    proc = start(*analyze(docs, out))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_USAGE and "--resume" in err.decode()
    assert len(whole_records(out)) == first
    proc = start(*analyze(docs, out, "--resume"))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_OK, err.decode()
    assert f"resuming: {first} records already in" in err.decode()
    assert f"{N_DOCS - first} documents" in err.decode()  # only the others were analysed
    assert sorted(map(json.dumps, whole_records(out))) == sorted(map(json.dumps, full_run))


def test_resume_drops_a_torn_last_record_and_refuses_another_model(tmp_path, full_run, docs):
    out = tmp_path / "out.jsonl"
    data = "".join(json.dumps(r) + "\n" for r in full_run[:100]).encode()
    out.write_bytes(data + json.dumps(full_run[100]).encode()[:500])  # a run killed inside a record
    proc = start(*analyze(docs, out, "--resume", "--threshold", "0.9"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_USAGE and "another model or other thresholds" in err.decode()
    proc = start(*analyze(docs, out, "--resume"))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_OK, err.decode()
    assert "a torn last record (500 bytes) dropped" in err.decode()
    assert sorted(map(json.dumps, whole_records(out))) == sorted(map(json.dumps, full_run))


def test_resume_and_force_need_the_right_options(tmp_path, capsys, docs):
    from propdetect.cli import main

    out = tmp_path / "out.txt"
    out.write_text("something\n")
    assert main(["analyze", "--resume", str(docs)]) == EXIT_USAGE
    assert "--resume goes with -o FILE" in capsys.readouterr().err
    assert main(["analyze", "--resume", "-o", str(out), str(docs)]) == EXIT_USAGE
    assert "--resume goes with --format jsonl" in capsys.readouterr().err
    small = write_docs(tmp_path / "small.jsonl", 2)
    assert main(["analyze", "-o", str(out), str(small)]) == EXIT_USAGE
    assert out.read_text() == "something\n"  # refused, untouched
    assert main(["analyze", "--force", "-o", str(out), "--format", "jsonl", str(small)]) == EXIT_OK
    assert len(whole_records(out)) == 2


def test_record_file_never_ends_inside_a_record(tmp_path, monkeypatch):
    """Records are handed to the system whole; a run stopped inside one leaves the
    records before it, and a long record already partly written is cut off."""
    path = tmp_path / "out.jsonl"
    out = _stream.RecordFile(str(path))
    out.write('{"a": 1}')
    out.write("\n")
    out.end_record()
    out.write('{"b": "')
    out.close()
    assert path.read_text() == '{"a": 1}\n'
    monkeypatch.setattr(_stream.RecordFile, "STREAM_BYTES", 100)
    out = _stream.RecordFile(str(path), append=True)
    for _ in range(50):
        out.write("x" * 30)  # a long record, written as it is made
    assert path.stat().st_size > 1000
    out.close()  # stopped inside it
    assert path.read_text() == '{"a": 1}\n'
