"""The worker pool (propdetect._pool): same results as one process, in order; the
small-input policy; no barrier between windows; no import circle."""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import pytest

import propdetect
from propdetect import _pool
from propdetect._detector import _CHUNK, CODEC
from propdetect._report import iter_jsonl_record, jsonl_record
from propdetect._stream import analyze_records

PKG = Path(propdetect.__file__).parent

# > _CHUNK sentences: the detector scores this one in several blocks.
LONG = "\n".join(f"Corrupt thugs number {i} ruin us! The council met on day {i}." for i in range(_CHUNK))
TEXTS = [
    "These traitors and thugs are destroying our great nation! The council meets on Tuesday.",
    "",
    "Ok.",  # too short to tell: a warning
    LONG,
    "Emoji 🇺🇦 and zero\u200bwidth and RTL שלום. Corrupt criminals!\r\nCRLF line.",
    "Patriots must stand up for our flag. " * 40,
]


def _dicts(analyses):
    return [a.to_dict() for a in analyses]


def test_workers_give_what_detect_gives_in_order_long_documents_too(tiny_detector, force_workers):
    texts = TEXTS * 2
    expected = [tiny_detector.detect(t) for t in texts]
    assert len(expected[3].sentences) > _CHUNK and expected[2].warnings
    got = tiny_detector.detect_many(texts, n_jobs=2, batch_size=2)
    assert got == expected and _dicts(got) == _dicts(expected)
    lazy = list(tiny_detector.iter_detect(iter(texts), n_jobs=2, batch_size=1))
    assert lazy == expected
    # offsets index the caller's text
    assert all(t[s.start:s.end] == s.text for t, a in zip(texts, got) for s in a.sentences)


def test_packed_results_round_trip_without_an_object_per_sentence():
    import pickle
    from array import array

    from propdetect._results import Analysis, Sentence

    text = "Thugs! Calm day. Traitors, all of them. Quiet."
    sc = {"doubt": 0.1, "name_calling": 0.9}
    sents = (
        Sentence("Thugs!", 0, 6, ("name_calling",), sc, {"name_calling": [(0, 5)]}, 0.9),
        Sentence("Calm day.", 7, 16, (), sc, {}, 0.1),
        # flagged, no evidence; then two techniques, two spans for one of them
        Sentence("Traitors, all of them.", 17, 39, ("doubt",), sc, {}, 0.6),
        Sentence("Quiet.", 40, 46, ("name_calling", "doubt"), sc,
                 {"name_calling": [(40, 45), (40, 42)], "doubt": [(41, 43)]}, 0.7),
    )
    analysis = Analysis(sents, ("a warning",))
    packed = pickle.loads(pickle.dumps(_pool._pack(analysis), protocol=5))
    rows, techniques, keys, ends, spans = packed[3]
    assert rows.tolist() == [0, 2, 3] and isinstance(spans, array) and len(spans) == 2 * 4
    back = _pool._unpack(packed, text, ("doubt", "name_calling"))
    assert back == analysis and back.to_dict() == analysis.to_dict()
    assert back.sentences[3].evidence["name_calling"] == ((40, 45), (40, 42))
    calm = Analysis((Sentence("Calm day.", 7, 16, (), sc, {}, None),))
    assert _pool._unpack(_pool._pack(calm), text, ("doubt", "name_calling")) == calm
    assert _pool._unpack(_pool._pack(Analysis((), ("w",))), "", ()) == Analysis((), ("w",))


def test_bundled_model_through_workers_matches_detect(force_workers):
    det = propdetect.Detector.load()
    texts = TEXTS[:3] + TEXTS[4:]
    assert _dicts(det.detect_many(texts, n_jobs=2, batch_size=2)) == _dicts(det.detect(t) for t in texts)


