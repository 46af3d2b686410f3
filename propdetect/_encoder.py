"""The encoder scorer: sentences -> probabilities and token scores, with onnxruntime.

A fine-tuned BERT-family encoder (the accurate model's second half) runs here
without torch or transformers: its network is an ONNX graph (``encoder.onnx``, int8
weights) and its tokeniser a ``tokenizer.json`` read by the ``tokenizers`` library.
Neither file can run code when loaded.

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64,
``(batch, length)``) and gives two outputs, already through a sigmoid:

* ``sentence``: ``(batch, 1 + k)``, the "any technique" probability then one per
  technique, from the mean of the sentence's token states;
* ``tokens``: ``(batch, length, 1 + k)``, the same per token: which words carry
  which technique (the evidence).

A sentence may be given its preceding sentence as the second segment (``context``
in the encoder's metadata); its tokens only inform, they are never evidence.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EncoderScorer", "TokenScores", "encoder_threads", "length_batches", "pad_batch"]

#: Whether this process has started an onnxruntime session, whose native threads
#: make forking it unsafe: propdetect._pool reads it (through sys.modules) and then
#: starts fresh worker processes instead of forking this one.
sessions_started = False

# Every scorer of this process, for _close_before_fork.
_scorers: weakref.WeakSet = weakref.WeakSet()


def _close_before_fork() -> None:
    """Drop this process's onnxruntime sessions before it forks: a session's native
    threads may hold a lock that the child's own session then waits for forever (spaCy's
    ``nlp.pipe(n_process=2)`` forks the process that ran the accurate model: about one
    run in two hung on 2 cores). The parent makes its sessions again on next use (each
    scorer does, per process id); a session still running in another thread is kept."""
    for scorer in list(_scorers):
        scorer._session = None


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_close_before_fork)

# Sentences per onnxruntime call: at most _BATCH, and a new batch starts when a
# sentence is longer than _SPREAD times the batch's first (shortest) one plus
# _SLACK tokens: a batch is padded to its longest sentence, and the sentences of one
# document range from 5 to 96 tokens (one batch per document ran 3x slower).
_BATCH = 64
_SPREAD = 1.2
_SLACK = 2


def encoder_threads() -> int:
    """Threads for one onnxruntime session: ``PROPDETECT_ENCODER_THREADS`` if set,
    else every core this process may use (a worker process of detect_many takes 1)."""
    env = os.environ.get("PROPDETECT_ENCODER_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"PROPDETECT_ENCODER_THREADS must be a whole number, got {env!r}") from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class TokenScores:
    """Token scores of one sentence: ``offsets`` ``(m, 2)`` into the sentence and
    ``probs`` ``(m, 1 + k)``, for its own word-piece tokens only."""

    offsets: np.ndarray
    probs: np.ndarray


class EncoderScorer:
    """Score sentences with an ONNX encoder and its tokeniser.

    Parameters
    ----------
    onnx_bytes : bytes
        The graph (``encoder.onnx``).
    tokenizer_json : str
        The tokeniser (``tokenizer.json``).
    config : mapping
        ``max_length`` (tokens, both segments), ``context`` (bool: the preceding
        sentence as second segment) and ``context_length`` (its tokens at most).
    threads : int, optional
        onnxruntime's threads (default: :func:`encoder_threads`).

    Notes
    -----
    The onnxruntime session is made on first use, once per process (a worker
    process that receives the model makes its own), and is safe to share
    between threads.
    """

    def __init__(self, onnx_bytes: bytes, tokenizer_json: str, config: Mapping[str, Any],
                 threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.threads = threads
        self._onnx = onnx_bytes
        self._tokenizer_json = tokenizer_json
        self.max_length = int(config.get("max_length", 128))
        self.context = bool(config.get("context", False))
        self.context_length = int(config.get("context_length", 32))
        tok = Tokenizer.from_str(tokenizer_json)
        tok.no_padding()
        # the context is cut to context_length first (_context_of), so cutting the
        # longer segment first cuts a long sentence, never its own start
        tok.enable_truncation(self.max_length, strategy="longest_first")
        self._tok = tok
        self._session: Any = None
        self._pid = -1
        self._lock = threading.Lock()
        _scorers.add(self)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], config: Mapping[str, Any]) -> EncoderScorer:
        """Read ``encoder.onnx`` and ``tokenizer.json`` from ``folder``."""
        folder = Path(folder)
        return cls((folder / "encoder.onnx").read_bytes(),
                   (folder / "tokenizer.json").read_text(encoding="utf-8"), config)

    # -- session ---------------------------------------------------------------
    def _get_session(self) -> Any:
        pid = os.getpid()
        if self._session is not None and self._pid == pid:
            return self._session
        global sessions_started
        with self._lock:
            if self._session is None or self._pid != pid:
                import onnxruntime as ort

                sessions_started = True
                so = ort.SessionOptions()
                so.intra_op_num_threads = self.threads or encoder_threads()
                so.inter_op_num_threads = 1
                so.log_severity_level = 3
                self._session = ort.InferenceSession(self._onnx, so, providers=["CPUExecutionProvider"])
                self._pid = pid
        return self._session

    # -- tokenisation ----------------------------------------------------------
    def _context_of(self, previous: str) -> str:
        """The end of the preceding sentence, at most ``context_length`` tokens."""
        if not previous:
            return ""
        enc = self._tok.encode(previous, add_special_tokens=False)
        if len(enc.offsets) <= self.context_length:
            return previous
        return previous[enc.offsets[-self.context_length][0]:]

    def encode(self, sentences: Sequence[str], previous: Sequence[str] | None = None) -> list[Any]:
        """The tokeniser's encodings of the sentences (each with its context when the
        encoder uses one), truncated to ``max_length`` tokens, the context first."""
        tok = self._tok
        if self.context:
            prev = list(previous) if previous is not None else [""] * len(sentences)
            pairs = [(s, self._context_of(p)) for s, p in zip(sentences, prev)]
            encs = tok.encode_batch(pairs)
        else:
            encs = tok.encode_batch(list(sentences))
        return encs

    # -- scoring ---------------------------------------------------------------
    def score(self, sentences: Sequence[str], previous: Sequence[str] | None = None,
              tokens: bool = True) -> tuple[np.ndarray, list[TokenScores] | None]:
        """Probabilities of the sentences (``(n, 1 + k)``: "any technique" first) and,
        with ``tokens``, each sentence's :class:`TokenScores`.

        ``previous[i]`` is the sentence before ``sentences[i]`` ("" for none), used
        only by an encoder trained with context.
        """
        n = len(sentences)
        encs = self.encode(sentences, previous)
        session = self._get_session()
        out_sent: np.ndarray | None = None
        out_tok: list[TokenScores | None] = [None] * n if tokens else []
        for idx in length_batches([len(e.ids) for e in encs]):
            ids, mask, types = pad_batch(encs, idx)
            p_sent, p_tok = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": types})
            if out_sent is None:
                out_sent = np.zeros((n, p_sent.shape[1]), dtype=np.float64)
            out_sent[idx] = p_sent
            if tokens:
                for r, j in enumerate(idx):
                    e = encs[j]
                    keep = _own_tokens(e)
                    offs = np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2)[keep]
                    out_tok[j] = TokenScores(offs, np.asarray(p_tok[r, : len(e.ids)][keep], dtype=np.float32))
        if out_sent is None:
            out_sent = np.zeros((0, 0), dtype=np.float64)
        return out_sent, (out_tok if tokens else None)  # type: ignore[return-value]


def length_batches(lengths: Sequence[int], size: int = _BATCH, spread: float = _SPREAD,
                   slack: int = _SLACK) -> list[list[int]]:
    """Indices of ``lengths`` in batches of similar length (shortest first): at most
    ``size`` each, none longer than ``spread`` times its first plus ``slack``.

    >>> length_batches([30, 8, 9, 31, 10, 90], size=2)
    [[1, 2], [4], [0, 3], [5]]
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for j in order:
        if batches and len(batches[-1]) < size and lengths[j] <= spread * lengths[batches[-1][0]] + slack:
            batches[-1].append(j)
        else:
            batches.append([j])
    return batches


def pad_batch(encs: Sequence[Any], idx: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``input_ids``, ``attention_mask`` and ``token_type_ids`` of the encodings
    ``encs[idx]``, padded with zeros to the longest."""
    width = max(len(encs[j].ids) for j in idx)
    ids = np.zeros((len(idx), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for r, j in enumerate(idx):
        e = encs[j]
        m = len(e.ids)
        ids[r, :m] = e.ids
        mask[r, :m] = 1
        types[r, :m] = e.type_ids
    return ids, mask, types


def _own_tokens(e: Any) -> np.ndarray:
    """Which tokens of an encoding are the sentence's own words (segment 0, not
    special tokens, not empty)."""
    seq = e.sequence_ids
    offs = e.offsets
    special = e.special_tokens_mask
    return np.array([seq[i] == 0 and not special[i] and offs[i][1] > offs[i][0]
                     for i in range(len(seq))], dtype=bool)

