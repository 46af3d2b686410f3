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
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DENSE_FEATURES",
    "DocStats",
    "Featurizer",
    "SparseRows",
    "doc_stats",
    "ngrams",
    "token_spans",
    "tokenize",
]

# Words (with inner apostrophes), and the punctuation that carries signal.
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[!?\"“”«»]")
_QUOTES = frozenset('"“”«»')
_DIGITS = re.compile(r"\d")
_CAPWORD = re.compile(r"\b[A-Z][a-z]")
_ALLCAPS = re.compile(r"\b[A-Z]{3,}\b")

# Function words ignored by the repetition features (a sentence repeating "the"
# is not repetition). A short list on purpose: content words are what recur in
# propaganda slogans and refrains.
_STOP = frozenset(
    """the a an and or but if of to in on at by for with from as is are was were be
    been being this that these those it its he she they them his her their we our you
    your i me my not no so than then there here what which who whom whose when where
    why how all any both each few more most other some such only own same too very can
    will just should now also would could said says has have had do does did""".split()
)

# Standardised dense features are clipped to +-this many standard deviations.
_DENSE_CLIP = 8.0

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
    "log_article_sentences",
)


def _norm_token(tok: str) -> str:
    if tok in _QUOTES:
        return '"'
    if tok[0].isdigit():
        return _DIGITS.sub("0", tok)
    return tok.replace("’", "'")


def tokenize(sentence: str) -> list[str]:
    """Return the normalised tokens of a sentence (lower-cased words, ``!``,
    ``?`` and ``"``; digits become ``0``).

    Examples
    --------
    >>> tokenize("They’re CRUEL!! In 2024?")
    ["they're", 'cruel', '!', '!', 'in', '0000', '?']
    """
    return [_norm_token(t) for t in _TOKEN.findall(sentence.lower())]


def token_spans(sentence: str) -> list[tuple[str, int, int]]:
    """Return ``(token, start, end)`` for each token, offsets into ``sentence``.

    Slower than :func:`tokenize`; used only to find evidence in flagged sentences.
    """
    return [
        (_norm_token(m.group().lower()), m.start(), m.end())
        for m in _TOKEN.finditer(sentence)
    ]


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


def _content_words(tokens: list[str]) -> list[str]:
    return [t for t in tokens if len(t) > 2 and t not in _STOP and t[0].isalpha()]


@dataclass(frozen=True)
class DocStats:
    """What the context features need to know about the whole document."""

    n_sentences: int
    word_df: Counter
    bigram_df: Counter