def test_errors_are_captured_per_text_in_order(tiny_detector, force_workers):
    # The workers are other processes: a patched method would not reach them, so
    # the failing text goes through a model object that fails by itself.
    model = _Failing(tiny_detector)
    items = ["fine.", "bad", None, "also fine."]
    out = list(_pool.imap(model, items, _FAILING_CODEC, text_of=lambda x: x, n_jobs=2, batch_size=1,
                          capture_errors=True))
    assert [i for i, _ in out] == items
    assert out[1][1] == "ValueError: kaput" and out[2][1] is None
    assert out[0][1] == tiny_detector.detect("fine.") and out[3][1] == tiny_detector.detect("also fine.")
    with pytest.raises(ValueError, match="kaput"):
        list(_pool.imap(model, items, _FAILING_CODEC, text_of=lambda x: x, n_jobs=2, batch_size=1))


class _Failing:
    """A model that fails on the text "bad" (picklable, rebuilt by _decode_failing)."""

    def __init__(self, det):
        self.det = det
        self.techniques = det.techniques

    def detect(self, text):
        if text == "bad":
            raise ValueError("kaput")
        return self.det.detect(text)


def _encode_failing(model):
    return CODEC.encode(model.det)


def _decode_failing(blob):
    return _Failing(CODEC.decode(blob))


_FAILING_CODEC = _pool.ModelCodec(_encode_failing, _decode_failing)


