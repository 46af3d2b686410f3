"""Sentences (and the article around them) -> feature matrix.

Two blocks of features, both computed with plain Python + NumPy so that inference
never imports SciPy or scikit-learn:

* **Lexical** (sparse): lower-cased word n-grams plus the punctuation marks that
  carry propaganda signal (``!``, ``?``, quotes), sub-linear TF times IDF, each row
  L2-normalised, exactly what scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``
  would compute over our tokens.
* **Shape and context** (dense, standardised): length, punctuation, capitals,
  position in the article, and how much of the sentence recurs elsewhere in the
  article (repetition can only be seen with the whole article).

:class:`Featurizer` follows scikit-learn's estimator contract (parameters stored
verbatim in ``__init__``, fitted attributes end in ``_``, ``fit`` returns ``self``).
Its input is a sequence of *documents*, each a sequence of sentence strings, because
the context features need the article; its rows are the sentences of all documents
in order.

Two ways compute the same numbers, to the bit: :meth:`Featurizer.fit` and small
blocks go token by token (:func:`tokenize`, :func:`ngrams`, :func:`dense_features`);
:meth:`Featurizer.transform_doc` on larger blocks works on token ids from a
:class:`~propdetect._tokens.TokenTable`, with array operations instead of Python
code per token. ``tests/test_fast_paths.py`` holds them to each other.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._tokens import (  # tokenisation lives in _tokens
    ALNUM,
    CHAR_AT,
    CHAR_N,
    CONTENT,
    FLAGS,
    VECTOR,
    Encoded,
    TokenTable,
    _content_words,
    tokenize,
)
from ._vectors import WordVectors

__all__ = [
    "DENSE_FEATURES",
    "DocStats",
    "Featurizer",
    "SparseRows",
    "doc_stats",
    "ngrams",
]

_CAPWORD = re.compile(r"\b[A-Z][a-z]")
_ALLCAPS = re.compile(r"\b[A-Z]{3,}\b")

# Standardised dense features are clipped to +-this many standard deviations.
# (The article's length was a feature once; a one-sentence input sat 6 standard
# deviations from any training article and got flagged for it, so it went.)
_DENSE_CLIP = 5.0

DENSE_FEATURES: tuple[str, ...] = (
    "log_tokens",
    "short",
    "exclamation",
    "question",
    "quote",
    "cap_word_ratio",
    "all_caps",
    "position",
    "is_first",
    "repeated_word_ratio",
    "repeated_bigrams",
)


def ngrams(tokens: list[str], n_max: int) -> list[str]:
    """Return the 1..``n_max``-grams of ``tokens``, joined by spaces."""
    grams = list(tokens)
    for n in range(2, n_max + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass(frozen=True)
class SparseRows:
    """A CSR matrix as plain arrays: row ``i`` is ``indices/data[indptr[i]:indptr[i+1]]``."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int

    def to_scipy(self):  # noqa: ANN201 - scipy is optional at inference
        """Return a ``scipy.sparse.csr_matrix`` (imports SciPy)."""
        from scipy.sparse import csr_matrix

        n_rows = len(self.indptr) - 1
        return csr_matrix(
            (self.data, self.indices, self.indptr), shape=(n_rows, self.n_features)
        )


@dataclass(frozen=True)
class DocStats:
    """What the context features need to know about the whole document."""

    n_sentences: int
    word_df: Counter
    bigram_df: Counter


def doc_stats(tokens: Sequence[list[str]], content: Sequence[list[str]] | None = None) -> DocStats:
    """Count, over one document, in how many sentences each content word and
    content bigram occurs (``content``: the content words of each sentence, if
    already known)."""
    word_df: Counter[str] = Counter()
    bigram_df: Counter[tuple[str, str]] = Counter()
    for words in content if content is not None else map(_content_words, tokens):
        word_df.update(set(words))
        bigram_df.update(set(zip(words, words[1:])))
    return DocStats(len(tokens), word_df, bigram_df)


