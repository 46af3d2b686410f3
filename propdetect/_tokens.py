"""Text -> tokens, and what features and evidence need to know about each token.

Tokens are lower-cased words (with inner apostrophes) and the punctuation marks that
carry propaganda signal (``!``, ``?``, quotes): :func:`tokenize` gives a sentence's
tokens, :func:`token_spans` also their offsets.

Scoring a block of sentences touches every token several times: its word n-grams and
character n-grams are looked up in the vocabulary, its word vector is found, it is
tested for being a content word. News text is Zipfian, so nearly every token of a
new sentence has been met before. A :class:`TokenTable` gives each distinct token an
integer id the first time it is met and keeps what is known about it in one NumPy
array indexed by that id; a block of sentences then becomes an array of ids
(:meth:`TokenTable.encode`), and features are computed from it with array
operations instead of Python code per token. Word n-grams are found the same way:
the vocabulary's n-grams are held as sorted integer keys of their words' ids
(:meth:`TokenTable.ngram_columns`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, count, repeat
from typing import Any

import numpy as np

__all__ = ["STOPWORDS", "Encoded", "SpanBlock", "TokenTable", "token_spans", "tokenize"]

# Words (with inner apostrophes), and the punctuation that carries signal.
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[!?\"“”«»]")
# The same, as one capturing group: re.split then returns the text between tokens
# and the tokens in turn, from which offsets follow by adding up lengths.
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")
_QUOTES = frozenset('"“”«»')
_DIGITS = re.compile(r"\d")

# Function words ignored by the repetition features (a sentence repeating "the"
# is not repetition). A short list on purpose: content words are what recur in
# propaganda slogans and refrains.
STOPWORDS = _STOP = frozenset(
    """the a an and or but if of to in on at by for with from as is are was were be
    been being this that these those it its he she they them his her their we our you
    your i me my not no so than then there here what which who whom whose when where
    why how all any both each few more most other some such only own same too very can
    will just should now also would could said says has have had do does did""".split()
)

# Heads of contractions that are function words but not in STOPWORDS ("don't", "i'm").
_CONTRACTED = frozenset({"don", "doesn", "didn", "isn", "aren", "wasn", "weren", "won", "can",
                         "couldn", "wouldn", "shouldn", "haven", "hasn", "hadn", "let", "that", "there"})


def _norm_token(tok: str) -> str:
    """A lower-cased token as the features see it: quotes become ``"``, digits of a
    number ``0``, a typographic apostrophe ``'``."""
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
    # _norm_token inlined: this runs for every token of every sentence.
    toks = _TOKEN.findall(sentence.lower())
    for i, t in enumerate(toks):
        c = t[0]
        if c in _QUOTES:
            toks[i] = '"'
        elif c.isdigit():
            toks[i] = _DIGITS.sub("0", t)
        elif "’" in t:
            toks[i] = t.replace("’", "'")
    return toks


def token_spans(sentence: str) -> list[tuple[str, int, int]]:
    """Return ``(token, start, end)`` for each token, offsets into ``sentence``.

    Slower than :func:`tokenize`; used only to find evidence in flagged sentences.
    """
    return [
        (_norm_token(m.group().lower()), m.start(), m.end())
        for m in _TOKEN.finditer(sentence)
    ]


def _content_words(tokens: list[str]) -> list[str]:
    """The tokens that the repetition features count: words of three letters or
    more that are not function words."""
    return [t for t in tokens if len(t) > 2 and t not in _STOP and t[0].isalpha()]


def _is_content(word: str) -> bool:
    """Whether a token may be evidence on its own: a word that is not a function
    word, nor a function word's contraction ("don't", "they're"), nor a number."""
    if not word[0].isalpha() or word in STOPWORDS:
        return False
    if "'" in word:
        head = word.split("'", 1)[0]
        return not (head in STOPWORDS or word.endswith("n't") or head in _CONTRACTED)
    return True


# -- the token table ---------------------------------------------------------------
# Columns of TokenTable facts, one row per token id.
UNIGRAM = 0   # column of the word as a unigram of the vocabulary, -1 if none
WORD = 1      # id of the word among the words of the vocabulary's n-grams, -1 if none
VECTOR = 2    # row of the word in the word vectors, -1 if none
CHAR_AT = 3   # where its character n-gram columns start in TokenTable chars
CHAR_N = 4    # how many there are (0 for tokens that do not start with a letter)
FLAGS = 5     # the bits below
N_FACTS = 6