def test_small_input_with_two_jobs_starts_no_pool(tiny_detector, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a small input")

    monkeypatch.setattr(_pool, "_start_call", no_pool)
    texts = TEXTS[:3]
    assert sum(map(len, texts)) < _pool.WARM_CHARS
    for warm in (False, True):
        monkeypatch.setattr(_pool, "pool_is_warm", lambda workers, warm=warm: warm)
        assert tiny_detector.detect_many(texts, n_jobs=2) == [tiny_detector.detect(t) for t in texts]
        assert list(tiny_detector.iter_detect(iter(texts), n_jobs=2)) == [tiny_detector.detect(t) for t in texts]


def test_input_over_the_budget_goes_to_the_workers(tiny_detector, monkeypatch):
    calls = []
    real = _pool._start_call

    def counting(n_jobs, tasks):
        calls.append(n_jobs)
        return real(n_jobs, tasks)

    monkeypatch.setattr(_pool, "_start_call", counting)
    monkeypatch.setattr(_pool, "pool_is_warm", lambda workers: False)
    monkeypatch.setattr(_pool, "START_METHOD", "loky")  # loky's cold start (forking: below)
    monkeypatch.setattr(_pool, "COLD_CHARS", 100)
    texts = [TEXTS[0]] * 3  # 3 x 86 characters: over a budget of 100
    assert tiny_detector.detect_many(texts, n_jobs=2) == [tiny_detector.detect(t) for t in texts]
    assert calls == [2]


def test_one_joblib_call_at_a_time_and_a_bounded_read_ahead(tiny_detector, force_workers, monkeypatch):
    """Windows follow each other: a call ends before the next starts (overlapping
    joblib calls share the backend's state), and the input is read at most a
    window ahead of the results."""
    active: list[int] = []
    calls: list[int] = []
    real = _pool._start_call

    def tracking(n_jobs, tasks):
        assert not active, "a joblib call started while another was in flight"
        gen = real(n_jobs, tasks)
        active.append(1)
        calls.append(1)

        def wrapped():
            try:
                yield from gen
            finally:
                active.clear()
        return wrapped()

    monkeypatch.setattr(_pool, "_start_call", tracking)
    taken = []

    def texts():
        for i in itertools.count():
            taken.append(i)
            yield f"Sentence {i} about corrupt thugs."

    stream = tiny_detector.iter_detect(texts(), n_jobs=2, batch_size=2)
    first = list(itertools.islice(stream, 300))
    assert len(calls) >= 2  # several windows went by
    assert len(taken) <= 300 + 32 * 2 * 2  # at most one window (32 batches per worker) ahead
    assert first == [tiny_detector.detect(f"Sentence {i} about corrupt thugs.") for i in range(300)]
    stream.close()


def test_pool_imports_neither_detector_nor_stream():
    """_pool sits below both: it may import _results, nothing above it."""
    def imported(module: str) -> set[str]:
        tree = ast.parse((PKG / f"{module}.py").read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names.add(node.module or "")
        return names

    assert imported("_pool") <= {"_results"}
    assert "_stream" not in imported("_detector")


def test_json_record_in_pieces_is_the_record(tiny_detector, monkeypatch):
    from propdetect import _report

    monkeypatch.setattr(_report, "_SENTENCES_PER_PIECE", 3)
    a = tiny_detector.detect("\n".join(f"Corrupt thugs {i}! Calm day." for i in range(10)) + "\nOk.")
    extra = {"id": 7, "input_sentences": ["\0propdetect:sentences\0"], "note": "\udc80 lone"}
    model = {"model": "tiny", "model_version": None, "model_digest": "sha256:0"}
    pieces = list(iter_jsonl_record("doc.txt", a, extra, model))
    assert len(pieces) > 3
    rec = {**extra, "source": "doc.txt",
           "sentences": [{**s.to_dict(), "scores": {k: round(v, 6) for k, v in s.scores.items()}}
                         for s in a.sentences],
           "warnings": list(a.warnings), **model}
    assert "".join(pieces) == jsonl_record("doc.txt", a, extra, model) == json.dumps(rec, ensure_ascii=False)
    empty = propdetect.Analysis()
    assert jsonl_record("e", empty) == json.dumps({"source": "e", "sentences": [], "warnings": []})


def test_analyze_records_with_workers_keeps_pass_through_items(tiny_detector, force_workers):
    items = ["Corrupt thugs!", None, LONG, None, ""]
    out = list(analyze_records(tiny_detector, items, text_of=lambda x: x, n_jobs=2, batch_size=1,
                               max_in_flight=2))
    assert [i for i, _ in out] == items
    assert [r for _, r in out] == [None if t is None else tiny_detector.detect(t) for t in items]


def test_a_pool_started_by_the_call_overlaps_with_work_here(tiny_detector, monkeypatch):
    """Cold pool: the first texts are detected here while the workers start; the
    workers get only the rest; the results are the same, in order."""
    sent: list[str] = []
    real = _pool._start_call

    def recording(n_jobs, tasks):
        tasks = list(tasks)
        sent.extend(t for task in tasks for t in task[1][3])  # delayed: (func, args, kwargs)
        return real(n_jobs, tasks)

    monkeypatch.setattr(_pool, "_start_call", recording)
    monkeypatch.setattr(_pool, "pool_is_warm", lambda workers: False)
    monkeypatch.setattr(_pool, "START_METHOD", "loky")  # forked workers need no overlap
    monkeypatch.setattr(_pool, "COLD_CHARS", 300)
    monkeypatch.setattr(_pool, "OVERLAP_CHARS", 150)
    texts = [f"Corrupt thugs number {i} ruin us! Calm day {i}." for i in range(20)]  # ~45 characters each
    assert tiny_detector.detect_many(texts, n_jobs=2, batch_size=3) == [tiny_detector.detect(t) for t in texts]
    assert sent == texts[4:]  # 4 x 45 > 150: the first 4 stayed here


def test_local_workers_get_the_model_as_a_file_and_check_its_bytes(tiny_detector, monkeypatch, tmp_path):
    from joblib import parallel_backend

    assert _pool._ships_by_file()  # joblib's default backend: local processes
    with parallel_backend("threading"):
        assert not _pool._ships_by_file()  # threads (and Dask) get the array itself
    digest, blob = _pool.model_payload(tiny_detector, CODEC)
    path = _pool._payload_file(digest, blob)
    assert _pool._payload_file(digest, blob) == path  # written once per model
    assert Path(path).read_bytes() == blob.tobytes()
    # a worker that has not seen the model decodes it from the file
    monkeypatch.setattr(_pool, "_models", {})
    det = _pool.worker_model(digest, path, CODEC)
    text = "They are traitors and liars. The bridge opens on Monday."
    assert det.detect(text) == tiny_detector.detect(text)
    # a file that does not hold the model's bytes is refused, not decoded
    monkeypatch.setattr(_pool, "_models", {})
    other = tmp_path / "other.bin"
    raw = blob.tobytes()
    other.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))  # one byte changed
    with pytest.raises(RuntimeError, match="does not hold model"):
        _pool.worker_model(digest, str(other), CODEC)


def _where(text, analysis):
    """A render function that tells where it ran (pickled by reference to workers)."""
    import os

    return os.getpid(), len(text), len(analysis.sentences)


