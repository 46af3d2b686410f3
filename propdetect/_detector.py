"""Detector: sentence spans -> features -> calibrated scores -> thresholds -> evidence."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ._features import STOPWORDS as _STOPWORDS
from ._features import DocStats, Featurizer, doc_stats, token_spans, tokenize
from ._persist import read_model, write_model
from ._results import Analysis, Sentence, _Scores
from ._sentences import split_sentences

__all__ = ["Detector", "BUNDLED_MODEL"]

#: Name of the model folder shipped inside the package (``propdetect/models/``).
BUNDLED_MODEL = "ptc2020"

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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sparse_dot(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                weights: np.ndarray) -> np.ndarray:
    """Rows of a CSR matrix times a dense matrix, with NumPy only."""
    n = len(indptr) - 1
    out = np.zeros((n, weights.shape[1]), dtype=np.float64)
    if len(indices) == 0:
        return out
    contrib = weights[indices] * data[:, None]
    nonempty = indptr[1:] > indptr[:-1]
    out[nonempty] = np.add.reduceat(contrib, indptr[:-1][nonempty], axis=0)
    return out


class Detector:
    """A trained propaganda-technique detector.

    Get one with :meth:`load` (the bundled model, or a folder written by
    :meth:`save` or ``propdetect train``) or from ``propdetect.train``.

    Attributes
    ----------
    techniques : tuple of str
        The technique ids this model scores, in the order of its weights.
    thresholds : mapping of str to float
        Per technique, the probability from which it is reported.
    metadata : mapping
        What ``metadata.json`` says: versions, data digest, config, metrics.

    Examples
    --------
    >>> det = Detector.load()
    >>> a = det.detect("They are very cruel, they don't spare anyone.")
    >>> a.sentences[0].start, a.sentences[0].end
    (0, 45)
    >>> len(det.techniques)
    14
    """

    def __init__(self, featurizer: Featurizer, arrays: Mapping[str, np.ndarray],
                 metadata: Mapping[str, Any]) -> None:
        self._featurizer = featurizer
        techniques = tuple(metadata["techniques"])
        n_terms = len(featurizer.vocabulary_)
        coef = np.asarray(arrays["coef"], dtype=np.float32)
        self._coef_lex = coef[:n_terms]
        self._coef_dense = coef[n_terms:].astype(np.float64)
        self._intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        self._calib_a = np.asarray(arrays["calib_a"], dtype=np.float64)
        self._calib_b = np.asarray(arrays["calib_b"], dtype=np.float64)
        self._thresholds = np.asarray(arrays["thresholds"], dtype=np.float64)
        self._arrays = dict(arrays)
        self._word_cache: dict[str, tuple[np.ndarray, int]] = {}
        self.techniques: tuple[str, ...] = techniques
        self.thresholds: Mapping[str, float] = MappingProxyType(
            dict(zip(techniques, self._thresholds.tolist()))
        )
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata))
        self._evidence_top = int(metadata.get("config", {}).get("evidence_top", 3))

    def __repr__(self) -> str:
        name = self.metadata.get("name", "?")
        return f"<Detector {name!r}: {len(self.techniques)} techniques>"

    # -- loading and saving ----------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Detector:
        """Load a model folder; with no path, the bundled model (cached per process).

        Parameters
        ----------
        path : str or path-like, optional
            A folder written by :meth:`save` or ``propdetect train --out``.

        Raises
        ------
        ModelFormatError
            The folder is missing, incomplete, corrupt or holds a pickle.
        ModelVersionError
            The model needs another scikit-learn minor version or file format.
        """
        if path is None:
            return _bundled()
        meta, vocabulary, arrays = read_model(path)
        return cls._from_parts(meta, vocabulary, arrays)

    @classmethod
    def _from_parts(cls, meta: Mapping[str, Any], vocabulary: list[str],
                    arrays: Mapping[str, np.ndarray]) -> Detector:
        f = Featurizer.from_state(meta.get("config", {}), vocabulary, arrays["idf"],
                                  arrays["dense_mean"], arrays["dense_scale"])
        return cls(f, arrays, meta)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this model to a folder that :meth:`load` reads.

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        return write_model(path, dict(self.metadata), self._featurizer.terms(), self._arrays)

    # -- scoring ---------------------------------------------------------------
    def _score_block(self, sentences: Sequence[str], stats: DocStats | None,
                     offset: int) -> tuple[np.ndarray, Any]:
        X, D = self._featurizer.transform_doc(sentences, stats, offset)
        z = _sparse_dot(X.indptr, X.indices, X.data, self._coef_lex)
        z += D @ self._coef_dense
        z += self._intercept
        p = _sigmoid(self._calib_a * z + self._calib_b)
        return p, X

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
        return np.vstack([p for p, _ in self._iter_blocks(sentences)] or
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
            yield self._score_block(sentences[i : i + _CHUNK], stats, i)

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
        sents = [text[a:b] for a, b in spans]
        ids = self.techniques
        thr = self._thresholds
        out: list[Sentence] = []
        base = 0
        for p, X in self._iter_blocks(sents):
            # Each Sentence's scores are a read-only view of its row of this block
            # (see _results._Scores): ~80 bytes a sentence instead of a 14-key dict.
            p.flags.writeable = False
            above = p >= thr
            for i in range(len(p)):
                a, b = spans[base + i]
                found: tuple[str, ...] = ()
                evidence: dict[str, list[tuple[int, int]]] = {}
                if above[i].any():
                    row = p[i]
                    ks = sorted(np.flatnonzero(above[i]).tolist(), key=lambda k: -row[k])
                    found = tuple(ids[k] for k in ks)
                    evidence = self._evidence(sents[base + i], a, X, i, ks)
                out.append(Sentence(sents[base + i], a, b, found,
                                    _Scores._of_row(ids, p, i), evidence))
            base += len(p)
        return Analysis(tuple(out))

    def _word_features(self, word: str) -> tuple[np.ndarray, int]:
        """Columns of a word's unigram and char n-grams (cached), and how many of
        them (at the end) are char n-grams."""
        hit = self._word_cache.get(word)
        if hit is None:
            f = self._featurizer
            j = f.vocabulary_.get(word)
            head = [j] if j is not None and j < f.n_word_terms_ else []
            chars = sorted(set(f._char_ids(word))) if f.char_ngrams and word[0].isalpha() else []
            hit = (np.asarray(head + chars, dtype=np.int64), len(chars))
            if len(self._word_cache) >= 100_000:  # bounded on endless new words
                self._word_cache.clear()
            self._word_cache[word] = hit
        return hit

    def _evidence(self, sentence: str, offset: int, X: Any, row: int,
                  ks: list[int]) -> dict[str, list[tuple[int, int]]]:
        """The words of the sentence that add most to each technique's score.

        The model is linear, so a technique's score is a sum of one term per
        feature (weight x TF-IDF value). Those terms are gathered into units a
        reader can see: each word (its unigram plus, split evenly among the words
        that contain it, each of its character n-grams) and each word n-gram.
        The ``evidence_top`` units that add most, if they add anything, are the
        evidence; function words alone ("as", "as a") are never evidence.
        """
        f = self._featurizer
        vocab = f.vocabulary_
        lo, hi = X.indptr[row], X.indptr[row + 1]
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        if len(cols) == 0:
            return {self.techniques[k]: [] for k in ks}
        toks = token_spans(sentence)
        words = [t for t, _, _ in toks]
        n_word = f.n_word_terms_
        # Each unit is a visible span; its score is the sum of the terms of its
        # features: (unit, feature, share) triples, char n-grams shared out
        # among the words that contain them.
        spans: list[tuple[int, int]] = []
        feats: list[np.ndarray] = []
        n_char: list[int] = []
        for i, w in enumerate(words):
            if w in _STOPWORDS:
                continue
            fw, nc = self._word_features(w)
            spans.append((toks[i][1], toks[i][2]))
            feats.append(fw)
            n_char.append(nc)
        n_units_words = len(spans)
        bigram_feats: list[int] = []
        for n in range(2, f.ngram_max + 1):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if all(w in _STOPWORDS for w in gram):
                    continue
                j = vocab.get(" ".join(gram))
                if j is not None and j < n_word:
                    bigram_feats.append(j)
                    spans.append((toks[i][1], toks[i + n - 1][2]))
        lengths = [len(x) for x in feats]
        u_idx = np.concatenate([
            np.repeat(np.arange(n_units_words), lengths),
            np.arange(n_units_words, len(spans)),
        ]).astype(np.int64)
        u_feat = np.concatenate([*feats, np.asarray(bigram_feats, dtype=np.int64)]).astype(np.int64)
        # the last n_char[u] features of a word unit are its char n-grams
        u_char = np.zeros(len(u_feat), dtype=bool)
        at = 0
        for ln, nc in zip(lengths, n_char):
            u_char[at + ln - nc : at + ln] = True
            at += ln
        out: dict[str, list[tuple[int, int]]] = {}
        if not len(u_feat):
            return {self.techniques[k]: [] for k in ks}
        pos = np.minimum(np.searchsorted(cols, u_feat), len(cols) - 1)
        ok = cols[pos] == u_feat
        unit, pos, is_char = u_idx[ok], pos[ok], u_char[ok]
        # A char n-gram found in m words gives each of them 1/m of its term.
        mult = np.bincount(pos[is_char], minlength=len(cols))
        share = np.where(is_char, 1.0 / np.maximum(mult[pos], 1), 1.0)
        terms = self._coef_lex[cols][:, ks] * vals[:, None]  # (features, len(ks))
        # (units, len(ks)); linear in the sentence
        w = terms[pos] * share[:, None]
        scores = np.column_stack([np.bincount(unit, weights=w[:, c], minlength=len(spans))
                                  for c in range(len(ks))])
        top = self._evidence_top
        for c, k in enumerate(ks):
            order = np.argsort(-scores[:, c], kind="stable")[:top]
            chosen = [spans[u] for u in order.tolist() if scores[u, c] > 0]
            out[self.techniques[k]] = _merge(sorted(chosen), offset)
        return out

    def detect_many(self, texts: Iterable[str], n_jobs: int | None = None,
                    batch_size: int = 32) -> list[Analysis]:
        """Run :meth:`detect` over many texts, in order, on several cores or a cluster.

        The texts are cut into batches that joblib runs in worker processes (or on
        whatever backend a ``joblib.parallel_backend(...)`` block selects, e.g.
        ``"dask"``). Each worker receives the model once and keeps it, keyed by a
        digest of its weights, so batches carry only texts. The results are the
        same as ``[self.detect(t) for t in texts]``.

        Parameters
        ----------
        texts : iterable of str
            The texts; a single ``str`` is refused (use :meth:`detect`).
        n_jobs : int, optional
            Parallel workers, as in scikit-learn: ``None`` means 1 unless a
            ``joblib.parallel_backend`` context says otherwise; ``-1`` uses every
            core (or every Dask worker thread).
        batch_size : int, default=32
            Texts per task sent to a worker.

        Returns
        -------
        list of Analysis
            One per text, in input order.

        Raises
        ------
        TypeError
            If ``texts`` is a single string, or holds something other than ``str``.

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
        from ._stream import iter_detect

        texts = [_check_text(t) for t in texts]
        # The whole list is in memory already: one joblib call, no window limit.
        return list(iter_detect(self, texts, n_jobs=n_jobs, batch_size=batch_size,
                                max_in_flight=None))

    def iter_detect(self, texts: Iterable[str], n_jobs: int | None = None,
                    batch_size: int = 32) -> Iterable[Analysis]:
        """The lazy :meth:`detect_many`, for inputs that do not fit in memory.

        ``texts`` is read a bounded window at a time (8 batches per worker, at
        most 16 million characters), and each :class:`Analysis` is yielded, in
        input order, as soon as it is done: memory stays flat whatever the length
        of the input, e.g. an endless generator of lines.

        Parameters
        ----------
        texts : iterable of str
            Consumed lazily; a single ``str`` is refused (use :meth:`detect`).
        n_jobs : int, optional
            Parallel workers, as for :meth:`detect_many`.
        batch_size : int, default=32
            Texts per task sent to a worker.

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
        from ._stream import iter_detect

        return iter_detect(self, texts, n_jobs=n_jobs, batch_size=batch_size)


def _detect_batch(digest: str, blob: np.ndarray | None, texts: Sequence[str],
                  capture_errors: bool = False) -> list[Any]:
    """Worker side of :meth:`Detector.detect_many`: detect each text of a batch.

    The model arrives as ``blob`` (bytes in an ndarray, so that joblib memory-maps
    it for local processes and its Dask backend scatters it once per call instead
    of sending it with every batch) and is decoded once per worker process, then
    found again by ``digest``. Analyses do not pickle (their mappings are read-only
    proxies), so each comes back in the compact form of :func:`_pack`; a text that
    fails comes back as its error message when ``capture_errors``.
    """
    det = _worker_detector(digest, blob)
    out: list[Any] = []
    for text in texts:
        try:
            out.append(_pack(det.detect(text)))
        except Exception as exc:  # noqa: BLE001 -- reported per text by the caller
            if not capture_errors:
                raise
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _pack(analysis: Analysis) -> list[tuple[Any, ...]]:
    """Sentences as plain tuples (no text: the caller slices its own copy)."""
    return [(s.start, s.end, s.techniques, list(s.scores.values()),
             {k: list(v) for k, v in s.evidence.items()}) for s in analysis.sentences]


def _unpack(packed: list[tuple[Any, ...]], text: str, ids: Sequence[str]) -> Analysis:
    """Rebuild the :class:`Analysis` that :func:`_pack` flattened."""
    return Analysis(tuple(Sentence(text[a:b], a, b, techs, dict(zip(ids, scores)), evidence)
                          for a, b, techs, scores, evidence in packed))


# Models kept by a worker, by digest; a few, since a long-lived Dask worker may
# serve several models in turn. The process that dispatches registers its own
# detector here too, so thread-based backends never decode a copy.
_MODEL_CACHE_SIZE = 4
_models_lock = threading.Lock()
_models: dict[str, Detector] = {}
_payloads: weakref.WeakKeyDictionary[Detector, tuple[str, np.ndarray]] = weakref.WeakKeyDictionary()


def _model_payload(det: Detector) -> tuple[str, np.ndarray]:
    """``(digest, blob)``: the model as one uint8 array and its SHA-256.

    Built once per detector; the same array object is passed with every batch, so
    that joblib recognises it and ships it once per worker pool.
    """
    with _models_lock:
        cached = _payloads.get(det)
        if cached is None:
            vocabulary = det._featurizer.terms()
            buf = io.BytesIO()
            np.savez(buf, **det._arrays,
                     __metadata__=np.frombuffer(json.dumps(dict(det.metadata)).encode(), np.uint8),
                     __vocabulary__=np.frombuffer("\n".join(vocabulary).encode(), np.uint8))
            blob = np.frombuffer(buf.getvalue(), dtype=np.uint8)
            cached = ("sha256:" + hashlib.sha256(blob).hexdigest(), blob)
            _payloads[det] = cached
        _remember(cached[0], det)
        return cached


def _remember(digest: str, det: Detector) -> None:
    _models.pop(digest, None)
    _models[digest] = det
    while len(_models) > _MODEL_CACHE_SIZE:
        del _models[next(iter(_models))]


def _worker_detector(digest: str, blob: np.ndarray | None) -> Detector:
    with _models_lock:
        det = _models.get(digest)
        if det is not None:
            return det
    if blob is None:
        raise RuntimeError(f"model {digest} is not cached in this worker and was not sent")
    with np.load(io.BytesIO(bytes(memoryview(blob))), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__metadata__").tobytes().decode())
    vocab_text = arrays.pop("__vocabulary__").tobytes().decode()
    det = Detector._from_parts(meta, vocab_text.split("\n") if vocab_text else [], arrays)
    with _models_lock:
        _remember(digest, det)
    return det


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


def _merge(spans: list[tuple[int, int]], offset: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return [(a + offset, b + offset) for a, b in merged]


_lock = threading.Lock()
_cache: dict[str, Detector] = {}


def bundled_model_path() -> Path:
    """The folder of the bundled model inside the installed package."""
    return Path(str(resources.files("propdetect") / "models" / BUNDLED_MODEL))


def _bundled() -> Detector:
    with _lock:
        det = _cache.get(BUNDLED_MODEL)
        if det is None:
            meta, vocabulary, arrays = read_model(bundled_model_path())
            det = Detector._from_parts(meta, vocabulary, arrays)
            _cache[BUNDLED_MODEL] = det
        return det


def detect(text: str) -> Analysis:
    """Find propaganda techniques in ``text`` with the bundled model.

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
    return _bundled().detect(text)
