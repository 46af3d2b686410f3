"""Detector: sentence spans -> features -> calibrated scores -> thresholds -> evidence."""

from __future__ import annotations

import io
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ._accurate import ACCURATE_KIND, EncoderPart, is_accurate_folder, read_accurate, write_accurate
from ._cues import CueTable
from ._evidence import TokenModel
from ._features import DocStats, Featurizer, doc_stats
from ._tokens import tokenize
from ._heads import Heads, decide
from ._language import language_warnings
from ._persist import ModelFormatError, read_model, write_model
from ._pool import ModelCodec, imap, packed
from ._results import _NO_EVIDENCE, Analysis, Sentence, _Evidence, _Scores, _sentence
from ._scorers import AccurateScorer, LinearScorer, Scorer
from ._sentences import split_sentences
from ._vectors import WordVectors

__all__ = ["Detector", "BUNDLED_MODEL", "BUNDLED_MODELS", "DEFAULT_MODEL"]

#: Name of the linear model's folder shipped inside the package (``propdetect/models/``).
BUNDLED_MODEL = "ptc2020"

#: The bundled models by the names ``Detector.load`` and ``--model`` take: ``fast``
#: (the linear model; its folder name ``ptc2020`` works too) and ``accurate``
#: (the linear model and a fine-tuned encoder, see :mod:`propdetect._accurate`).
BUNDLED_MODELS = {"fast": BUNDLED_MODEL, BUNDLED_MODEL: BUNDLED_MODEL, "accurate": "accurate"}

#: The model of ``detect()``, ``Detector.load()`` and ``propdetect analyze`` when none is named.
DEFAULT_MODEL = "fast"

# Sentences scored per block: bounds the temporary (n_nonzeros x n_techniques)
# array to a few MB whatever the document's length.
_CHUNK = 2048


def _check_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        raise TypeError(
            "detect() takes str, not bytes: decode it first, e.g. data.decode('utf-8')"
        )
    raise TypeError(f"detect() takes a str, not {type(text).__name__}")


def _check_item(text: object, index: int, caller: str) -> str:
    """:func:`_check_text` for one item of many: the error names the item's index."""
    if isinstance(text, str):
        return text
    hint = ": decode it first, e.g. data.decode('utf-8')" if isinstance(text, (bytes, bytearray)) else ""
    raise TypeError(f"{caller}(): item {index} is {type(text).__name__}, not str{hint}")