def test_render_runs_where_the_analysis_is_made_long_texts_here(tiny_detector, force_workers, monkeypatch):
    import os

    monkeypatch.setattr(_pool, "RENDER_CHARS", 1000)
    texts = TEXTS * 2
    assert any(len(t) > 1000 for t in texts) and any(len(t) <= 1000 for t in texts)
    out = [r for _, r in _pool.imap(tiny_detector, texts, CODEC, n_jobs=2, batch_size=2, render=_where)]
    assert [(n, k) for _, n, k in out] == [(len(t), len(tiny_detector.detect(t).sentences)) for t in texts]
    # Short texts are rendered by the workers; a long one's analysis comes back
    # packed and is rendered here (where it can be written lazily).
    assert [pid == os.getpid() for pid, _, _ in out] == [len(t) > 1000 for t in texts]
    serial = [r for _, r in _pool.imap(tiny_detector, texts, CODEC, n_jobs=1, render=_where)]
    assert [r[1:] for r in serial] == [r[1:] for r in out] and {r[0] for r in serial} == {os.getpid()}


def test_rendered_jsonl_is_the_record_eager_and_lazy(tiny_detector, monkeypatch):
    from propdetect import _report

    a = tiny_detector.detect("\n".join(f"Corrupt thugs {i}! Calm day." for i in range(10)))
    extra, model = {"id": 1}, {"model": "tiny"}
    want = jsonl_record("doc.txt", a, extra, model)
    eager = _report.jsonl_sentences("", a)
    assert eager.body is not None and not eager.sentences
    assert (eager.n_sentences, eager.n_flagged) == (len(a.sentences), len(a.flagged)) and eager.n_flagged
    monkeypatch.setattr(_report, "_EAGER_SENTENCES", 4)
    monkeypatch.setattr(_report, "_SENTENCES_PER_PIECE", 3)
    lazy = _report.jsonl_sentences("", a)
    assert lazy.body is None and len(lazy.sentences) == len(a.sentences)
    assert jsonl_record("doc.txt", eager, extra, model) == jsonl_record("doc.txt", lazy, extra, model) == want
    assert jsonl_record("e", _report.jsonl_sentences("", propdetect.Analysis())) == jsonl_record(
        "e", propdetect.Analysis())


def test_batches_are_cut_by_length_and_longer_off_local_backends(monkeypatch):
    import joblib

    items = ["x" * 1000] * 300
    monkeypatch.setattr(_pool, "_TEXT_COST_CHARS", 0)
    windows = list(_pool._windows(items, lambda t: t, None, None, 10_000))
    assert [len(b) for b in windows[0][1]] == [10] * 30  # no count limit without batch_size
    windows = list(_pool._windows(items, lambda t: t, 4, None, 10_000))
    assert {len(b) for b in windows[0][1]} == {4}
    # each text also costs a fixed amount: short texts make shorter batches
    monkeypatch.setattr(_pool, "_TEXT_COST_CHARS", 1000)
    windows = list(_pool._windows(items, lambda t: t, None, None, 10_000))
    assert [len(b) for b in windows[0][1]] == [5] * 60
    assert _pool._batch_chars() == _pool._BATCH_CHARS  # loky
    with joblib.parallel_backend("threading"):
        assert _pool._batch_chars() == _pool._BATCH_CHARS
    # Dask (tests/test_cluster.py checks the real backend): any other backend
    with joblib.parallel_backend(_OtherBackend()):
        assert _pool._batch_chars() == _pool._REMOTE_BATCH_CHARS
        # a known length: tasks_per_worker tasks each, within [local, remote]
        per = _pool._REMOTE_TASKS_PER_WORKER
        assert _pool._batch_chars(per * 2 * 50_000, 2) == 50_000
        assert _pool._batch_chars(10**9, 2) == _pool._REMOTE_BATCH_CHARS
        assert _pool._batch_chars(1_000, 2) == _pool._BATCH_CHARS


class _OtherBackend(__import__("joblib").parallel.ThreadingBackend):
    """A backend that is neither local processes nor threads, by name."""