def dense_features(
    sentences: Sequence[str],
    tokens: Sequence[list[str]],
    stats: DocStats | None = None,
    offset: int = 0,
) -> np.ndarray:
    """Shape and context features of consecutive sentences of one document.

    Parameters
    ----------
    sentences : sequence of str
        Consecutive sentences of one document.
    tokens : sequence of list of str
        Their tokens, as from :func:`tokenize`.
    stats : DocStats, optional
        Counts over the whole document; by default the sentences given are the
        whole document.
    offset : int, default=0
        Index of ``sentences[0]`` in the document.

    Returns
    -------
    ndarray of shape (n_sentences, len(DENSE_FEATURES))
    """
    content = [_content_words(t) for t in tokens]
    if stats is None:
        stats = doc_stats(tokens, content)
    out = np.zeros((len(sentences), len(DENSE_FEATURES)), dtype=np.float64)
    n = max(stats.n_sentences, 1)
    word_df, bigram_df = stats.word_df, stats.bigram_df
    for i, (s, toks, words) in enumerate(zip(sentences, tokens, content)):
        n_tok = len(toks)
        n_words = sum(1 for t in toks if t[0].isalnum()) or 1
        uniq = set(words)
        repeated = sum(1 for w in uniq if word_df[w] > 1)
        rep_bigrams = sum(1 for b in set(zip(words, words[1:])) if bigram_df[b] > 1)
        out[i] = (
            math.log1p(n_tok),
            n_tok <= 6,
            "!" in toks,
            "?" in toks,
            '"' in toks,
            len(_CAPWORD.findall(s)) / n_words,
            bool(_ALLCAPS.search(s)),
            (offset + i) / n,
            offset + i == 0,
            repeated / len(uniq) if uniq else 0.0,
            math.log1p(rep_bigrams),
        )
    return out


def _log1p_ints(values: np.ndarray) -> list[float]:
    # math.log1p, as dense_features computes it: np.log1p may differ in the last bit
    return [math.log1p(v) for v in values.tolist()]