class Detector:
    """A trained propaganda-technique detector.

    Get one with :meth:`load` (the bundled model, or a folder written by
    :meth:`save` or ``propdetect train``) or from ``propdetect.train``.

    Attributes
    ----------
    techniques : tuple of str
        The technique ids this model scores, in the order of its weights.
    thresholds : mapping of str to float
        Per technique, the probability from which it is reported (read-only; see
        :meth:`with_thresholds`).
    propaganda_threshold : float or None
        The propaganda probability from which a sentence is flagged (models with
        an "any technique" head), else ``None``.
    metadata : mapping
        What ``metadata.json`` says: versions, data digest, config, metrics.
    kind : str
        ``"linear"`` (the fast model, or one trained without ``--accurate``) or
        ``"accurate"``.

    Examples
    --------
    >>> Detector.load("accurate").kind
    'accurate'
    >>> det = Detector.load()
    >>> a = det.detect("They are very cruel, they don't spare anyone.")
    >>> a.sentences[0].start, a.sentences[0].end
    (0, 45)
    >>> len(det.techniques)
    14
    """

    def __init__(self, featurizer: Featurizer, arrays: Mapping[str, np.ndarray],
                 metadata: Mapping[str, Any], encoder: EncoderPart | None = None) -> None:
        self._featurizer = featurizer
        techniques = tuple(metadata["techniques"])
        self._heads = Heads.from_arrays(arrays, len(featurizer.vocabulary_))
        self._encoder = encoder
        if encoder is not None:
            if len(encoder.combination.thresholds) != len(techniques):
                raise ModelFormatError("the encoder's combination does not fit the linear model's techniques")
            self._thresholds = encoder.combination.thresholds
            self._any_threshold: float | None = encoder.combination.any_threshold
        else:
            self._thresholds = self._heads.thresholds
            self._any_threshold = self._heads.any_threshold
        self._token_model = (
            TokenModel(arrays["tok_word"], arrays["tok_dense"], arrays["tok_intercept"],
                       featurizer.vectors)
            if "tok_word" in arrays and featurizer.vectors is not None else None
        )
        self._arrays = dict(arrays)
        self.techniques: tuple[str, ...] = techniques
        self._threshold_map: Mapping[str, float] = MappingProxyType(
            dict(zip(techniques, self._thresholds.tolist()))
        )
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata))
        self._evidence_top = int(metadata.get("config", {}).get("evidence_top", 3))
        margin = metadata.get("config", {}).get("evidence_margin")
        self._evidence_margin = float("inf") if margin is None else float(margin)
        # The scoring half (propdetect._scorers): the linear scorer, or with an
        # encoder half (the accurate model) both, combined by its rule.
        linear = LinearScorer(featurizer, self._heads, self._token_model, self._evidence_margin)
        self._scorer: Scorer = linear if encoder is None else AccurateScorer(linear, encoder)

    def __repr__(self) -> str:
        name = self.metadata.get("name", "?")
        return f"<Detector {name!r}: {len(self.techniques)} techniques>"

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Technique id -> the probability from which it is named (read-only)."""
        return self._threshold_map

    @property
    def propaganda_threshold(self) -> float | None:
        """The propaganda probability from which a sentence is flagged, or ``None``
        for a model without an "any technique" head."""
        return self._any_threshold

    @property
    def kind(self) -> str:
        """``"accurate"`` (linear model + encoder) or ``"linear"``."""
        return ACCURATE_KIND if self._encoder is not None else "linear"

    def _as_worker(self) -> None:
        """Called by a worker process (propdetect._pool) before it detects: the
        encoder, if any, takes one onnxruntime thread, since the workers share the cores."""
        if self._encoder is not None and self._encoder.scorer.threads is None:
            self._encoder.scorer.threads = 1

    def _decide(self, p: np.ndarray, p_any: np.ndarray | None) -> np.ndarray:
        """Which techniques each sentence names, with this detector's thresholds."""
        return decide(p, self._thresholds, p_any, self._any_threshold)

    def with_thresholds(self, thresholds: float | Mapping[str, float]) -> Detector:
        """A detector that decides with other thresholds (this one is unchanged).

        Parameters
        ----------
        thresholds : float or mapping
            One probability for every technique and for the propaganda flag, or a
            mapping from technique ids (or any name :func:`propdetect.technique`
            resolves) to probabilities; the key ``"propaganda"`` sets the flag's
            threshold. Higher means fewer, surer flags.

        Returns
        -------
        Detector
            Sharing this one's weights; :meth:`save` writes the new thresholds.

        Raises
        ------
        ValueError
            A value outside [0, 1], or a technique this model does not score.

        Examples
        --------
        >>> det = Detector.load()
        >>> strict = det.with_thresholds({"loaded_language": 0.9, "propaganda": 0.8})
        >>> strict.thresholds["loaded_language"], strict.propaganda_threshold
        (0.9, 0.8)
        >>> det.with_thresholds(0.5).thresholds["doubt"]
        0.5
        """
        from ._taxonomy import UnknownTechniqueError, technique

        thr = self._thresholds.copy()
        any_thr = self._any_threshold
        if isinstance(thresholds, Mapping):
            items = list(thresholds.items())
        else:
            items = [(t, thresholds) for t in self.techniques] + [("propaganda", thresholds)]
        for key, value in items:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for {key!r} must be a probability in [0, 1], got {value!r}")
            if key == "propaganda":
                if any_thr is not None:
                    any_thr = float(value)
                elif isinstance(thresholds, Mapping):
                    raise ValueError("this model has no 'any technique' head: no 'propaganda' threshold")
                continue
            try:
                tid = technique(key).id
            except UnknownTechniqueError as exc:
                raise ValueError(str(exc)) from None
            if tid not in self.techniques:
                raise ValueError(f"this model does not score {tid!r}; it scores {', '.join(self.techniques)}")
            thr[self.techniques.index(tid)] = float(value)
        if self._encoder is not None:
            part = EncoderPart(self._encoder.scorer, self._encoder.combination.with_thresholds(thr, any_thr),
                               self._encoder.onnx_bytes, self._encoder.tokenizer_json)
            meta = dict(self.metadata)
            meta["combination"] = part.combination.to_dict(self.techniques)
            return type(self)(self._featurizer, self._arrays, meta, part)
        arrays = dict(self._arrays)
        arrays["thresholds"] = thr
        if any_thr is not None and "any_head" in arrays:
            head = np.array(arrays["any_head"], dtype=np.float64)
            head[3] = any_thr
            arrays["any_head"] = head
        return type(self)(self._featurizer, arrays, self.metadata)

    # -- loading and saving ----------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Detector:
        """Load a bundled model by name, or a model folder; with nothing, the default
        bundled model. Bundled models are read once per process and shared.

        Parameters
        ----------
        path : str or path-like, optional
            ``"fast"`` (the linear model, also ``"ptc2020"``), ``"accurate"`` (the
            linear model and a fine-tuned encoder), or a folder written by
            :meth:`save` or ``propdetect train --out`` (a folder whose name is one
            of these words is read as ``./NAME``).

        Raises
        ------
        ModelFormatError
            The folder is missing, incomplete, corrupt or holds a pickle.
        ModelVersionError
            The model's file format is one this version does not read (a model
            written by a newer propdetect).
        """
        if path is None:
            return _bundled(DEFAULT_MODEL)
        if isinstance(path, str) and path in BUNDLED_MODELS:
            return _bundled(path)
        folder = Path(path)
        if is_accurate_folder(folder):
            return _read_accurate(folder)
        meta, vocabulary, arrays = read_model(path)
        return cls._from_parts(meta, vocabulary, arrays)

    @classmethod
    def _from_parts(cls, meta: Mapping[str, Any], vocabulary: list[str],
                    arrays: Mapping[str, np.ndarray], encoder: EncoderPart | None = None,
                    accurate_meta: Mapping[str, Any] | None = None) -> Detector:
        vectors = None
        if "wv_words" in arrays:
            name = (meta.get("word_vectors") or {}).get("name", "custom")
            vectors = WordVectors.from_arrays(dict(arrays), name=name)
        f = Featurizer.from_state(meta.get("config", {}), vocabulary, arrays["idf"],
                                  arrays["dense_mean"], arrays["dense_scale"], vectors,
                                  arrays.get("vec_mean"), arrays.get("vec_scale"))
        if "cue_lift" in arrays and vectors is not None:
            f.set_cues(CueTable(arrays["cue_lift"], vectors), arrays["cue_mean"], arrays["cue_scale"])
        if encoder is not None and accurate_meta is not None:
            if list(accurate_meta.get("techniques", [])) != list(meta["techniques"]):
                raise ModelFormatError("the accurate model's techniques are not its linear model's")
            full = dict(accurate_meta)
            full.setdefault("config", meta.get("config", {}))
            full["linear_metadata"] = dict(meta)
            return cls(f, arrays, full, encoder)
        return cls(f, arrays, meta)

    def _linear_metadata(self) -> dict[str, Any]:
        """The linear half's own metadata (the whole metadata for a linear model)."""
        meta = dict(self.metadata)
        return dict(meta["linear_metadata"]) if "linear_metadata" in meta else meta

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this model to a folder that :meth:`load` reads.

        Returns
        -------
        pathlib.Path
            The folder written. An accurate model's folder holds its linear half
            in full (``linear/``), so that it loads wherever it is copied.
        """
        if self._encoder is not None:
            meta = {k: v for k, v in self.metadata.items() if k != "linear_metadata"}
            linear_meta = self._linear_metadata()
            return write_accurate(path, meta, self._encoder,
                                  lambda folder: write_model(folder, linear_meta, self._featurizer.terms(),
                                                             self._arrays))
        return write_model(path, dict(self.metadata), self._featurizer.terms(), self._arrays)

    # -- scoring ---------------------------------------------------------------
    def _score_block(self, sentences: Sequence[str], stats: DocStats | None,
                     offset: int, before: str = "") -> tuple[np.ndarray, np.ndarray | None, Any]:
        """Probabilities of a block of a document's sentences, the propaganda ones
        (or None) and what the evidence needs (see :class:`propdetect._scorers.Scorer`);
        ``before`` is the sentence before the block."""
        return self._scorer.score(sentences, stats, offset, before)

    def predict_proba_doc(self, sentences: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities for the sentences of one document.

        Parameters
        ----------
        sentences : sequence of str
            The document's sentences, in order (context features use them all).

        Returns
        -------
        ndarray of shape (n_sentences, n_techniques)
        """
        return np.vstack([p for p, _, _ in self._iter_blocks(sentences)] or
                         [np.zeros((0, len(self.techniques)))])

    def _iter_blocks(self, sentences: Sequence[str]):  # noqa: ANN202
        n = len(sentences)
        if n <= _CHUNK:
            yield self._score_block(sentences, None, 0)
            return
        # Long document: count over the whole of it first, then score in blocks,
        # so that memory stays bounded by the block size.
        stats = _doc_stats_chunked(sentences)
        for i in range(0, n, _CHUNK):
            yield self._score_block(sentences[i : i + _CHUNK], stats, i, sentences[i - 1] if i else "")

    def detect(self, text: str) -> Analysis:
        """Find propaganda techniques in each sentence of ``text``.

        Parameters
        ----------
        text : str
            A news article or any text. Offsets in the result index this string.

        Returns
        -------
        Analysis
            One :class:`Sentence` per sentence; blank text gives no sentences.

        Raises
        ------
        TypeError
            If ``text`` is not a ``str``.

        Examples
        --------
        >>> det = Detector.load()
        >>> text = "Breaking news.\\nThey are very cruel, they don't spare anyone."
        >>> [(s.start, s.end) for s in det.detect(text).sentences]
        [(0, 14), (15, 60)]
        """
        text = _check_text(text)
        spans = split_sentences(text)
        if not spans:
            return Analysis(())
        return Analysis(tuple(self._sentences(text, spans)), language_warnings(text))

    def _detect_lazily(self, text: str) -> tuple[Iterator[Sentence], tuple[str, ...]]:
        """``detect(text)`` as ``(sentences, warnings)``, the sentences made block by
        block as they are read: what the sentences of a huge document cost in memory
        is one block's, not the document's. The iterator is single-use."""
        text = _check_text(text)
        spans = split_sentences(text)
        if not spans:
            return iter(()), ()
        return self._sentences(text, spans), language_warnings(text)

    def _sentences(self, text: str, spans: list[tuple[int, int]]) -> Iterator[Sentence]:
        """The sentences of ``text`` (split at ``spans``), scored block by block."""
        ids = self.techniques
        for base, sents, p, p_any, rows, evidences in self._blocks(text, spans):
            n = len(p)
            found: list[tuple[str, ...]] = [()] * n
            evidence: list[Any] = [_NO_EVIDENCE] * n
            for i, ev in zip(rows, evidences):
                # the evidence's keys are the named techniques, in order (both ways)
                found[i] = ev.keys_tuple()
                evidence[i] = ev
            block_spans = spans[base : base + n]
            pa = p_any.tolist() if p_any is not None else [None] * n
            yield from map(_sentence, sents, [a for a, _ in block_spans], [b for _, b in block_spans], found,
                           _Scores._of_rows(ids, p), evidence, pa)

    def _detect_packed(self, text: str) -> tuple[Any, ...]:
        """``_pool._pack(self.detect(text))``, made without the Sentence objects: what
        a worker process sends back (its caller builds the sentences)."""
        text = _check_text(text)
        spans = split_sentences(text)
        if not spans:
            return (None, None, None, None, ())
        blocks = list(self._blocks(text, spans))
        scores = np.vstack([p for _, _, p, _, _, _ in blocks]).astype(np.float64, copy=False)
        p_any = [p_any for _, _, _, p_any, _, _ in blocks]
        propaganda = None if p_any[0] is None else np.concatenate(p_any).astype(np.float64, copy=False)
        # a sentence is flagged when its evidence names techniques (as in _sentences)
        flagged = ((base + i, ev.keys_tuple(), ev) for base, _, _, _, rows, evidence in blocks
                   for i, ev in zip(rows, evidence) if ev.keys_tuple())
        return packed(np.array(spans, dtype=np.int64).reshape(-1, 2), scores, propaganda, flagged,
                      language_warnings(text))

    def _blocks(self, text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[Any, ...]]:
        """Per block of sentences: ``(base, texts, p, p_any, rows, evidence)``: the
        index of its first sentence, their texts, the probabilities (read-only), the
        "any technique" ones (or None), and the flagged rows (block indices, in
        order) with the evidence of each, whose keys are its techniques."""
        sents = [text[a:b] for a, b in spans]
        thr = self._thresholds
        base = 0
        for p, p_any, X in self._iter_blocks(sents):
            n = len(p)
            # Each Sentence's scores are a read-only view of its row of this block
            # (see _results._Scores): ~80 bytes a sentence instead of a 14-key dict.
            p.flags.writeable = False
            named = self._decide(p, p_any)
            # Techniques each flagged sentence names, most confident first: highest
            # probability relative to its threshold, ties in technique order.
            rows: list[int] = []
            evidence: list[_Evidence] = []
            row, k = np.nonzero(named)
            if len(row):
                minus_rel = (-(p / np.maximum(thr, 1e-12))[row, k]).tolist()
                ks: list[list[int]] = []
                for i, _, kk in sorted(zip(row.tolist(), minus_rel, k.tolist())):
                    if rows and rows[-1] == i:
                        ks[-1].append(kk)
                    else:
                        rows.append(i)
                        ks.append([kk])
                evidence = self._evidence(sents[base : base + n], spans[base : base + n], X, rows, ks)
            yield base, sents[base : base + n], p, p_any, rows, evidence
            base += n

    def _evidence(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]], state: Any,
                  rows: list[int], ks: list[list[int]]) -> list[_Evidence]:
        """The spans that carry each named technique, for the flagged sentences
        ``rows`` of a block (techniques ``ks[j]`` for ``rows[j]``), from the scorer."""
        return self._scorer.evidence(sentences, spans, state, rows, ks, self.techniques, self._evidence_top)

    def detect_many(self, texts: Iterable[str], n_jobs: int | None = None,
                    batch_size: int | None = None) -> list[Analysis]:
        """Run :meth:`detect` over many texts, in order, on several cores or a cluster.

        The texts are cut into batches that joblib runs in worker processes (or on
        whatever backend a ``joblib.parallel_backend(...)`` block selects, e.g.
        ``"dask"``). Each worker receives the model once and keeps it, keyed by a
        digest of its weights, so batches carry only texts. The results are the
        same as ``[self.detect(t) for t in texts]``.

        Asking for workers never costs time (:mod:`propdetect._pool`): texts
        that add up to less than 600,000 characters (20,000 when the workers
        are already running) are detected in this process and start no
        workers; the worker processes stay up after the call (joblib's reusable
        loky executor), with the model decoded, so the next call pays neither;
        and a call that starts them detects its first texts here meanwhile.

        Parameters
        ----------
        texts : iterable of str
            The texts; a single ``str`` is refused (use :meth:`detect`).
        n_jobs : int, optional
            Parallel workers, as in scikit-learn: ``None`` means 1 unless a
            ``joblib.parallel_backend`` context says otherwise; ``-1`` uses every
            core (or every Dask worker thread).
        batch_size : int, optional
            At most this many texts per task sent to a worker. By default tasks
            are cut by length only: about 40,000 characters on local workers,
            up to 320,000 on Dask (where a task costs more), so that the workers
            finish together whatever the texts' lengths.

        Returns
        -------
        list of Analysis
            One per text, in input order.

        Raises
        ------
        TypeError
            If ``texts`` is a single string, or holds something other than ``str``
            (the message names the item's index).

        See Also
        --------
        propdetect._stream.iter_detect : the lazy variant, for inputs that do not
            fit in memory.

        Examples
        --------
        >>> det = Detector.load()
        >>> texts = ["They are very cruel, they don't spare anyone.", "", "Rain. Sun."]
        >>> [len(a.sentences) for a in det.detect_many(texts)]
        [1, 0, 2]
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("detect_many() takes an iterable of texts; for one text use detect()")
        texts = [_check_item(t, i, "detect_many") for i, t in enumerate(texts)]
        # The whole list is in memory already: one joblib call, no window limit.
        return [a for _, a in imap(self, texts, CODEC, n_jobs=n_jobs, batch_size=batch_size,
                                   max_in_flight=None)]

    def iter_detect(self, texts: Iterable[str], n_jobs: int | None = None,
                    batch_size: int | None = None) -> Iterable[Analysis]:
        """The lazy :meth:`detect_many`, for inputs that do not fit in memory.

        ``texts`` is read at most a window ahead of the results (32 batches per
        worker, at most 8 million characters), and each :class:`Analysis` is
        yielded, in input order, as soon as it is done: memory stays flat
        whatever the length of the input, e.g. an endless generator of lines.
        An input that ends within the small-input budget of :meth:`detect_many`
        runs here.

        Parameters
        ----------
        texts : iterable of str
            Consumed lazily; a single ``str`` is refused (use :meth:`detect`).
        n_jobs : int, optional
            Parallel workers, as for :meth:`detect_many`.
        batch_size : int, optional
            At most this many texts per task sent to a worker (default: tasks
            cut by length, as for :meth:`detect_many`).

        Yields
        ------
        Analysis
            One per text, in input order; the same as :meth:`detect` would give.

        Raises
        ------
        TypeError
            If ``texts`` is a single string (at once), or when an item that is
            not a ``str`` is reached.

        Examples
        --------
        >>> det = Detector.load()
        >>> lines = (f"Sentence number {i}. And another." for i in range(10**9))  # endless, lazily
        >>> analyses = det.iter_detect(lines)
        >>> [len(next(analyses).sentences) for _ in range(3)]
        [2, 2, 2]
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("iter_detect() takes an iterable of texts; for one text use detect()")
        checked = (_check_item(t, i, "iter_detect") for i, t in enumerate(texts))
        return (a for _, a in imap(self, checked, CODEC, n_jobs=n_jobs, batch_size=batch_size))