_MALLOC_CHURN = """
import resource, sys
import numpy as np
sys.path.insert(0, {root!r})
from propdetect import _pool
tuned = _pool._roomier_malloc() if sys.argv[1] == "tuned" else False
def churn():
    for _ in range(300):
        a = np.ones(300_000)  # 2.4 MB, freed at once: what detection does per article
        b = np.ones(60_000)
        del a, b
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's malloc")
def test_workers_undo_a_low_malloc_trim_threshold():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536: without the fix every freed
    array is given back to the system and faulted in again."""
    import os
    import subprocess
    import sys

    code = _MALLOC_CHURN.format(root=str(PKG.parent))
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    runs = {}
    for mode in ("plain", "tuned"):
        out = subprocess.run([sys.executable, "-c", code, mode], env=env, capture_output=True, text=True,
                             check=True).stdout.split()
        runs[mode] = (out[0] == "True", int(out[1]))
    if not runs["tuned"][0]:
        pytest.skip("no glibc mallopt here")
    assert runs["plain"][1] > 100_000  # ~590 pages a round, faulted in 300 times
    assert runs["tuned"][1] < runs["plain"][1] / 20
    # without a low threshold in the environment nothing is changed
    env.pop("MALLOC_TRIM_THRESHOLD_")
    out = subprocess.run([sys.executable, "-c", code, "tuned"], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "False"


_FORK_SCRIPT = """
import os, sys, threading
sys.path.insert(0, {root!r})
from propdetect import Detector, _pool
_pool.COLD_CHARS = _pool.WARM_CHARS = _pool.FORK_CHARS = _pool.OVERLAP_CHARS = 0
det = Detector.load()
texts = {texts!r}
got = det.detect_many(texts, n_jobs=2, batch_size=1)
assert [a.to_dict() for a in got] == [det.detect(t).to_dict() for t in texts]
forked = _pool._fork is not None
pids = set(_pool._fork_pids())
assert len(pids) == (2 if forked else 0)
if forked:
    # an iter_detect stopped early stops the forked pool (its other tasks would run on)
    stream = det.iter_detect(iter(texts * 50), n_jobs=2, batch_size=1)
    next(stream)
    assert _pool._fork is not None
    stream.close()
print(forked, os.getpid() not in pids, _pool._fork is None)
"""


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forked workers are Linux-only")
@pytest.mark.parametrize("start", ["auto", "loky"])
def test_forked_workers_give_what_detect_gives(start):
    """In a fresh process (no other threads) on Linux the workers are forked from it;
    PROPDETECT_START=loky gives loky's; the results are detect's either way."""
    import os
    import subprocess
    import sys

    code = _FORK_SCRIPT.format(root=str(PKG.parent), texts=TEXTS[:3] + TEXTS[4:])
    env = {**os.environ, "PROPDETECT_START": start}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    forked, other_pids, stopped = out.stdout.split()
    assert forked == ("True" if start == "auto" else "False")
    if start == "auto":
        assert other_pids == "True" and stopped == "True"
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr


_DYING_WORKER_SCRIPT = """
import os, signal, sys, warnings
sys.path.insert(0, {root!r})
from propdetect import Detector, _pool
_pool.COLD_CHARS = _pool.WARM_CHARS = _pool.FORK_CHARS = _pool.OVERLAP_CHARS = 0
det = Detector.load()
texts = ["A calm report on the weather. " * 20, "Another calm line. " * 20] * 1000
expected = [det.detect(t) for t in texts[:2]]
stream = det.iter_detect(iter(texts), n_jobs=2, batch_size=1)
got = [next(stream)]
if _pool._fork is not None:
    pids = _pool._fork_pids()
else:
    from joblib.externals.loky import reusable_executor as rex
    pids = list(rex._executor._processes)
os.kill(pids[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    got.extend(stream)
print("complete", len(got) == len(texts) and all(a == expected[i % 2] for i, a in enumerate(got)))
print("warned", any(w.category is _pool.WorkerLostWarning for w in caught))
# the next call works too
assert det.detect_many(texts[:4], n_jobs=2, batch_size=1) == [det.detect(t) for t in texts[:4]]
print("again", _pool._fork is not None and pids[0] not in _pool._fork_pids())
"""


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="SIGKILL, forked workers")
@pytest.mark.parametrize("start", ["auto", "loky"])
def test_a_worker_that_dies_is_replaced_and_its_work_sent_again(start):
    """A worker killed mid-task (say by the out-of-memory killer): new workers take
    over and the lost batches are sent again; every result comes, equal to detect's
    (multiprocessing.Pool would wait for the lost result for ever; before issue 21 the
    call raised BrokenProcessPool and the rest of the input was never analysed)."""
    import os
    import subprocess
    import sys

    code = _DYING_WORKER_SCRIPT.format(root=str(PKG.parent))
    env = {**os.environ, "PROPDETECT_START": start}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["complete", "True", "warned", "True", "again", str(start == "auto")]
    assert "Traceback" not in out.stderr