def _dense_encoded(sentences: Sequence[str], enc: Encoded, stats: DocStats | None,
                   offset: int, specials: Sequence[int]) -> np.ndarray:
    """:func:`dense_features` of a block from its token ids, with array operations.

    The same numbers to the last bit (tests/test_features.py checks it): counts
    are exact in float64 and every division is the same IEEE division.
    ``specials`` are the ids of ``!``, ``?`` and ``"`` (-1 if not met yet).
    """
    n_s = len(sentences)
    out = np.zeros((n_s, len(DENSE_FEATURES)), dtype=np.float64)
    if n_s == 0:
        return out
    sent, tids, lengths = enc.sentence, enc.tids, enc.lengths
    flags = enc.facts[:, FLAGS]
    n_words = np.bincount(sent, weights=(flags & ALNUM) > 0, minlength=n_s)
    n_words[n_words == 0] = 1
    out[:, 0] = _log1p_ints(lengths)
    out[:, 1] = lengths <= 6
    for col, tid in zip((2, 3, 4), specials):
        out[:, col] = np.bincount(sent[tids == tid], minlength=n_s) > 0
    out[:, 5] = np.fromiter(map(len, map(_CAPWORD.findall, sentences)), dtype=np.float64,
                            count=n_s) / n_words
    out[:, 6] = [m is not None for m in map(_ALLCAPS.search, sentences)]
    n = max(stats.n_sentences if stats is not None else n_s, 1)
    position = offset + np.arange(n_s)
    out[:, 7] = position / n
    out[:, 8] = position == 0
    # Repetition: distinct content words (and content bigrams) of each sentence,
    # and in how many sentences of the document each occurs.
    content = (flags & CONTENT) > 0
    c_sent, c_tid = sent[content], tids[content]
    n_ids = enc.n_ids
    pairs = np.unique(c_sent * n_ids + c_tid)
    p_sent, p_word = pairs // n_ids, pairs % n_ids
    if stats is None:
        df = np.bincount(p_word, minlength=n_ids)[p_word]
    else:
        words, uniq = enc.words, np.unique(p_word)
        df_of = np.array([stats.word_df[words[w]] for w in uniq.tolist()], dtype=np.int64)
        df = df_of[np.searchsorted(uniq, p_word)]
    n_uniq = np.bincount(p_sent, minlength=n_s)
    repeated = np.bincount(p_sent, weights=df > 1, minlength=n_s)
    out[:, 9] = np.where(n_uniq > 0, repeated / np.maximum(n_uniq, 1), 0.0)
    # consecutive content words of one sentence (zip(words, words[1:]))
    same = c_sent[:-1] == c_sent[1:]
    b_sent = c_sent[:-1][same]
    b_key = c_tid[:-1][same] * n_ids + c_tid[1:][same]
    bigrams, b_id = np.unique(b_key, return_inverse=True)
    per_sent = np.unique(b_sent * max(len(bigrams), 1) + b_id)
    s_sent, s_id = per_sent // max(len(bigrams), 1), per_sent % max(len(bigrams), 1)
    if stats is None:
        b_df = np.bincount(s_id, minlength=len(bigrams))
    else:
        words = enc.words
        b_df = np.array([stats.bigram_df[(words[k // n_ids], words[k % n_ids])] for k in bigrams.tolist()],
                        dtype=np.int64)
    rep_bigrams = np.bincount(s_sent, weights=b_df[s_id] > 1, minlength=n_s).astype(np.int64)
    out[:, 10] = _log1p_ints(rep_bigrams)
    return out


# Dense features that describe the sentence's place in its article.
_CONTEXT_COLUMNS = [
    DENSE_FEATURES.index(n)
    for n in ("position", "is_first", "repeated_word_ratio", "repeated_bigrams")
]

# Prefix of character n-gram keys in the vocabulary (words never start with it).
CHAR_PREFIX = "#"
# Blocks of fewer characters than this are featurised token by token in Python,
# longer ones from token ids with NumPy (TokenTable): below it the fixed cost of
# some sixty NumPy calls exceeds what they save. Measured on this machine (AMD EPYC,
# NumPy 2): the two ways cost the same at about 500 characters (three sentences).
_SMALL_BLOCK_CHARS = 500
# Tokens whose character n-gram columns are cached; cleared when full, so memory
# stays bounded on endless streams of new words.
_CHAR_CACHE_MAX = 200_000
_TABLE_LOCK = threading.Lock()


def _select(df: Counter, min_df: int, max_features: int | None) -> list[tuple[int, str]]:
    """Terms seen at least ``min_df`` times, the ``max_features`` most frequent,
    in alphabetical order (a stable column order, as in scikit-learn)."""
    terms = [(c, t) for t, c in df.items() if c >= min_df]
    terms.sort(key=lambda ct: (-ct[0], ct[1]))
    if max_features is not None:
        terms = terms[:max_features]
    terms.sort(key=lambda ct: ct[1])
    return terms


def _with_char_columns(enc: Encoded, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rows``, ``cols`` and then the character n-gram columns of every token of the
    block that starts with a letter (its ``CHAR_N`` columns from ``CHAR_AT``)."""
    at, n = enc.facts[:, CHAR_AT], enc.facts[:, CHAR_N]
    has = np.flatnonzero(n)
    at, n = at[has], n[has]
    total = int(n.sum())
    # positions at[i], at[i] + 1, ..., at[i] + n[i] - 1 for each token, in one array
    first = np.cumsum(n) - n
    idx = np.repeat(at - first, n) + np.arange(total)
    return (np.concatenate([rows, np.repeat(enc.sentence[has], n)]),
            np.concatenate([cols, enc.chars[idx]]))


class Featurizer:
    """Turn documents (sequences of sentences) into a feature matrix.

    Parameters
    ----------
    ngram_max : int, default=2
        Longest word n-gram in the lexical block.
    min_df : int, default=2
        Keep n-grams that occur in at least this many training sentences.
    max_features : int or None, default=200_000
        Keep at most this many n-grams, the most frequent first.
    char_ngrams : (int, int) or None, default=None
        Range of character n-gram lengths taken inside each word (``None``: none).
        They form their own block, L2-normalised separately from the word block.
    char_min_df : int, default=3
        Keep character n-grams seen in at least this many training sentences.
    char_max_features : int or None, default=150_000
        Keep at most this many character n-grams.
    dense : bool, default=True
        Compute the shape and context block; when False it is all zeros (ablation).
    vectors : WordVectors or None, default=None
        Pretrained word vectors; when given, each sentence also gets the mean, the
        maximum and the SIF-weighted mean of its words' vectors (standardised),
        appended to the dense block.
    vector_weight : float, default=1.0
        Factor applied to the standardised sentence vectors: below 1 regularises
        them more strongly than the other features (150 dense columns let rare
        techniques overfit).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        N-gram -> column of the lexical block: word n-grams first, then character
        n-grams (keys starting with ``#``).
    n_word_terms_ : int
        Number of word n-gram columns.
    idf_ : ndarray of shape (n_terms,)
        Smoothed inverse document frequency, as in scikit-learn.
    dense_mean_, dense_scale_ : ndarray of shape (len(DENSE_FEATURES),)
        Standardisation of the dense block.
    vec_mean_, vec_scale_ : ndarray of shape (vectors.n_features,)
        Standardisation of the sentence vectors (only with ``vectors``).

    Examples
    --------
    >>> docs = [["Traitors everywhere!", "The vote is on Monday."], ["Traitors lie."]]
    >>> f = Featurizer(min_df=1).fit(docs)
    >>> X, D = f.transform_doc(docs[0])
    >>> len(X.indptr) - 1, D.shape
    (2, (2, 11))
    >>> f.transform(docs).shape[0]
    3
    """

    def __init__(
        self,
        ngram_max: int = 2,
        min_df: int = 2,
        max_features: int | None = 200_000,
        char_ngrams: tuple[int, int] | None = None,
        char_min_df: int = 3,
        char_max_features: int | None = 150_000,
        dense: bool = True,
        vectors: WordVectors | None = None,
        vector_weight: float = 1.0,
    ) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.char_max_features = char_max_features
        self.dense = dense
        self.vectors = vectors
        self.vector_weight = vector_weight

    @property
    def n_dense(self) -> int:
        """Columns of the dense block: shape and context, sentence vectors, cues."""
        cues = getattr(self, "cues_", None)
        return (len(DENSE_FEATURES) + (self.vectors.n_features if self.vectors is not None else 0)
                + (cues.n_features if cues is not None else 0))

    def set_cues(self, cues: Any, mean: np.ndarray, scale: np.ndarray) -> Featurizer:
        """Append span cue features (a :class:`~propdetect._cues.CueTable`),
        standardised by ``mean`` and ``scale``, to the dense block. Training
        computes them out of fold, so they are set after :meth:`fit`."""
        self.cues_ = cues
        self.cue_mean_ = np.asarray(mean, dtype=np.float64)
        self.cue_scale_ = np.asarray(scale, dtype=np.float64)
        return self

    # -- character n-grams -------------------------------------------------------
    def _char_grams(self, token: str) -> list[str]:
        """Character n-grams of one word, padded with spaces as in scikit-learn's
        ``char_wb`` analyzer, prefixed with ``#`` so they never collide with words."""
        lo, hi = self.char_ngrams  # type: ignore[misc]
        padded = f" {token} "
        return [
            CHAR_PREFIX + padded[i : i + n]
            for n in range(lo, hi + 1)
            for i in range(len(padded) - n + 1)
        ]

    def _char_ids(self, token: str) -> list[int]:
        """Columns of a token's known character n-grams, cached per token: news
        vocabulary is Zipfian, so the cache turns the n-gram scan into one lookup
        for nearly every token."""
        ids = self._char_cache.get(token)
        if ids is None:
            get = self.vocabulary_.get
            ids = [j for j in map(get, self._char_grams(token)) if j is not None]
            if len(self._char_cache) >= _CHAR_CACHE_MAX:
                self._char_cache.clear()
            self._char_cache[token] = ids
        return ids

    # -- fitting ---------------------------------------------------------------
    def fit(self, docs: Sequence[Sequence[str]]) -> Featurizer:
        """Learn the vocabulary, IDF and dense scaling from training documents."""
        if self.ngram_max < 1:
            raise ValueError(f"ngram_max must be >= 1, got {self.ngram_max}")
        df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        grams_of: dict[str, list[str]] = {}
        n_sent = 0
        dense_blocks = []
        vec_blocks = []
        for doc in docs:
            toks = [tokenize(s) for s in doc]
            for t in toks:
                df.update(set(ngrams(t, self.ngram_max)))
                if self.char_ngrams:
                    grams: set[str] = set()
                    for tok in t:
                        if tok[0].isalpha():
                            g = grams_of.get(tok)
                            if g is None:
                                g = grams_of[tok] = self._char_grams(tok)
                            grams.update(g)
                    char_df.update(grams)
            n_sent += len(doc)
            if self.dense:
                dense_blocks.append(dense_features(doc, toks))
            if self.vectors is not None:
                vec_blocks.append(self.vectors.pool(toks))
        if n_sent == 0:
            raise ValueError("cannot fit a Featurizer on no sentences")
        terms = _select(df, self.min_df, self.max_features)
        self.n_word_terms_ = len(terms)
        if self.char_ngrams:
            terms += _select(char_df, self.char_min_df, self.char_max_features)
        self.vocabulary_ = {t: i for i, (_, t) in enumerate(terms)}
        self._char_cache: dict[str, list[int]] = {}
        counts = np.array([c for c, _ in terms], dtype=np.float64)
        # Smoothed IDF exactly as TfidfVectorizer(smooth_idf=True).
        self.idf_ = (np.log((1 + n_sent) / (1 + counts)) + 1.0).astype(np.float32)
        dense = np.vstack(dense_blocks) if dense_blocks else np.zeros((1, len(DENSE_FEATURES)))
        self.dense_mean_ = dense.mean(axis=0)
        scale = dense.std(axis=0)
        # A feature constant in training (e.g. every article of the same length)
        # has a std of ~1e-16 from rounding: scale it by 1, not by that.
        self.dense_scale_ = np.where(scale > 1e-6, scale, 1.0)
        if self.vectors is not None:
            vec = np.vstack(vec_blocks)
            self.vec_mean_ = vec.mean(axis=0)
            vscale = vec.std(axis=0)
            self.vec_scale_ = np.where(vscale > 1e-6, vscale, 1.0)
        return self

    @classmethod
    def from_config(cls, config: dict, vectors: WordVectors | None = None) -> Featurizer:
        """An unfitted featurizer with the feature options of a training config
        (``TrainingConfig.to_dict()`` or a model's ``metadata["config"]``) and the
        word vectors it names, if any."""
        chars = config.get("char_ngrams")
        return cls(
            ngram_max=int(config.get("ngram_max", 2)),
            min_df=int(config.get("min_df", 2)),
            max_features=config.get("max_features"),
            char_ngrams=tuple(chars) if chars else None,  # type: ignore[arg-type]
            char_min_df=int(config.get("char_min_df", 3)),
            char_max_features=config.get("char_max_features"),
            dense=bool(config.get("dense_features", True)),
            vectors=vectors,
            vector_weight=float(config.get("vector_weight", 1.0)),
        )

    @classmethod
    def from_state(cls, config: dict, vocabulary: Sequence[str], idf: np.ndarray,
                   dense_mean: np.ndarray, dense_scale: np.ndarray,
                   vectors: WordVectors | None = None, vec_mean: np.ndarray | None = None,
                   vec_scale: np.ndarray | None = None) -> Featurizer:
        """Rebuild a fitted featurizer from a saved model's config and arrays.

        ``vocabulary`` lists the columns in order: word n-grams, then character
        n-grams (keys starting with ``#``).
        """
        f = cls.from_config(config, vectors)
        if vectors is not None:
            f.vec_mean_ = np.asarray(vec_mean, dtype=np.float64)
            f.vec_scale_ = np.asarray(vec_scale, dtype=np.float64)
        f.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
        n_word = len(vocabulary)
        for i, t in enumerate(vocabulary):
            if t.startswith(CHAR_PREFIX):
                n_word = i
                break
        if any(not t.startswith(CHAR_PREFIX) for t in vocabulary[n_word:]):
            raise ValueError("vocabulary must list word n-grams before character n-grams")
        f.n_word_terms_ = n_word
        f._char_cache = {}
        f.idf_ = np.asarray(idf, dtype=np.float32)
        f.dense_mean_ = np.asarray(dense_mean, dtype=np.float64)
        f.dense_scale_ = np.asarray(dense_scale, dtype=np.float64)
        return f

    def terms(self) -> list[str]:
        """The vocabulary as a list in column order (what ``vocabulary.txt`` holds)."""
        self._check_fitted()
        out = [""] * len(self.vocabulary_)
        for term, i in self.vocabulary_.items():
            out[i] = term
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise RuntimeError("this Featurizer is not fitted yet: call fit() first")

    # -- transforming ----------------------------------------------------------
    def transform_doc(
        self, sentences: Sequence[str], stats: DocStats | None = None, offset: int = 0
    ) -> tuple[SparseRows, np.ndarray]:
        """Features of the sentences of one document (or of a chunk of it).

        Parameters
        ----------
        sentences : sequence of str
            The sentences of one document, or consecutive sentences of it.
        stats : DocStats, optional
            Counts over the whole document when ``sentences`` is only a chunk.
        offset : int, default=0
            Index of ``sentences[0]`` in the document.

        Returns
        -------
        X : SparseRows
            The lexical block, one row per sentence.
        D : ndarray of shape (n_sentences, n_dense)
            The standardised dense block: shape and context, then sentence vectors.
        """
        self._check_fitted()
        toks = None
        if sum(map(len, sentences)) < _SMALL_BLOCK_CHARS:
            # A few sentences: Python per token costs less than NumPy per call.
            toks = [tokenize(s) for s in sentences]
            X = self._tfidf(*self._lexical_ids(toks), len(sentences))
            dense = dense_features(sentences, toks, stats, offset) if self.dense else None
            pooled = self.vectors.pool(toks) if self.vectors is not None else None
        else:
            table = self._token_table()
            enc = table.encode(sentences)
            rows, cols = table.ngram_columns(enc)
            if self.n_word_terms_ < len(self.vocabulary_):  # character n-grams
                rows, cols = _with_char_columns(enc, rows, cols)
            X = self._tfidf(cols, rows, len(sentences))
            dense = None
            if self.dense:
                specials = [enc.index.get(t, -1) for t in '!?"']
                dense = _dense_encoded(sentences, enc, stats, offset, specials)
            pooled = None
            if self.vectors is not None:
                pooled = self.vectors.pool_ids(enc.facts[:, VECTOR], enc.sentence, len(sentences))
        D = self._dense_block(sentences, dense, stats)
        blocks = [D]
        if pooled is not None:
            V = (pooled - self.vec_mean_) / self.vec_scale_
            np.clip(V, -_DENSE_CLIP, _DENSE_CLIP, out=V)
            blocks.append(V * self.vector_weight)
        cues = getattr(self, "cues_", None)
        if cues is not None:
            if toks is None:
                toks = [tokenize(s) for s in sentences]
            blocks.append((cues.features(toks) - self.cue_mean_) / self.cue_scale_)
        if cues is not None:
            np.clip(blocks[-1], -_DENSE_CLIP, _DENSE_CLIP, out=blocks[-1])
        return X, np.hstack(blocks) if len(blocks) > 1 else D

    def _lexical_ids(self, toks: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the word and character n-grams of each sentence's tokens, and
        the row of each (the per-token way, for small blocks)."""
        vocab_get = self.vocabulary_.get
        n_max = self.ngram_max
        row_ids: list[int] = []
        lengths = []
        use_chars = self.n_word_terms_ < len(self.vocabulary_)
        char_ids = self._char_ids
        for t in toks:
            ids = [j for j in map(vocab_get, ngrams(t, n_max)) if j is not None]
            if use_chars:
                for tok in t:
                    if tok[0].isalpha():
                        ids.extend(char_ids(tok))
            row_ids.extend(ids)
            lengths.append(len(ids))
        rows = np.repeat(np.arange(len(toks), dtype=np.int64), lengths)
        return np.asarray(row_ids, dtype=np.int64), rows

    def _token_table(self) -> TokenTable:
        """This featurizer's :class:`~propdetect._tokens.TokenTable`, made on first use
        and again whenever the vocabulary or the vectors were replaced (a new fit)."""
        table = getattr(self, "_tokens", None)
        if not self._fits(table):
            # Made once, not once per thread that comes first (a few hundred ms of the
            # vocabulary's n-grams each): threads share one detector.
            with _TABLE_LOCK:
                table = getattr(self, "_tokens", None)
                if not self._fits(table):
                    chars = self.n_word_terms_ < len(self.vocabulary_)
                    table = TokenTable(self.vocabulary_, self.n_word_terms_, self.ngram_max,
                                       self._char_grams if chars else None, self.vectors)
                    self._tokens = table
        return table

    def _fits(self, table: TokenTable | None) -> bool:
        return (table is not None and table.vocabulary is self.vocabulary_ and table.vectors is self.vectors
                and table.ngram_max == self.ngram_max and table.n_word_terms == self.n_word_terms_)

    def __getstate__(self) -> dict[str, Any]:
        # The token table is a cache (with a lock, which does not pickle): rebuilt on use.
        state = self.__dict__.copy()
        state.pop("_tokens", None)
        return state

    def _dense_block(self, sentences: Sequence[str], dense: np.ndarray | None,
                     stats: DocStats | None) -> np.ndarray:
        """The shape and context block (``dense_features``' output) standardised."""
        if dense is None:
            return np.zeros((len(sentences), len(DENSE_FEATURES)))
        D = (dense - self.dense_mean_) / self.dense_scale_
        if (stats.n_sentences if stats is not None else len(sentences)) == 1:
            # A lone sentence has no article around it: it is not a title and
            # repeats nothing. Its context features are set to their training
            # average (0 once standardised) instead of "first line, no repetition",
            # which on PTC means "headline" and pushes scores up.
            D[:, _CONTEXT_COLUMNS] = 0.0
        # Text unlike anything in training (a 100,000-word "sentence") must not
        # push a linear score to infinity.
        np.clip(D, -_DENSE_CLIP, _DENSE_CLIP, out=D)
        return D

    def _tfidf(self, ids: np.ndarray, rows: np.ndarray, n_rows: int) -> SparseRows:
        """TF-IDF rows from the column ``ids`` found in each row (in any order)."""
        n_terms = len(self.vocabulary_)
        if len(ids) == 0:
            return SparseRows(
                np.zeros(n_rows + 1, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.float32),
                n_terms,
            )
        keys, tf = np.unique(rows * n_terms + ids, return_counts=True)
        r = keys // n_terms
        cols = keys - r * n_terms
        data = (1.0 + np.log(tf)) * self.idf_[cols]
        # Word and character blocks are each L2-normalised per row.
        block = r * 2 + (cols >= self.n_word_terms_)
        norms = np.sqrt(np.bincount(block, weights=data * data, minlength=2 * n_rows))
        data = (data / norms[block]).astype(np.float32)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
        return SparseRows(indptr, cols, data, n_terms)

    def transform(self, docs: Sequence[Sequence[str]]):  # noqa: ANN201
        """Features of many documents as one SciPy matrix (for training).

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_sentences, n_terms + n_dense)
        """
        from scipy.sparse import csr_matrix, hstack

        blocks = []
        for doc in docs:
            X, D = self.transform_doc(doc)
            blocks.append(hstack([X.to_scipy(), csr_matrix(D)], format="csr"))
        if not blocks:
            return csr_matrix((0, len(self.vocabulary_) + self.n_dense))
        from scipy.sparse import vstack

        return vstack(blocks, format="csr")