def doc_stats(tokens: Sequence[list[str]]) -> DocStats:
    """Count, over one document, in how many sentences each content word and
    content bigram occurs."""
    word_df: Counter[str] = Counter()
    bigram_df: Counter[tuple[str, str]] = Counter()
    for t in tokens:
        words = _content_words(t)
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
    if stats is None:
        stats = doc_stats(tokens)
    out = np.zeros((len(sentences), len(DENSE_FEATURES)), dtype=np.float64)
    n = max(stats.n_sentences, 1)
    word_df, bigram_df = stats.word_df, stats.bigram_df
    log_n = math.log1p(stats.n_sentences)
    for i, (s, toks) in enumerate(zip(sentences, tokens)):
        n_tok = len(toks)
        n_words = sum(1 for t in toks if t[0].isalnum()) or 1
        words = _content_words(toks)
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
            log_n,
        )
    return out


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

    Attributes
    ----------
    vocabulary_ : dict of str to int
        N-gram -> column of the lexical block.
    idf_ : ndarray of shape (n_terms,)
        Smoothed inverse document frequency, as in scikit-learn.
    dense_mean_, dense_scale_ : ndarray of shape (len(DENSE_FEATURES),)
        Standardisation of the dense block.

    Examples
    --------
    >>> docs = [["Traitors everywhere!", "The vote is on Monday."], ["Traitors lie."]]
    >>> f = Featurizer(min_df=1).fit(docs)
    >>> X, D = f.transform_doc(docs[0])
    >>> len(X.indptr) - 1, D.shape
    (2, (2, 12))
    >>> f.transform(docs).shape[0]
    3
    """

    def __init__(
        self, ngram_max: int = 2, min_df: int = 2, max_features: int | None = 200_000
    ) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features

    # -- fitting ---------------------------------------------------------------
    def fit(self, docs: Sequence[Sequence[str]]) -> Featurizer:
        """Learn the vocabulary, IDF and dense scaling from training documents."""
        if self.ngram_max < 1:
            raise ValueError(f"ngram_max must be >= 1, got {self.ngram_max}")
        df: Counter[str] = Counter()
        n_sent = 0
        dense_blocks = []
        for doc in docs:
            toks = [tokenize(s) for s in doc]
            for t in toks:
                df.update(set(ngrams(t, self.ngram_max)))
            n_sent += len(doc)
            dense_blocks.append(dense_features(doc, toks))
        if n_sent == 0:
            raise ValueError("cannot fit a Featurizer on no sentences")
        terms = [(c, t) for t, c in df.items() if c >= self.min_df]
        terms.sort(key=lambda ct: (-ct[0], ct[1]))
        if self.max_features is not None:
            terms = terms[: self.max_features]
        terms.sort(key=lambda ct: ct[1])  # stable column order, like scikit-learn
        self.vocabulary_ = {t: i for i, (_, t) in enumerate(terms)}
        counts = np.array([c for c, _ in terms], dtype=np.float64)
        # Smoothed IDF exactly as TfidfVectorizer(smooth_idf=True).
        self.idf_ = (np.log((1 + n_sent) / (1 + counts)) + 1.0).astype(np.float32)
        dense = np.vstack(dense_blocks)
        self.dense_mean_ = dense.mean(axis=0)
        scale = dense.std(axis=0)
        # A feature constant in training (e.g. every article of the same length)
        # has a std of ~1e-16 from rounding: scale it by 1, not by that.
        self.dense_scale_ = np.where(scale > 1e-6, scale, 1.0)
        return self

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
        D : ndarray of shape (n_sentences, len(DENSE_FEATURES))
            The standardised dense block.
        """
        self._check_fitted()
        vocab_get = self.vocabulary_.get
        n_max = self.ngram_max
        toks = [tokenize(s) for s in sentences]
        row_ids: list[int] = []
        lengths = []
        for t in toks:
            ids = [j for j in map(vocab_get, ngrams(t, n_max)) if j is not None]
            row_ids.extend(ids)
            lengths.append(len(ids))
        X = self._tfidf(np.asarray(row_ids, dtype=np.int64), np.asarray(lengths))
        D = (dense_features(sentences, toks, stats, offset) - self.dense_mean_) / self.dense_scale_
        # Text unlike anything in training (a 100,000-word "sentence") must not
        # push a linear score to infinity.
        np.clip(D, -_DENSE_CLIP, _DENSE_CLIP, out=D)
        return X, D

    def _tfidf(self, ids: np.ndarray, lengths: np.ndarray) -> SparseRows:
        n_rows = len(lengths)
        n_terms = len(self.vocabulary_)
        if len(ids) == 0:
            return SparseRows(
                np.zeros(n_rows + 1, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.float32),
                n_terms,
            )
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        keys, tf = np.unique(rows * n_terms + ids, return_counts=True)
        r = keys // n_terms
        cols = keys - r * n_terms
        data = (1.0 + np.log(tf)) * self.idf_[cols]
        norms = np.sqrt(np.bincount(r, weights=data * data, minlength=n_rows))
        data = (data / norms[r]).astype(np.float32)
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
            return csr_matrix((0, len(self.vocabulary_) + len(DENSE_FEATURES)))
        from scipy.sparse import vstack

        return vstack(blocks, format="csr")