def _as_bytes_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8)


def _encode_model(det: Detector) -> np.ndarray:
    """The model as one uint8 array (an ``.npz`` of its arrays, metadata and
    vocabulary, and an accurate model's encoder files: no pickle), for :data:`CODEC`."""
    buf = io.BytesIO()
    extra: dict[str, np.ndarray] = {}
    if det._encoder is not None:
        meta = {k: v for k, v in det.metadata.items() if k != "linear_metadata"}
        extra = {"__accurate__": _as_bytes_array(json.dumps(meta).encode()),
                 "__encoder__": _as_bytes_array(det._encoder.onnx_bytes),
                 "__tokenizer__": _as_bytes_array(det._encoder.tokenizer_json.encode())}
    np.savez(buf, **det._arrays, **extra,
             __metadata__=_as_bytes_array(json.dumps(det._linear_metadata()).encode()),
             __vocabulary__=_as_bytes_array("\n".join(det._featurizer.terms()).encode()))
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


def _decode_model(blob: np.ndarray) -> Detector:
    """:func:`_encode_model` undone, in a worker."""
    with np.load(io.BytesIO(bytes(memoryview(blob))), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__metadata__").tobytes().decode())
    vocab_text = arrays.pop("__vocabulary__").tobytes().decode()
    encoder = accurate = None
    if "__accurate__" in arrays:
        from ._accurate import Combination
        from ._encoder import EncoderScorer

        accurate = json.loads(arrays.pop("__accurate__").tobytes().decode())
        onnx_bytes = arrays.pop("__encoder__").tobytes()
        tokenizer_json = arrays.pop("__tokenizer__").tobytes().decode()
        encoder = EncoderPart(EncoderScorer(onnx_bytes, tokenizer_json, accurate["encoder"].get("runtime", {})),
                              Combination.from_dict(accurate["combination"], accurate["techniques"],
                                                    accurate["encoder"].get("outputs") or [], "worker"),
                              onnx_bytes, tokenizer_json)
    return Detector._from_parts(meta, vocab_text.split("\n") if vocab_text else [], arrays, encoder, accurate)


#: How a Detector travels to worker processes (see :mod:`propdetect._pool`).
CODEC = ModelCodec(_encode_model, _decode_model)


def _doc_stats_chunked(sentences: Sequence[str]) -> DocStats:
    """:func:`doc_stats` of a long document, tokenising one block at a time.

    Document frequencies add up over blocks, so the result is the same as
    ``doc_stats([tokenize(s) for s in sentences])`` without holding every token of
    the document at once (about 12 bytes of text become 60 bytes of token objects).
    """
    word_df: Counter[str] = Counter()
    bigram_df: Counter[tuple[str, str]] = Counter()
    for i in range(0, len(sentences), _CHUNK):
        block = doc_stats([tokenize(s) for s in sentences[i : i + _CHUNK]])
        word_df.update(block.word_df)
        bigram_df.update(block.bigram_df)
    return DocStats(len(sentences), word_df, bigram_df)


_lock = threading.Lock()
_cache: dict[str, Detector] = {}


def bundled_model_path(name: str = BUNDLED_MODEL) -> Path:
    """The folder of a bundled model (by a name of :data:`BUNDLED_MODELS`) inside
    the installed package."""
    try:
        folder = BUNDLED_MODELS[name]
    except KeyError:
        raise ValueError(f"no bundled model {name!r}; the bundled models are "
                         f"{', '.join(sorted(BUNDLED_MODELS))}") from None
    return Path(str(resources.files("propdetect") / "models" / folder))


def _read_accurate(folder: Path, read_linear: Callable[[Path], Any] = read_model) -> Detector:
    meta, linear_folder, part = read_accurate(folder, bundled_model_path)
    lmeta, vocabulary, arrays = read_linear(linear_folder)
    return Detector._from_parts(lmeta, vocabulary, arrays, part, meta)


# What read_model gave for a bundled linear model, by folder: the fast model and the
# accurate model's linear half share its arrays, read once (a process that loads both:
# 180 -> 161 MB). Filled under _lock; the arrays are never written to.
_linear_parts: dict[str, Any] = {}


def _bundled_linear(folder: Path) -> Any:
    parts = _linear_parts.get(str(folder))
    if parts is None:
        parts = _linear_parts[str(folder)] = read_model(folder)
    return parts


def _bundled(name: str = DEFAULT_MODEL) -> Detector:
    folder = BUNDLED_MODELS.get(name, name)
    with _lock:
        det = _cache.get(folder)
        if det is None:
            path = bundled_model_path(name)
            if folder == BUNDLED_MODEL:
                det = Detector._from_parts(*_bundled_linear(path))
            else:
                det = _read_accurate(path, _bundled_linear)
            _cache[folder] = det
        return det


def detect(text: str) -> Analysis:
    """Find propaganda techniques in ``text`` with the default bundled model
    (:data:`DEFAULT_MODEL`; ``Detector.load("accurate").detect`` for the other).

    The model is loaded on the first call and kept for the life of the process.

    Parameters
    ----------
    text : str

    Returns
    -------
    Analysis

    Examples
    --------
    >>> import propdetect
    >>> analysis = propdetect.detect("They are very cruel, they don't spare anyone.")
    >>> s = analysis.sentences[0]
    >>> s.text == "They are very cruel, they don't spare anyone."[s.start:s.end]
    True
    """
    return _bundled(DEFAULT_MODEL).detect(text)