_POISON_SCRIPT = """
import os, signal, sys, warnings
sys.path.insert(0, {root!r})
from propdetect import Detector, _pool
from propdetect._detector import CODEC
_pool.COLD_CHARS = _pool.WARM_CHARS = _pool.FORK_CHARS = _pool.OVERLAP_CHARS = 0
warnings.simplefilter("ignore", _pool.WorkerLostWarning)
det = Detector.load()
real = Detector._detect_packed
def packed(self, text):
    if "POISON" in text:  # this text kills the worker that analyses it, every time
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, text)
Detector._detect_packed = packed  # forked workers inherit it
texts = ["A calm report on the weather. " * 20, "Another calm line. " * 20] * 60
texts[57] = "POISON " + texts[57]
got = list(_pool.imap(det, texts, CODEC, n_jobs=2, batch_size=4, capture_errors=True))
print("lost", [i for i, (_, r) in enumerate(got) if isinstance(r, _pool.WorkerLost)])
print("others", all(r == det.detect(t) for i, (t, r) in enumerate(got) if i != 57))
try:
    det.detect_many(texts, n_jobs=2, batch_size=4)
except Exception as exc:
    print(type(exc).__name__, "|", exc)
"""


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="SIGKILL, forked workers")
def test_a_text_that_kills_every_worker_is_given_up_and_the_rest_analysed():
    """A text that kills its worker whenever it is analysed: after the retries it is
    tried alone, twice, then given up (an error message in its place, or with
    detect_many an error naming it); every other text is analysed."""
    import subprocess
    import sys

    code = _POISON_SCRIPT.format(root=str(PKG.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[:2] == ["lost [57]", "others True"]
    assert lines[2].startswith("BrokenProcessPool | a worker process died 2 times while analysing this text alone")


def test_no_fork_with_other_threads_a_chosen_backend_or_off_linux(monkeypatch):
    import threading

    import joblib

    from propdetect import _encoder

    monkeypatch.setattr(_pool, "START_METHOD", "auto")
    monkeypatch.setattr(_pool, "_fork", None)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(_pool.sys, "platform", "linux")
    monkeypatch.setattr(_encoder, "sessions_started", False)
    assert _pool._forks()
    monkeypatch.setattr(_encoder, "sessions_started", True)
    assert not _pool._forks()  # onnxruntime's native threads (the accurate model) could hold a lock
    monkeypatch.setattr(_encoder, "sessions_started", False)
    with joblib.parallel_backend("loky"):
        assert not _pool._forks()  # somebody chose the backend: theirs it is
    with joblib.parallel_config(n_jobs=2):
        assert _pool._forks()  # a block that names no backend
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not _pool._forks()  # another thread could hold a lock the child needs
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(_pool.sys, "platform", "darwin")
    assert not _pool._forks()
    monkeypatch.setattr(_pool.sys, "platform", "linux")
    monkeypatch.setattr(_pool, "START_METHOD", "loky")
    assert not _pool._forks()


def test_start_policy_warm_forked_and_cold(monkeypatch):
    """Workers up: a small budget; forked workers (cheap to start): a middling one and
    no overlap; loky's cold start: the large budget, and this process works meanwhile."""
    monkeypatch.setattr(_pool, "pool_is_warm", lambda workers: True)
    assert _pool._start_policy(2) == (_pool.WARM_CHARS, False)
    monkeypatch.setattr(_pool, "pool_is_warm", lambda workers: False)
    monkeypatch.setattr(_pool, "_forks", lambda: True)
    assert _pool._start_policy(2) == (_pool.FORK_CHARS, False)
    monkeypatch.setattr(_pool, "_forks", lambda: False)
    assert _pool._start_policy(2) == (_pool.COLD_CHARS, True)
    assert _pool.WARM_CHARS < _pool.FORK_CHARS < _pool.COLD_CHARS


def test_small_known_inputs_give_every_worker_batches():
    # local backend (loky): 2 batches a worker at least, not under _MIN_BATCH_CHARS
    assert _pool._batch_chars(None, 2) == _pool._BATCH_CHARS
    assert _pool._batch_chars(10**7, 2) == _pool._BATCH_CHARS
    assert _pool._batch_chars(32_000, 2) == 8_000
    assert _pool._batch_chars(1_000, 2) == _pool._MIN_BATCH_CHARS


def test_command_line_and_training_workers_undo_a_low_malloc_trim_threshold(monkeypatch, tiny_docs):
    """The CLI's process and the training workers call _roomier_malloc (a no-op unless
    the environment set a low MALLOC_TRIM_THRESHOLD_, e.g. after a Dask LocalCluster)."""
    from propdetect import cli
    from propdetect._train import fit_detector
    from tests.conftest import TINY_CONFIG

    calls = []
    monkeypatch.setattr(_pool, "_roomier_malloc", lambda: calls.append(1) or False)
    assert cli.main(["techniques"]) == 0
    assert calls == [1]
    fit_detector(tiny_docs, TINY_CONFIG, n_jobs=1)  # heads and token fits in this process
    assert len(calls) > 1


def test_no_import_circle_in_the_package():
    """No module of the package imports, even lazily inside a function or for type
    checking only, a module that leads back to it."""
    graph: dict[str, set[str]] = {}
    for path in PKG.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    names.add(node.module.split(".")[0])
                else:  # from . import x
                    names.update(a.name for a in node.names)
        graph[path.stem] = {n for n in names if (PKG / f"{n}.py").exists()} - {path.stem}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))
        return False

    # __init__ re-exports everything; what is imported from it is the package as a whole
    circles = sorted((a, b) for a, bs in graph.items() for b in bs if a != "__init__" and reaches(b, a))
    assert not circles, f"import circles through: {circles}"
    assert len(graph) > 20  # the package was read