ALNUM = 1      # starts with a letter or digit (counts as a word)
CONTENT = 2    # a content word for the repetition features (_content_words)
STOP = 4       # in STOPWORDS
EVIDENCE = 8   # may be evidence on its own (_is_content)

# Distinct tokens kept before the table starts afresh, so that memory stays bounded
# on endless streams of new words: a token costs about 400 bytes (its strings, three
# dictionary entries, its facts and character n-gram columns), so at most ~40 MB.
# News vocabulary is Zipfian: the 75 PTC-2020 dev articles hold ~6,400 distinct tokens.
_MAX_TOKENS = 100_000


@dataclass(frozen=True)
class Encoded:
    """A block of sentences as token ids, with the facts of each token.

    Attributes
    ----------
    tids : ndarray of shape (n_tokens,)
        Token ids of the sentences' tokens, one sentence after another.
    lengths : ndarray of shape (n_sentences,)
        Tokens per sentence.
    facts : ndarray of shape (n_tokens, N_FACTS)
        Each token's row of the table's facts (``UNIGRAM``, ``WORD``, ...).
    chars : ndarray
        The table's character n-gram columns, which ``CHAR_AT`` and ``CHAR_N`` index.
    words : list of str
        The normalised token of each id (``words[tid]``).
    index : dict of str to int
        Normalised token -> id (``index.get("!", -1)``).
    """

    tids: np.ndarray
    lengths: np.ndarray
    facts: np.ndarray
    chars: np.ndarray
    words: list[str]
    index: dict[str, int]

    @property
    def sentence(self) -> np.ndarray:
        """Index of the sentence of each token."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @property
    def n_ids(self) -> int:
        """Token ids seen so far: every id of this block is below it."""
        return len(self.words)


@dataclass(frozen=True)
class SpanBlock:
    """The tokens of a block of sentences with their offsets, for evidence.

    Attributes
    ----------
    tids, starts, ends : ndarray of shape (n_tokens,)
        Token id and offsets into its sentence, one sentence after another.
    lengths : ndarray of shape (n_sentences,)
        Tokens per sentence.
    facts : ndarray of shape (n_tokens, N_FACTS)
        As in :class:`Encoded`.
    first_upper, all_caps, punct : ndarray of bool, shape (n_tokens,)
        The token as written starts with a capital; is written in capitals and
        has more than two characters; does not start with a letter or digit.
    blank_after : ndarray of bool, shape (n_tokens,)
        Only whitespace (or nothing) lies between the token and the next one of
        its sentence (False for the last token of a sentence).
    """

    tids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    lengths: np.ndarray
    facts: np.ndarray
    first_upper: np.ndarray
    all_caps: np.ndarray
    punct: np.ndarray
    blank_after: np.ndarray


class TokenTable:
    """Token ids and per-token facts for one fitted vocabulary (and word vectors).

    Parameters
    ----------
    vocabulary : mapping of str to int
        N-gram -> column: word n-grams (tokens joined by spaces) in columns below
        ``n_word_terms``, character n-grams (keys starting with ``#``) above.
    n_word_terms : int
        Number of word n-gram columns.
    ngram_max : int
        Longest word n-gram looked for.
    char_grams : callable or None
        ``token -> list of character n-gram keys`` (``Featurizer._char_grams``), or
        ``None`` when the vocabulary has no character n-grams.
    vectors : WordVectors or None
        Word vectors whose rows ``VECTOR`` gives.

    Notes
    -----
    Thread-safe: ids are handed out under a lock, and a table that starts afresh
    (more than ``_MAX_TOKENS`` distinct tokens) replaces its arrays instead of
    changing them, so an :class:`Encoded` stays valid.
    """

    def __init__(self, vocabulary: Mapping[str, int], n_word_terms: int, ngram_max: int,
                 char_grams: Callable[[str], list[str]] | None, vectors: Any) -> None:
        self.vocabulary = vocabulary
        self.n_word_terms = n_word_terms
        self.ngram_max = ngram_max
        self.char_grams = char_grams
        self.vectors = vectors
        self._lock = threading.Lock()
        self._index_ngrams()
        self._reset()

    # -- the vocabulary's word n-grams as integer keys --------------------------------
    def _index_ngrams(self) -> None:
        """Number the words of the vocabulary's word n-grams, and index each n-gram
        length as sorted keys ``prefix id * n_words + last word id``, where the prefix
        id is the index of the n-gram's first n-1 words among the keys of length n-1
        (for n = 2, the first word's id)."""
        terms = [t for t, j in self.vocabulary.items() if j < self.n_word_terms]
        cols = np.fromiter(map(self.vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms))
        # One C-level split for all terms: a term of k spaces has k + 1 words.
        n_words = np.fromiter(map(str.count, terms, repeat(" ")), dtype=np.int64, count=len(terms)) + 1
        parts = " ".join(terms).split(" ") if terms else []
        self._word_id: dict[str, int] = dict(zip(dict.fromkeys(parts), count()))
        wid = np.fromiter(map(self._word_id.__getitem__, parts), dtype=np.int64, count=len(parts))
        first = np.zeros(len(terms), dtype=np.int64)
        np.cumsum(n_words[:-1], out=first[1:])
        self._n_words = len(self._word_id)
        self._unigram = np.full(self._n_words, -1, dtype=np.int64)
        one = n_words == 1
        self._unigram[wid[first[one]]] = cols[one]
        # level n: _keys[n] sorted, _cols[n] the column of each key's n-gram or -1
        self._keys: dict[int, np.ndarray] = {}
        self._cols: dict[int, np.ndarray] = {}
        node = wid[first]  # id of each term's prefix of the current length
        for n in range(2, max(self.ngram_max, 1) + 1):
            longer = n_words >= n
            if not longer.any():
                break
            key = node[longer] * self._n_words + wid[first[longer] + n - 1]
            keys, inv = np.unique(key, return_inverse=True)
            col = np.full(len(keys), -1, dtype=np.int64)
            ends_here = n_words[longer] == n
            col[inv[ends_here]] = cols[longer][ends_here]
            self._keys[n], self._cols[n] = keys, col
            node = np.full(len(terms), -1, dtype=np.int64)
            node[longer] = inv

    def ngram_columns(self, enc: Encoded) -> tuple[np.ndarray, np.ndarray]:
        """``(sentence, column)`` of every word n-gram of the block found in the
        vocabulary (what ``vocabulary.get`` finds over :func:`~propdetect._features.ngrams`),
        in no particular order."""
        sent = enc.sentence
        wid = enc.facts[:, WORD]
        uni = enc.facts[:, UNIGRAM]
        found = uni >= 0
        rows, cols = [sent[found]], [uni[found]]
        node = wid
        n_tok = len(wid)
        for n in range(2, self.ngram_max + 1):
            keys = self._keys.get(n)
            m = n_tok - n + 1
            if keys is None or m <= 0:
                break
            parent, last = node[:m], wid[n - 1 :]
            at = np.flatnonzero((parent >= 0) & (last >= 0) & (sent[:m] == sent[n - 1 :]))
            key = parent[at] * self._n_words + last[at]
            pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            hit = keys[pos] == key
            node = np.full(m, -1, dtype=np.int64)
            node[at[hit]] = pos[hit]
            col = self._cols[n][pos[hit]]
            known = col >= 0
            rows.append(sent[:m][at[hit]][known])
            cols.append(col[known])
        return np.concatenate(rows), np.concatenate(cols)

    # -- token ids -------------------------------------------------------------------
    def _reset(self) -> None:
        # New objects, not cleared ones: Encoded blocks handed out keep the old ones.
        self._raw: dict[str, int] = {}         # token as matched in lower-cased text -> id
        self._written: dict[str, int] = {}     # token as written -> id * 8 + its case bits
        self._norm: dict[str, int] = {}        # normalised token -> id
        self._words: list[str] = []
        self._facts = np.zeros((1024, N_FACTS), dtype=np.int64)
        self._chars = np.zeros(4096, dtype=np.int64)
        self._n_chars = 0

    def _add(self, word: str) -> int:
        """Id of a normalised token, computing its facts the first time."""
        tid = self._norm.get(word)
        if tid is not None:
            return tid
        tid = len(self._words)
        if tid == len(self._facts):
            self._facts = np.concatenate([self._facts, np.zeros_like(self._facts)])
        wid = self._word_id.get(word, -1)
        uni = int(self._unigram[wid]) if wid >= 0 else -1
        vec = self.vectors.index.get(word, -1) if self.vectors is not None else -1
        at, chars = self._n_chars, []
        if self.char_grams is not None and word[0].isalpha():
            get = self.vocabulary.get
            chars = [j for j in map(get, self.char_grams(word)) if j is not None]
            end = at + len(chars)
            if end > len(self._chars):
                self._chars = np.concatenate([self._chars, np.zeros(max(end, len(self._chars)), np.int64)])
            self._chars[at:end] = chars
            self._n_chars = end
        flags = ((ALNUM if word[0].isalnum() else 0) | (CONTENT if _content_words([word]) else 0)
                 | (STOP if word in STOPWORDS else 0) | (EVIDENCE if _is_content(word) else 0))
        self._facts[tid] = (uni, wid, vec, at, len(chars), flags)
        self._words.append(word)
        self._norm[word] = tid
        return tid

    def _ids(self, tokens: list[str], table: dict[str, int], new: Callable[[str], int]) -> np.ndarray:
        """Ids of ``tokens`` by ``table``, adding the missing ones with ``new``."""
        get = table.get
        ids = np.fromiter(map(get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        for i in np.flatnonzero(ids < 0).tolist():
            tok = tokens[i]
            v = get(tok)
            if v is None:
                v = table[tok] = new(tok)
            ids[i] = v
        return ids

    def _start_block(self) -> None:
        if len(self._words) > _MAX_TOKENS:
            self._reset()

    def encode(self, sentences: Sequence[str]) -> Encoded:
        """The tokens of ``sentences`` (as :func:`tokenize` gives them) as ids.

        Examples
        --------
        >>> table = TokenTable({"evil": 0, "evil regime": 1}, 2, 2, None, None)
        >>> enc = table.encode(["The EVIL regime!", "evil"])
        >>> [enc.words[t] for t in enc.tids], enc.lengths.tolist()
        (['the', 'evil', 'regime', '!', 'evil'], [4, 1])
        >>> table.ngram_columns(enc)[1].tolist()
        [0, 0, 1]
        """
        lists = list(map(_TOKEN.findall, map(str.lower, sentences)))
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        flat = list(chain.from_iterable(lists))
        with self._lock:
            self._start_block()
            tids = self._ids(flat, self._raw, lambda tok: self._add(_norm_token(tok)))
            return Encoded(tids, lengths, np.take(self._facts, tids, axis=0), self._chars, self._words,
                           self._norm)

    def spans(self, sentences: Sequence[str]) -> SpanBlock:
        """The tokens of ``sentences`` with their offsets (as :func:`token_spans`
        gives them) and what evidence needs to know about them.

        Examples
        --------
        >>> table = TokenTable({}, 0, 1, None, None)
        >>> b = table.spans(["The EVIL  regime!"])
        >>> b.starts.tolist(), b.ends.tolist(), b.all_caps.tolist(), b.blank_after.tolist()
        ([0, 4, 10, 16], [3, 8, 16, 17], [False, True, False, False], [True, True, True, False])
        """
        # All sentences in one string, one split: sentences hold no line breaks (they
        # never cross one), and no token does, so "\n" separates them cleanly.
        text = "\n".join(sentences)
        if text.count("\n") != max(len(sentences) - 1, 0):
            raise ValueError("sentences must not contain line breaks")
        parts = _TOKEN_SPLIT.split(text)  # gap, token, gap, token, ..., gap
        ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
        written = parts[1::2]
        tok_start, tok_end = ends[0::2][:-1], ends[1::2]
        sent_len = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        sent_start = np.zeros(len(sentences), dtype=np.int64)
        np.cumsum(sent_len[:-1] + 1, out=sent_start[1:])
        sent = np.searchsorted(sent_start, tok_start, side="right") - 1
        lengths = np.bincount(sent, minlength=len(sentences))
        # The text after each token but the last: empty, or whitespace only?
        blank = np.zeros(len(written), dtype=bool)
        if len(written) > 1:
            gaps = parts[2:-1:2]
            blank[:-1] = np.fromiter(map(str.isspace, gaps), dtype=bool, count=len(gaps))
            blank[:-1] |= ends[2:-1:2] == tok_end[:-1]
            blank[:-1] &= sent[:-1] == sent[1:]
        with self._lock:
            self._start_block()
            coded = self._ids(written, self._written, self._add_written)
            tids = coded >> 3
            facts = np.take(self._facts, tids, axis=0)
        return SpanBlock(tids, tok_start - sent_start[sent], tok_end - sent_start[sent], lengths, facts,
                         (coded & 1) > 0, (coded & 2) > 0, (coded & 4) > 0, blank)

    def _add_written(self, tok: str) -> int:
        """``id * 8`` plus the case bits of a token as written (see :class:`SpanBlock`)."""
        word = _norm_token(tok.lower())
        tid = self._raw.get(tok.lower())
        if tid is None:
            tid = self._raw[tok.lower()] = self._add(word)
        first = tok[0]
        return (tid << 3 | (1 if first.isupper() else 0) | (2 if len(word) > 2 and tok.isupper() else 0)
                | (4 if not first.isalnum() else 0))
