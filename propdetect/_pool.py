"""Worker processes: model shipping, a per-worker model cache, batches and bounded dispatch.

This module sits below :class:`~propdetect.Detector` and knows nothing of it: a
*model* is any object with ``.detect(text) -> Analysis``, shipped to workers by a
:class:`ModelCodec` (``encode``: model -> one ``uint8`` array; ``decode``: a
picklable top-level function that rebuilds the model from that array in a
worker). ``_detector`` and ``_stream`` import it; it imports neither.

Policy (see :func:`imap`), so that asking for workers never costs time:

- **Forked workers where that is safe.** On Linux, under joblib's default backend
  and in a process with no other thread, local workers are forked from this
  process (:func:`_forks`): they start in milliseconds with its modules and model
  in memory. Elsewhere (and with ``PROPDETECT_START=loky``) they are loky's, which
  start as new interpreters (~0.55 s of CPU each).
- **Small inputs stay in this process.** Before anything is started, up to
  :data:`COLD_CHARS` characters of input (:data:`FORK_CHARS` when the workers would
  be forked, :data:`WARM_CHARS` when they are already running) are read ahead; an
  input that ends within that budget is detected here, one text at a time, and no
  pool is started.
- **No idle start.** When a larger input has to start loky's pool, this process
  detects the first :data:`OVERLAP_CHARS` characters itself while the workers
  start and begin on the rest.
- **The pool outlives the call.** The forked pool, and loky's, keep their
  worker processes alive between calls, and each worker keeps the decoded model,
  keyed by a digest of its bytes: a second call pays neither the start nor the
  decode. Local workers are sent the path of a file holding the model, written
  once per model (:func:`_payload_file`); Dask workers, the array itself.
- **Large windows, one at a time.** The input is cut into windows of batches
  (32 per worker), each one joblib call with all its batches submitted at once,
  so that the workers take batches as they free up and wait for each other only
  at a window's end (about half a batch in 32: ~2 %). Memory stays bounded by
  one window whatever the length of the input. Two joblib calls are never in
  flight at once: calls that overlap share the backend's state (the Dask
  backend's result collector, loky's temporary folder for memory-mapped
  arguments) and can hang or lose a memory-mapped argument.
- **Cheap results.** A worker sends each analysis back as arrays (offsets,
  one block of scores, the flagged sentences' rows and evidence spans) and a few
  shared tuples (their techniques, evidence keys and ends); no object per
  sentence, and the texts are never sent back (the caller slices its own copy).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sys
import tempfile
import threading
import warnings
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

import numpy as np

from ._results import _NO_EVIDENCE, Analysis, _Evidence, _freeze_evidence, _Scores, _sentence

__all__ = ["ModelCodec", "imap", "packed", "model_payload", "worker_model", "pool_is_warm", "shutdown", "WorkerLost",
           "WorkerLostWarning", "WORKER_LOST"]

T = TypeVar("T")

# A batch is closed at _BATCH_CHARS characters (or ``batch_size`` texts, if given),
# so that the workers finish together: a batch is at most ~0.1 s of one core
# (measured at 350,000-690,000 characters per second on PTC articles, by machine
# load). On other backends (Dask) a task costs more (the scheduler, the client
# and the task's messages: ~0.4 s of the dispatching process's CPU for 65 tasks over
# 600 articles on a LocalCluster), so batches are up to 8x as long, but at least 4
# per worker when the input's length is known: on 2 workers, 600 PTC dev articles
# (2.8 million characters) went from 1.13-1.33x one process with 40,000-character
# batches to 1.45x with 160,000 and 1.54x with 320,000 (medians of 8-10 alternated
# rounds, the 2-core development machine).
_BATCH_CHARS = 40_000
_REMOTE_BATCH_CHARS = 320_000
_MIN_BATCH_CHARS = 4_000
_REMOTE_TASKS_PER_WORKER = 4
# A text costs about this many characters' work besides its own length (splitting
# set-up, the language check, building the result): 1.6 ms for a 280-character
# document against 8.7 ms for a 4,600-character article, on the 2-core development
# machine. Batches are measured in characters plus this per text, so that a batch
# of short documents is not 4x the work of a batch of articles.
_TEXT_COST_CHARS = 700
# Without a ``batch_size``, runs of pass-through items (errors) still end a window
# at this many items per batch of the window.
_ITEMS_PER_BATCH = 128
# Batches per worker in a window (the batches submitted in one joblib call); a
# window also closes at _WINDOW_CHARS characters, since with 50 MB documents a
# count alone would not bound memory. A worker waits for the others only at a
# window's end, about half a batch: 32 batches per worker make that ~2 %.
_BATCHES_PER_WORKER = 32
_WINDOW_CHARS = 8_000_000
# Inputs that end within this many characters are detected in this process.
# Starting two loky workers (spawn, imports, model decode) costs as much CPU as
# detecting ~400,000 characters (measured on the 2-core reference machine: 0.6-0.7
# CPU s against 530,000-690,000 characters per CPU s; both scale with the
# machine). With the overlap below, two fresh workers break even at about that,
# and give 2W / (W + 400,000) = ~1.2x from 600,000 characters.
COLD_CHARS = 600_000
# ... and within this many when the pool is already running: dispatch and
# results then cost a few ms a call, worth ~20 ms of work.
WARM_CHARS = 20_000
# ... and within this many when the workers would be forked now (two forks, the
# pool's threads, the children's first copy-on-write faults: ~30-40 ms). With the
# pool started by the call, one process against two forked workers measured about
# even at 60,000-120,000 characters (0.96-1.18x, noisy) and 1.46x at 350,000 (the
# 75 PTC dev articles), on the 2-core development machine.
FORK_CHARS = 100_000
# Characters this process detects itself while a pool it started comes up:
# ~0.15 s of one core, about half what a worker's start costs in CPU. Not more:
# this process also unpacks (and the CLI writes) every result, and a longer
# head start would make it the bottleneck.
OVERLAP_CHARS = 100_000


@dataclass(frozen=True)
class ModelCodec:
    """How a model travels: ``encode(model) -> uint8 array`` and ``decode(array) -> model``.

    ``decode`` runs in the workers: it must be a top-level function (pickled by
    reference). Encoding happens once per model object, decoding once per worker
    and model digest.
    """

    encode: Callable[[Any], np.ndarray]
    decode: Callable[[np.ndarray], Any]


# -- the model, shipped once -----------------------------------------------------------
# Models kept by a worker, by digest and decoder (the same bytes may make two
# kinds of model); a few, since a long-lived Dask worker may serve several models
# in turn. The process that dispatches registers its own model here too, so
# thread-based backends never decode a copy.
_MODEL_CACHE_SIZE = 4
_models_lock = threading.Lock()
_models: dict[tuple[str, str], Any] = {}
_payloads: weakref.WeakKeyDictionary[Any, tuple[str, np.ndarray]] = weakref.WeakKeyDictionary()


def _key(digest: str, codec: ModelCodec) -> tuple[str, str]:
    return digest, f"{codec.decode.__module__}.{codec.decode.__qualname__}"


def cached_digests() -> list[str]:
    """The digests of the models this process holds (most recent last)."""
    with _models_lock:
        return [digest for digest, _ in _models]


def model_payload(model: Any, codec: ModelCodec) -> tuple[str, np.ndarray]:
    """``(digest, blob)``: the model as one uint8 array and its SHA-256.

    Built once per model object. Local worker processes get it as a file written
    once (:func:`_payload_file`), Dask workers as this same array object with every
    batch (joblib's Dask backend scatters it once per call); the workers find their
    decoded copy by digest.
    """
    with _models_lock:
        cached = _payloads.get(model)
        if cached is None:
            blob = codec.encode(model)
            cached = ("sha256:" + hashlib.sha256(blob).hexdigest(), blob)
            _payloads[model] = cached
        _remember(_key(cached[0], codec), model)
        return cached


def _remember(key: tuple[str, str], model: Any) -> None:
    _models.pop(key, None)
    _models[key] = model
    while len(_models) > _MODEL_CACHE_SIZE:
        del _models[next(iter(_models))]


# Local worker processes get the model as the path of a file holding the blob,
# written once per model by the dispatching process: a path pickles in a few bytes,
# while an 11 MB array argument cost every joblib call ~0.12 s of wall time before
# its first task ran (hashing and memory-mapping it; measured with no-op tasks on
# the 2-core development machine), twice per 600 articles. Dask workers, which may
# be on other machines, still get the array (scattered once per call).
_files_lock = threading.Lock()
_files: dict[str, str] = {}


def _payload_file(digest: str, blob: np.ndarray) -> str:
    """The path of a temporary file holding ``blob``; written once per digest and
    removed when this process exits."""
    with _files_lock:
        path = _files.get(digest)
        if path is None or not os.path.exists(path):
            fd, path = tempfile.mkstemp(prefix="propdetect-model-", suffix=".bin")
            with os.fdopen(fd, "wb") as fh:
                fh.write(memoryview(blob))
            _files[digest] = path
            atexit.register(_remove_quietly, path)
        return path


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _backend_name() -> str:
    """The class name of the active joblib backend (``"LokyBackend"`` by default);
    ``""`` if joblib's internals moved."""
    try:
        from joblib.parallel import get_active_backend

        return type(get_active_backend()[0]).__name__
    except Exception:  # noqa: BLE001 -- joblib internals moved
        return ""


def _ships_by_file() -> bool:
    """Whether the active joblib backend runs its workers as local processes."""
    return _backend_name() in ("LokyBackend", "MultiprocessingBackend")


# Dask's nanny starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (and a process
# that started a LocalCluster keeps the setting in its environment for every process
# it starts later): glibc then gives
# back to the system every 64 KB freed at the top of the heap, and (any such
# setting turns off glibc's adaptive thresholds) maps every block of 128 KB or more
# anew. Detection frees and reallocates ~2 MB of arrays per article, so each
# article faulted its memory in again: 7x the page faults and 25 % more time than in
# a plain process (300 PTC dev articles, on the 2-core development machine). A
# worker that decodes a model under such a setting keeps up to 16 MB of free heap
# (still little beside the model) and takes blocks under 4 MB from the heap; so do
# the command line's process and the training workers (_train._fit_head).
_TRIM_KEEP = 16 << 20
_MMAP_FROM = 4 << 20
_malloc_tuned = False


def _roomier_malloc() -> bool:
    """Raise glibc's trim and mmap thresholds in this process when the environment
    set a trim threshold under :data:`_TRIM_KEEP`; whether they were changed."""
    global _malloc_tuned
    if _malloc_tuned:
        return False
    _malloc_tuned = True
    try:
        low = int(os.environ.get("MALLOC_TRIM_THRESHOLD_", "")) < _TRIM_KEEP
    except ValueError:
        return False
    if not low or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # glibc; musl has no mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_TRIM_THRESHOLD, _TRIM_KEEP)) and bool(mallopt(M_MMAP_THRESHOLD, _MMAP_FROM))


def worker_model(digest: str, blob: np.ndarray | str | None, codec: ModelCodec) -> Any:
    """The model of ``digest``: from this process's cache, else decoded from ``blob``
    (the array, or the path of a file written by :func:`_payload_file`).

    Raises
    ------
    RuntimeError
        Not cached, and no ``blob`` to decode, or a file whose bytes are not ``digest``'s.
    """
    key = _key(digest, codec)
    with _models_lock:
        model = _models.get(key)
        if model is not None:
            return model
    if blob is None:
        raise RuntimeError(f"model {digest} is not cached in this worker and was not sent")
    _roomier_malloc()
    if isinstance(blob, str):
        path = blob
        blob = np.fromfile(path, dtype=np.uint8)
        if "sha256:" + hashlib.sha256(blob).hexdigest() != digest:
            raise RuntimeError(f"model file {path} does not hold model {digest}")
    model = codec.decode(blob)
    with _models_lock:
        _remember(key, model)
    return model


# -- results, compact ------------------------------------------------------------------
# The results travel back as a few arrays and shared tuples per text, not as an
# object per sentence: on two cores the calling process's share of the CPU (unpickling
# the results and building the Sentences, with the garbage collections that so many
# new objects set off) is taken from the workers', and on Dask that work also holds
# up the scheduler's event loop in the same process.
def _pack(analysis: Analysis) -> tuple[Any, ...]:
    """An analysis as ``(offsets, scores, propaganda, flagged, warnings)``, no texts.

    ``offsets``: int64 array (n, 2); ``scores``: float64 array (n, k);
    ``propaganda``: float64 array (n,) or None; ``flagged``: None when no sentence
    has techniques, else ``(rows, techniques, keys, ends, spans)``: the flagged
    sentences' indices (int64 array), for each of them its techniques and the keys
    and span ends of its :class:`_Evidence` (tuples, shared between equal ones, so
    that pickle sends each once), and all their spans in one flat ``array("q")``.
    """
    sents = analysis.sentences
    n = len(sents)
    if not n:
        return (None, None, None, None, analysis.warnings)
    offsets = np.array([(s.start, s.end) for s in sents], dtype=np.int64).reshape(n, 2)
    k = len(sents[0].scores)
    scores = np.empty((n, k), dtype=np.float64)
    for i, s in enumerate(sents):
        sc = s.scores
        block = getattr(sc, "_block", None)
        scores[i] = block[sc._row] if block is not None else list(sc.values())  # type: ignore[attr-defined]
    pa = [s.propaganda_score for s in sents]
    propaganda = None if pa[0] is None else np.array(pa, dtype=np.float64)
    flagged = ((i, s.techniques, _freeze_evidence(s.evidence)) for i, s in enumerate(sents) if s.techniques)
    return packed(offsets, scores, propaganda, flagged, analysis.warnings)


def packed(offsets: np.ndarray, scores: np.ndarray, propaganda: np.ndarray | None,
           flagged: Iterable[tuple[int, tuple[str, ...], Any]], warnings_: tuple[str, ...]) -> tuple[Any, ...]:
    """The form of :func:`_pack` from its parts: ``flagged`` gives ``(row,
    techniques, evidence)`` for each sentence that has techniques, in order, its
    evidence an :class:`_Evidence` (what ``Detector._detect_packed`` also uses)."""
    rows: list[int] = []
    techniques, keys, ends = [], [], []
    spans = array("q")
    for i, techs, ev in flagged:
        rows.append(i)
        techniques.append(techs)
        keys.append(ev._keys)
        ends.append(ev._ends)
        spans.extend(ev._flat)
    found = ((np.array(rows, dtype=np.int64), tuple(techniques), tuple(keys), tuple(ends), spans)
             if rows else None)
    return (offsets, scores, propaganda, found, warnings_)


def _unpack(packed: tuple[Any, ...], text: str, ids: tuple[str, ...]) -> Analysis:
    """Rebuild the :class:`Analysis` that :func:`_pack` flattened, slicing ``text``."""
    offsets, scores, propaganda, flagged, warnings_ = packed
    if offsets is None:
        return Analysis((), warnings_)
    n = len(offsets)
    scores.flags.writeable = False
    starts, ends = offsets[:, 0].tolist(), offsets[:, 1].tolist()
    techniques: list[tuple[str, ...]] = [()] * n
    evidence: list[_Evidence] = [_NO_EVIDENCE] * n
    if flagged is not None:
        rows, techs, keys, span_ends, spans = flagged
        of, lo = _Evidence._of, 0
        for i, t, kk, ee in zip(rows.tolist(), techs, keys, span_ends):
            techniques[i] = t
            if kk:
                hi = lo + ee[-1]
                evidence[i] = of(kk, ee, spans[2 * lo : 2 * hi])
                lo = hi
    pa = propaganda.tolist() if propaganda is not None else [None] * n
    # The values are frozen here (a view of the score block, a compact evidence
    # map), so the Sentences are built without Sentence()'s checks, as detect builds
    # them.
    return Analysis(tuple(map(_sentence, [text[a:b] for a, b in zip(starts, ends)], starts, ends, techniques,
                              _Scores._of_rows(ids, scores), evidence, pa)), warnings_)


# A worker renders (imap's ``render``) the analyses of texts up to this long; a
# longer text's analysis comes back packed and is rendered by the caller, which may
# render it lazily (a 50 MB document's JSON is not held whole).
RENDER_CHARS = 1_000_000


class _Rendered:
    """A result that a worker has already rendered (not a packed analysis)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


# A local worker process (loky's, or forked) watches the process that sent it work, and
# exits when that process is gone (its parent id changes), however it ended: loky's
# workers otherwise wait for work for minutes after a SIGKILL of their parent (forked
# ones are also killed by the kernel, see _worker_init). Checked every second.
_WATCH_SECONDS = 1.0
_watching = 0  # the pid of the process whose watch thread runs


def _watch_parent(parent: int) -> None:
    """In a worker whose parent is ``parent`` (the dispatching process), start once a
    daemon thread that ends this process when the parent is gone."""
    global _watching
    if not parent or _watching == os.getpid() or os.getpid() == parent:
        return  # watching already, or not a local worker (this process; a Dask worker gets 0)
    if os.getppid() != parent:
        os._exit(1)  # the parent died while this worker started
    _watching = os.getpid()

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="propdetect-parent-watch", daemon=True).start()


def _run_batch(digest: str, blob: np.ndarray | str | None, codec: ModelCodec, texts: Sequence[str],
               capture_errors: bool = False,
               render: Callable[[str, Analysis], Any] | None = None,
               render_chars: int = 0, parent: int = 0) -> tuple[tuple[str, ...], list[Any]]:
    """Worker side: detect each text of a batch; ``(technique ids, results)``.

    Each result is packed (:func:`_pack`, or the model's ``_detect_packed(text)``,
    which gives the same without the Sentence objects), or with ``render`` and a text of at most
    ``render_chars`` (the caller's :data:`RENDER_CHARS`), ``render(text, analysis)``
    wrapped in :class:`_Rendered`.
    A text that fails comes back as its error message (``"Type: message"``) when
    ``capture_errors``; otherwise the error propagates. ``parent``: the dispatching
    process's id, which a local worker watches (:func:`_watch_parent`).
    """
    _watch_parent(parent)
    model = worker_model(digest, blob, codec)
    # A model may want to know that it runs in a worker (the accurate model's
    # encoder then takes one thread: the workers share the cores).
    as_worker = getattr(model, "_as_worker", None)
    if as_worker is not None:
        as_worker()
    # A model may give the packed form directly (Detector._detect_packed), without
    # building the Sentence objects that _pack would take apart again.
    packed = getattr(model, "_detect_packed", None)
    out: list[Any] = []
    for text in texts:
        rendered = render is not None and len(text) <= render_chars
        r = _detect_one(model, text, capture_errors, None if rendered else packed)
        if isinstance(r, str):
            out.append(r)
        elif rendered:
            out.append(_Rendered(render(text, r)))  # type: ignore[misc]
        else:
            out.append(r if packed is not None else _pack(r))
    return tuple(getattr(model, "techniques", ())), out


def _detect_one(model: Any, text: str, capture_errors: bool, detect: Callable[[str], Any] | None = None) -> Any:
    """``model.detect(text)`` (or ``detect(text)``); when ``capture_errors``, a
    failure as its message (``"Type: message"``) instead of an exception."""
    try:
        return (detect or model.detect)(text)
    except Exception as exc:  # noqa: BLE001 -- reported per text by the caller
        if not capture_errors:
            raise
        return f"{type(exc).__name__}: {exc}"


# -- dispatch --------------------------------------------------------------------------
def effective_jobs(n_jobs: int | None) -> int:
    """Workers that ``n_jobs`` means under the active joblib backend (at least 1)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


def pool_is_warm(workers: int) -> bool:
    """Whether a parallel call would find its workers running: True for a backend
    other than joblib's loky (a Dask cluster, threads); with forked workers
    (:func:`_forks`), whether the forked pool of ``workers`` is up; else whether
    loky's reusable executor is alive with at least ``workers`` processes."""
    if _forks():
        fork = _fork
        return fork is not None and fork[0] == workers
    name = _backend_name()
    if name != "LokyBackend":
        return name not in ("MultiprocessingBackend", "")  # unknown: assume a cold start
    try:
        from joblib.externals.loky import reusable_executor as rex

        ex = rex._executor
        if ex is None or getattr(ex, "_flags", None) is None or ex._flags.broken or ex._flags.shutdown:
            return False
        return len(ex._processes) >= workers
    except Exception:  # noqa: BLE001 -- joblib internals moved: assume a cold start
        return False


def _start_call(n_jobs: int | None, tasks: Iterable[Any]) -> Any:
    """One call over ``tasks`` (joblib ``delayed`` triples), all submitted at once; a
    generator of results in order. The one place that starts workers (tests patch
    it): forked workers when :func:`_forks`, else joblib's active backend."""
    if _forks():
        return _forked_call(effective_jobs(n_jobs), tasks)
    from joblib import Parallel

    backend: Any = None
    if _default_loky():
        # loky's workers, started to watch this process from their first moment (a
        # worker still waiting for its first task would otherwise outlive a SIGKILL
        # of this process by loky's idle timeout, 5 minutes)
        from joblib._parallel_backends import LokyBackend

        backend = LokyBackend(initializer=_watch_parent, initargs=(os.getpid(),))
    return Parallel(n_jobs=n_jobs, backend=backend, batch_size=1, pre_dispatch="all",
                    return_as="generator")(tasks)


# -- forked workers (Linux) ------------------------------------------------------------
# loky starts each worker as a new interpreter: ~0.55 s of CPU a worker (joblib's and
# our imports, decoding the model) before its first task, which on 2 cores is a tenth
# of a 6 s job. A forked worker starts with this process's modules and models in
# memory (copy-on-write) in a few milliseconds: `analyze --jobs 2` over 4,000 short
# documents went from 1.43x to 1.77x `--jobs 1` (medians of 8 alternated runs, the
# 2-core development machine). Forking is only safe in a process without other
# threads, so it is used only on Linux, under joblib's default backend chosen by
# nobody (no parallel_backend/parallel_config block names one), outside joblib
# workers, and when this process runs no other thread than those of the forked pool
# itself; anything else gets loky. PROPDETECT_START=loky turns it off.
START_METHOD = os.environ.get("PROPDETECT_START", "auto")
_fork_lock = threading.Lock()
_fork: tuple[int, Any] | None = None  # (workers, ProcessPoolExecutor)
_FORK_POOL_THREADS = 2  # the forked pool's threads in this process: its manager and its queue's feeder


def _default_loky() -> bool:
    """Whether joblib's active backend is its default, loky, chosen by nobody (no
    parallel_backend/parallel_config block names one; not inside a joblib worker)."""
    try:
        from joblib import parallel

        config = getattr(parallel._backend, "config", None) or {}
        chosen = config.get("backend")
        if chosen is not None and type(chosen).__name__ != "_Sentinel":
            return False  # a backend somebody asked for
        backend, _ = parallel.get_active_backend()
        return type(backend).__name__ == "LokyBackend" and not backend.nesting_level
    except Exception:  # noqa: BLE001 -- joblib internals moved
        return False


def _forks() -> bool:
    """Whether local workers are forked from this process (see above): only in
    place of joblib's default backend, loky."""
    if START_METHOD != "auto" or not sys.platform.startswith("linux") or not _default_loky():
        return False
    encoder = sys.modules.get("propdetect._encoder")
    if encoder is not None and getattr(encoder, "sessions_started", False):
        return False  # onnxruntime's native threads: a forked child could deadlock on their locks
    own = _FORK_POOL_THREADS if _fork is not None else 0
    return threading.active_count() <= 1 + own


def _worker_init(parent: int) -> None:
    """A forked worker leaves Ctrl-C and SIGTERM to the process that started it (which
    stops its workers as it ends, however it ends: a whole process group stopped by a
    scheduler, say), and dies with it: on Linux the kernel kills it when its parent
    dies, even of SIGKILL (``PR_SET_PDEATHSIG``), so that no worker outlives its parent
    holding memory and the parent's stderr."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not glibc/Linux: the parent still stops its workers
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _call(task: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]) -> Any:
    func, args, kwargs = task
    return func(*args, **kwargs)


def _fork_pool(workers: int) -> Any:
    """The forked pool of ``workers`` processes, started (or restarted, after a
    worker died) if need be.

    A :class:`concurrent.futures.ProcessPoolExecutor` with the fork start method:
    it forks all its workers at the first task, before its own threads start. A
    ``multiprocessing.Pool`` waits for ever when a worker dies mid-task (killed for
    want of memory, say), where this executor fails every pending task with
    ``BrokenProcessPool``; and the Pool's worker-handler thread wakes at every result
    still in the pipe, 0.04-0.06 s of this process's CPU per 600 articles.
    """
    global _fork
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _fork_lock:
        if _fork is not None and _fork[0] == workers and not getattr(_fork[1], "_broken", False):
            return _fork[1]
        _stop_fork_pool_locked()
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_init, initargs=(os.getpid(),))
        _fork = (workers, pool)
        return pool


def _fork_pids() -> list[int]:
    """The process ids of the forked pool's workers (none before its first task)."""
    fork = _fork
    return [p.pid for p in (getattr(fork[1], "_processes", None) or {}).values()] if fork else []


def _stop_fork_pool() -> None:
    with _fork_lock:
        _stop_fork_pool_locked()


# Before the interpreter tears a pool down under its own handler threads.
atexit.register(_stop_fork_pool)


def _stop_fork_pool_locked() -> None:
    global _fork
    if _fork is not None:
        pool = _fork[1]
        _fork = None
        # Stop the workers now: shutdown() alone would let a running batch (a long
        # document, say) finish for nothing. SIGKILL: they ignore SIGTERM (_worker_init).
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes this process started (forked ones and loky's):
    the next call starts them afresh."""
    _stop_fork_pool()
    try:
        from joblib.externals.loky import reusable_executor as rex

        executor = rex._executor  # None when loky's workers were never started
    except Exception:  # noqa: BLE001 -- joblib internals moved: nothing we can stop
        return
    if executor is not None:
        executor.shutdown(wait=True)


def _forked_call(workers: int, tasks: Iterable[Any]) -> Iterator[Any]:
    """Results of ``tasks`` on the forked pool, in order; the tasks are submitted
    now. A reader that stops early stops the pool too (its other tasks would run on
    for nothing); so does a worker that dies, after which the next call starts a
    new pool."""
    from concurrent.futures.process import BrokenProcessPool

    pool = _fork_pool(workers)
    futures = [pool.submit(_call, task) for task in tasks]

    def drain() -> Iterator[Any]:
        done = False
        try:
            for future in futures:
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise BrokenProcessPool(
                        "a worker process died (killed for want of memory, or crashed); "
                        "fewer workers (n_jobs, --jobs) need less memory") from exc
                yield result
            done = True
        finally:
            if not done:
                _stop_fork_pool()

    return drain()


# A worker that dies (killed for want of memory, say) loses the batches in flight. The
# window's batches not yet received are sent again, on new workers, up to this many
# times; after that, the first of them is run a text at a time, so that a text that
# kills a worker by itself is found: it is tried twice alone, then given up (an error
# message in its place with ``capture_errors``, else BrokenProcessPool), and the rest
# goes on.
_RETRIES = 2
_ALONE_TRIES = 2


class WorkerLost(str):
    """The result of a text that killed a worker process each time it was tried alone:
    its error message (a ``str``, like the messages of ``capture_errors``)."""

    __slots__ = ()


_LOST = (f"a worker process died {_ALONE_TRIES} times while analysing this text alone (killed, perhaps "
         "for want of memory: fewer workers need less memory)")
WORKER_LOST = WorkerLost(f"WorkerLost: {_LOST}")


def _resilient(n_jobs: int | None, task: Callable[[list[str]], Any], batches: list[list[str]],
               capture_errors: bool) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """``(ids, results)`` of each batch, in order, from workers (:func:`_start_call`),
    starting new workers and sending the lost batches again when one dies (see
    :data:`_RETRIES`)."""
    from concurrent.futures.process import BrokenProcessPool  # loky's TerminatedWorkerError is one

    done = breaks = 0
    while done < len(batches):
        if breaks > _RETRIES:
            yield _alone(n_jobs, task, batches[done], capture_errors)
            done += 1
            breaks = _RETRIES  # the next death isolates again at once
            continue
        calls = _start_call(n_jobs, map(task, batches[done:]))
        try:
            for result in calls:
                done += 1
                yield result
        except BrokenProcessPool as exc:
            breaks += 1
            cause = str(exc).split(";")[0] or "a worker process died"
            warnings.warn(f"{cause}; {len(batches) - done} unfinished batches of texts go to new workers"
                          + ("" if breaks <= _RETRIES else ", the first a text at a time"),
                          WorkerLostWarning, stacklevel=2)
        finally:
            if hasattr(calls, "close"):
                _close(calls)


class WorkerLostWarning(RuntimeWarning):
    """A worker process died; its work is being sent again (see :func:`_resilient`)."""


def _alone(n_jobs: int | None, task: Callable[[list[str]], Any], texts: list[str],
           capture_errors: bool) -> tuple[tuple[str, ...], list[Any]]:
    """The batch ``texts`` run a text per call, each tried :data:`_ALONE_TRIES` times."""
    from concurrent.futures.process import BrokenProcessPool

    ids: tuple[str, ...] = ()
    out: list[Any] = []
    for text in texts:
        for _ in range(_ALONE_TRIES):
            calls = _start_call(n_jobs, [task([text])])
            try:
                ids, (result,) = next(iter(calls))
                break
            except BrokenProcessPool as exc:
                error = exc
            finally:
                if hasattr(calls, "close"):
                    _close(calls)
        else:
            if not capture_errors:
                raise BrokenProcessPool(f"{_LOST}; the text has {len(text):,} characters") from error
            result = WORKER_LOST
        out.append(result)
    return ids, out


def _close(results: Any) -> None:
    # The reader may stop early (``| head``, an error): cancel the rest without
    # joblib's warning that tasks were cancelled.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*still being processed", category=UserWarning)
        results.close()


def _batch_chars(total_chars: int | None = None, workers: int = 1) -> int:
    """Characters (of cost, see :func:`_windows`) per batch under the active joblib
    backend: :data:`_BATCH_CHARS` for local processes and threads, less for a known
    input too small for 2 batches a worker; for others (Dask)
    :data:`_REMOTE_BATCH_CHARS`, or when the input's length is known, enough for
    :data:`_REMOTE_TASKS_PER_WORKER` tasks per worker (not under :data:`_BATCH_CHARS`)."""
    local = ("LokyBackend", "MultiprocessingBackend", "ThreadingBackend", "SequentialBackend")
    if _backend_name() in local:
        if total_chars is None:
            return _BATCH_CHARS
        # a small input: at least 2 batches a worker, so that every worker has some
        return max(_MIN_BATCH_CHARS, min(_BATCH_CHARS, -(-total_chars // (2 * max(1, workers)))))
    if total_chars is None:
        return _REMOTE_BATCH_CHARS
    share = -(-total_chars // (_REMOTE_TASKS_PER_WORKER * max(1, workers)))
    return max(_BATCH_CHARS, min(_REMOTE_BATCH_CHARS, share))


def _windows(items: Iterable[T], text_of: Callable[[T], str | None], batch_size: int | None,
             max_batches: int | None, batch_chars: int | None = None) -> Iterator[tuple[list[T], list[list[str]]]]:
    """Cut ``items`` into windows: ``(items, batches of their texts)``.

    A batch ends at ``batch_chars`` (default :data:`_BATCH_CHARS`) of cost, its
    texts' lengths plus :data:`_TEXT_COST_CHARS` a text, or at ``batch_size`` texts
    (None: no limit); a window at ``max_batches`` batches (None: never) or
    :data:`_WINDOW_CHARS` characters.
    """
    if batch_chars is None:
        batch_chars = _BATCH_CHARS
    count_limit = batch_size if batch_size is not None else float("inf")
    items_limit = (max_batches or 0) * (batch_size or _ITEMS_PER_BATCH) * 4
    window: list[T] = []
    batches: list[list[str]] = []
    batch: list[str] = []
    in_batch = window_chars = 0
    for item in items:
        window.append(item)
        text = text_of(item)
        if text is not None:
            batch.append(text)
            in_batch += len(text) + _TEXT_COST_CHARS
            window_chars += len(text)
            if len(batch) >= count_limit or in_batch >= batch_chars:
                batches.append(batch)
                batch, in_batch = [], 0
        full = max_batches is not None and (
            len(batches) >= max_batches or window_chars >= _WINDOW_CHARS
            or len(window) >= items_limit)  # also bound runs of errors
        if full:
            if batch:
                batches.append(batch)
            yield window, batches
            window, batches, batch, in_batch, window_chars = [], [], [], 0, 0
    if batch:
        batches.append(batch)
    if window:
        yield window, batches


def _serial(model: Any, items: Iterable[T], text_of: Callable[[T], str | None],
            capture_errors: bool, render: Callable[[str, Analysis], Any] | None) -> Iterator[tuple[T, Any]]:
    stream = getattr(render, "stream", None)
    for item in items:
        text = text_of(item)
        if text is None:
            yield item, None
            continue
        if stream is not None and len(text) > RENDER_CHARS:
            # A huge document, rendered as it is detected (see imap's render).
            r = stream(text, model)
            if r is not None:
                yield item, r
                continue
        r = _detect_one(model, text, capture_errors)
        yield item, (r if render is None or isinstance(r, str) else render(text, r))


def _look_ahead(it: Iterator[T], text_of: Callable[[T], str | None], budget: int) -> tuple[list[T], bool]:
    """Read items until their texts pass ``budget`` characters; ``(items, ended)``."""
    head: list[T] = []
    chars = 0
    for item in it:
        head.append(item)
        text = text_of(item)
        chars += len(text) if text is not None else 0
        if chars > budget:
            return head, False
    return head, True


def _start_policy(workers: int) -> tuple[int, bool]:
    """``(budget, overlap)``: the characters of input read ahead, within which the
    input is detected in this process (:data:`WARM_CHARS` with the workers up,
    :data:`FORK_CHARS` when they would be forked now, else :data:`COLD_CHARS`), and
    whether this process detects the first :data:`OVERLAP_CHARS` itself while
    starting workers the slow way."""
    if pool_is_warm(workers):
        return WARM_CHARS, False
    if _forks():
        return FORK_CHARS, False  # forked workers start at once
    return COLD_CHARS, OVERLAP_CHARS > 0


def imap(model: Any, items: Iterable[T], codec: ModelCodec, *,
         text_of: Callable[[T], str | None] = lambda item: item,  # type: ignore[assignment,return-value]
         n_jobs: int | None = None, batch_size: int | None = None, max_in_flight: int | None = -1,
         capture_errors: bool = False,
         render: Callable[[str, Any], Any] | None = None) -> Iterator[tuple[T, Any]]:
    """``model.detect`` over the text of each item, in order, on workers when it pays.

    Parameters
    ----------
    model : object with ``.detect(str)``
    items : iterable
        Consumed lazily: at most one window ahead of what has been yielded.
    codec : ModelCodec
        How ``model`` travels to the workers.
    text_of : callable, optional
        ``item -> str``, or None for an item that passes through (result None).
    n_jobs : int, optional
        Workers, as in joblib (``None``: 1 unless a ``joblib.parallel_backend``
        context says otherwise; ``-1``: every core).
    batch_size : int, optional
        At most this many texts per task. A task ends at :data:`_BATCH_CHARS`
        characters on local workers and threads, :data:`_REMOTE_BATCH_CHARS` on
        other backends (Dask), whatever ``batch_size``.
    max_in_flight : int or None, default=-1
        Batches per window (one joblib call); -1 means 32 per worker; None
        means one window for everything (inputs already in memory).
    capture_errors : bool, default=False
        When a text makes ``model.detect`` raise, yield ``"Type: message"``
        instead of raising.
    render : callable, optional
        ``render(text, analysis) -> value``, yielded instead of the analysis: the
        work of turning results into output, done by the workers (on texts of at
        most :data:`RENDER_CHARS`; by this process for longer ones and when it
        detects itself). A top-level function (pickled by reference) whose value
        pickles; it must not depend on where it runs. It may have a
        ``stream(text, model)`` attribute, which this process uses instead for a
        text over :data:`RENDER_CHARS` that it detects itself: a value that
        detects as it is consumed (a detection error then surfaces there, not
        as ``capture_errors``' message), or None to detect the usual way.

    Yields
    ------
    (item, result)
        ``result`` as ``model.detect`` gives it (rebuilt from the worker's compact
        form) or as ``render`` made it, None for a pass-through item, or the
        error message.

    Examples
    --------
    >>> from propdetect import Detector
    >>> from propdetect._detector import CODEC
    >>> det = Detector.load()
    >>> [len(a.sentences) for _, a in imap(det, ["One. Two.", "Three."], CODEC, n_jobs=2)]
    [2, 1]
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    workers = effective_jobs(n_jobs)
    if workers == 1:
        # In this process: nothing to ship, and results come one at a time.
        yield from _serial(model, items, text_of, capture_errors, render)
        return
    it = iter(items)
    budget, overlap = _start_policy(workers)
    head, ended = _look_ahead(it, text_of, budget)
    if ended:
        # Less work than starting (or even calling) the workers costs.
        yield from _serial(model, head, text_of, capture_errors, render)
        return
    if max_in_flight == -1:
        max_in_flight = _BATCHES_PER_WORKER * workers
    local: list[T] = []
    if overlap:
        # Work here while the workers start: the first texts, whose results come
        # first anyway; the workers begin after them.
        local = _look_ahead(iter(head), text_of, OVERLAP_CHARS)[0]
        head = head[len(local):]
    # The length of an input already in memory sizes the batches: every worker gets
    # some, and a remote backend no more tasks than pay.
    total = (sum(len(t) + _TEXT_COST_CHARS for t in map(text_of, items) if t is not None)
             if isinstance(items, Sequence) else None)
    dispatch = _dispatch(model, chain(head, it), codec, text_of, n_jobs, batch_size,
                         max_in_flight, capture_errors, render, total, workers)
    try:
        next(dispatch)  # submits the first window (and starts the pool if need be)
        yield from _serial(model, local, text_of, capture_errors, render)
        yield from dispatch
    finally:
        dispatch.close()


_SUBMITTED = object()


def _dispatch(model: Any, items: Iterable[T], codec: ModelCodec, text_of: Callable[[T], str | None],
              n_jobs: int | None, batch_size: int | None, window_batches: int | None,
              capture_errors: bool, render: Callable[[str, Any], Any] | None,
              total_chars: int | None = None, workers: int = 1) -> Iterator[tuple[T, Any]]:
    from joblib import delayed

    digest, blob = model_payload(model, codec)
    local = _ships_by_file()
    ship: np.ndarray | str = _payload_file(digest, blob) if local else blob
    parent = os.getpid() if local else 0  # local workers watch this process (_watch_parent)
    run = delayed(_run_batch)
    windows = _windows(items, text_of, batch_size, window_batches, _batch_chars(total_chars, workers))
    calls: Any = None
    started = False
    try:
        for window, batches in windows:
            # One joblib call at a time (see the module's docstring).
            calls = _resilient(n_jobs, lambda b: run(digest, ship, codec, b, capture_errors, render, RENDER_CHARS,
                                                     parent),
                               batches, capture_errors) if batches else iter(())
            if not started:
                # The first next() only submits (see imap's overlap); results follow.
                started = True
                yield _SUBMITTED  # type: ignore[misc]
            results = ((ids, p) for ids, batch in calls for p in batch)
            for item in window:
                text = text_of(item)
                if text is None:
                    yield item, None
                    continue
                ids, p = next(results)
                if isinstance(p, _Rendered):
                    yield item, p.value
                elif isinstance(p, str):
                    yield item, p
                else:
                    a = _unpack(p, text, ids)
                    yield item, (a if render is None else render(text, a))
            for _ in calls:  # every result is in: let the call end before the next starts
                pass
            calls = None
        if not started:
            yield _SUBMITTED  # type: ignore[misc]
    finally:
        if calls is not None and hasattr(calls, "close"):
            _close(calls)