def test_packed_detection_is_what_detect_gives_packed(tiny_detector):
    """Workers call Detector._detect_packed: no Sentence objects, the same packed
    result as _pack(detect(text)), for every kind of text (multi-block too)."""
    import pickle

    det = propdetect.Detector.load()
    for model in (tiny_detector, det):
        for text in TEXTS:
            want = model.detect(text)
            packed = model._detect_packed(text)
            assert pickle.dumps(packed) == pickle.dumps(_pool._pack(want))
            assert _pool._unpack(packed, text, model.techniques) == want


_LEAKY = '''
import os, sys, time
from joblib import Parallel, delayed

def task(i):
    import numpy as np
    time.sleep(0.4)
    # kept in a module the worker imported (a global of this script would travel by value)
    sys.modules["os"].__dict__.setdefault("_kept", []).append(np.ones(20_000_000))  # 160 MB
    return os.getpid()

pids = Parallel(n_jobs=2, batch_size=1)(delayed(task)(i) for i in range(12))
print(len(set(pids)))
'''


def test_loky_replacing_a_grown_worker_does_not_hang_the_suite(tmp_path):
    """loky replaces a worker that grew by 300 MB after its first task, and warns from
    its manager thread while jobs are queued; under this suite's warnings-as-errors,
    without the ignore entry in pyproject.toml, the warning kills that thread and the
    call never returns. Run with the suite's own filters, in a child process."""
    import subprocess
    import sys
    import tomllib

    from tests.conftest import ROOT

    filters = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["filterwarnings"]
    script = tmp_path / "leaky.py"
    script.write_text(_LEAKY)
    flags = [a for f in filters for a in ("-W", f)]
    out = subprocess.run([sys.executable, *flags, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) > 2  # workers were replaced: the guard did fire
