"""The model file format: a folder of JSON, plain text and NumPy arrays.

A model folder holds exactly three files::

    metadata.json    versions, technique ids, thresholds, config, data digest, metrics
    vocabulary.txt   one n-gram per line, in column order (UTF-8)
    weights.npz      NumPy arrays, loaded with ``allow_pickle=False``

None of these formats can run code when read: JSON and text are parsed as data, and
NumPy refuses object arrays (the only way a pickle could hide in an ``.npz``) when
``allow_pickle=False``. Anything else in the folder is refused rather than ignored, so
that a tampered folder cannot smuggle in a ``model.pkl`` that some other tool might
load. This is the trust model: loading a model someone sent you runs none of their
code; it can at worst give wrong scores.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from ._evidence import TOKEN_SHAPE
from ._features import DENSE_FEATURES
from ._vectors import POOLINGS

__all__ = [
    "FORMAT_VERSION",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "read_model",
    "write_model",
    "check_versions",
    "check_format_first",
]

# 2: optional word vectors, "any technique" head and token model (propdetect 0.2).
# Format 1 models (propdetect 0.1) are still read: they have none of these.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
METADATA_FILE = "metadata.json"
VOCABULARY_FILE = "vocabulary.txt"
WEIGHTS_FILE = "weights.npz"
MODEL_FILES = frozenset({METADATA_FILE, VOCABULARY_FILE, WEIGHTS_FILE})
REQUIRED_ARRAYS = frozenset(
    {"coef", "intercept", "calib_a", "calib_b", "thresholds", "idf", "dense_mean",
     "dense_scale"}
)
# Bytes that open a pickle stream (protocol 2+) or a joblib/pickle file; used to
# name the problem precisely when someone puts one in a model folder.
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
# joblib.dump(..., compress=...) wraps the pickle in zlib, gzip, bz2, lzma or xz.
_COMPRESSED_MAGIC = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b",
                     b"BZh", b"\x5d\x00\x00", b"\xfd7zXZ")
_PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".pt", ".pth", ".sav", ".dill"})
_ZIP_MAGIC = b"PK\x03\x04"
# Upper bounds on what a model may make us read, far above any real model (the
# bundled one: 8 KB of metadata, 3.3 MB of uncompressed arrays; 200,000 n-grams x
# 26 columns of float32 is 21 MB), so that a hostile file cannot exhaust memory.
# The zip reader never inflates a member beyond the size its header declares,
# which makes the declared sizes a safe bound against zip bombs.
_MAX_METADATA_BYTES = 16 * 2**20
_MAX_VOCABULARY_BYTES = 256 * 2**20
_MAX_ARRAY_BYTES = 2 * 2**30


class ModelError(Exception):
    """Base class of the errors raised when a model cannot be loaded."""


class ModelFormatError(ModelError):
    """The model folder is missing, incomplete, corrupt or unsafe to load."""


class ModelVersionError(ModelError):
    """The model's file format is not one this version of propdetect reads."""


def installed_version(dist: str) -> str | None:
    """Version of an installed distribution, without importing it."""
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def check_versions(meta: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ModelVersionError` unless this code reads the model's file format.

    The format version is the only gate. The library versions a model records
    (``"versions"``: propdetect, scikit-learn, NumPy, ...) are information: a model
    is plain arrays scored with NumPy, so it gives the same scores whichever
    scikit-learn trained it and whichever is installed (or none).

    Examples
    --------
    >>> check_versions({"format_version": 2, "versions": {"scikit-learn": "0.1"}}, "m")
    >>> check_versions({"format_version": 99, "versions": {"propdetect": "9.0"}}, "m")
    Traceback (most recent call last):
    ...
    propdetect._persist.ModelVersionError: m: model file format 99 was written by propdetect 9.0, newer than this propdetect ..., which reads formats 1 to 2; upgrade propdetect (pip install -U propdetect)
    """
    fmt = meta.get("format_version")
    versions = meta.get("versions")
    if versions is not None and not isinstance(versions, dict):
        raise ModelFormatError(
            f"{where}: metadata.json 'versions' must be a JSON object (the library versions "
            f"that made the model), got {type(versions).__name__}"
        )
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt in READABLE_FORMATS:
        return
    from . import __version__ as this

    readable = f"formats {READABLE_FORMATS[0]} to {READABLE_FORMATS[-1]}"
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT_VERSION:
        made_by = (versions or {}).get("propdetect")
        by = f"propdetect {made_by}" if isinstance(made_by, str) and made_by else "a newer propdetect"
        raise ModelVersionError(
            f"{where}: model file format {fmt} was written by {by}, newer than this "
            f"propdetect {this}, which reads {readable}; upgrade propdetect "
            "(pip install -U propdetect)"
        )
    raise ModelVersionError(
        f"{where}: model file format {fmt!r} is not one this propdetect {this} knows (it "
        f"reads {readable}); upgrade propdetect (pip install -U propdetect) or retrain the "
        "model with `propdetect train`"
    )


def check_format_first(folder: Path) -> None:
    """Check the format version of ``folder/metadata.json`` before anything else.

    A model written by a newer propdetect may hold other files than this version
    expects: the one error it should raise is the format's, not "unexpected file".
    An unreadable or odd metadata file is left for the full checks to describe.
    """
    path = folder / METADATA_FILE
    try:
        if not path.is_file() or path.stat().st_size > _MAX_METADATA_BYTES:
            return
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return
    if isinstance(meta, dict):
        check_versions(meta, str(folder))


def _looks_pickled(path: Path, head: bytes) -> bool:
    """True when a file is, by its first bytes or its name, a (joblib) pickle."""
    return (head[:2] in _PICKLE_MAGIC or path.suffix.lower() in _PICKLE_SUFFIXES
            or any(head.startswith(m) for m in _COMPRESSED_MAGIC))


def _pickle_error(path: Path) -> ModelFormatError:
    return ModelFormatError(
        f"{path}: this file holds (or is named like) a pickle, which can run arbitrary "
        "code when loaded; propdetect never loads pickles or joblib files. A model is a "
        f"folder holding only {', '.join(sorted(MODEL_FILES))}: retrain or re-export "
        "it with `propdetect train`"
    )


def _refuse_pickle(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:2] in _PICKLE_MAGIC:
        raise _pickle_error(path)


def _read_small(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise ModelFormatError(
            f"{path}: {size:,} bytes, more than the {limit:,} a model file may hold"
        )
    return path.read_bytes()


def read_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[str], dict[str, np.ndarray]]:
    """Read and validate a model folder, without running any code from it.

    Parameters
    ----------
    path : str or path-like
        A folder holding exactly ``metadata.json``, ``vocabulary.txt`` and
        ``weights.npz``.

    Returns
    -------
    metadata : dict
    vocabulary : list of str
    arrays : dict of str to ndarray

    Raises
    ------
    ModelFormatError
        Missing folder or file, unexpected or pickled file, corrupt content,
        arrays that do not fit together or are not finite numbers.
    ModelVersionError
        A file format this version does not read (a model from a newer propdetect).

    Examples
    --------
    >>> read_model("no/such/folder")
    Traceback (most recent call last):
    ...
    propdetect._persist.ModelFormatError: no/such/folder: no such model folder
    """
    try:
        return _read_model(Path(path))
    except OSError as exc:  # unreadable file, name too long, I/O error, ...
        where = exc.filename or path
        raise ModelFormatError(
            f"{where}: cannot read the model ({exc.strerror or exc})"
        ) from None


def _read_model(folder: Path) -> tuple[dict[str, Any], list[str], dict[str, np.ndarray]]:
    if not folder.exists():
        raise ModelFormatError(f"{folder}: no such model folder")
    if not folder.is_dir():
        if folder.is_file():
            with open(folder, "rb") as fh:
                head = fh.read(8)
            if _looks_pickled(folder, head):
                raise _pickle_error(folder)
        raise ModelFormatError(
            f"{folder}: a model is a folder holding {', '.join(sorted(MODEL_FILES))}, "
            "not a single file"
        )
    entries = sorted(folder.iterdir())
    for p in entries:
        if p.is_file():
            _refuse_pickle(p)
    check_format_first(folder)
    unexpected = [p for p in entries if p.name not in MODEL_FILES]
    if unexpected:
        names = ", ".join(p.name for p in unexpected)
        pickled = [p for p in unexpected if p.is_file() and _looks_pickled(p, _head(p))]
        if pickled:
            raise _pickle_error(pickled[0])
        raise ModelFormatError(
            f"{folder}: unexpected file(s) {names} in the model folder; a model holds "
            f"only {', '.join(sorted(MODEL_FILES))} (remove the others)"
        )
    present = {p.name for p in entries}
    missing = sorted(MODEL_FILES - present)
    if missing:
        raise ModelFormatError(f"{folder}: model folder lacks {', '.join(missing)}")
    for name in sorted(MODEL_FILES):
        if not (folder / name).is_file():  # a folder, FIFO or device would hang or fail later
            raise ModelFormatError(f"{folder / name}: not a regular file")
    meta = _read_metadata(folder / METADATA_FILE)
    check_versions(meta, str(folder))
    vocabulary = _read_vocabulary(folder / VOCABULARY_FILE)
    arrays = _read_arrays(folder / WEIGHTS_FILE)
    _validate(folder, meta, vocabulary, arrays)
    return meta, vocabulary, arrays


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def _read_metadata(path: Path) -> dict[str, Any]:
    raw = _read_small(path, _MAX_METADATA_BYTES)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{path}: not UTF-8 ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelFormatError(f"{path}: JSON nested too deeply to be model metadata") from None
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    return meta


def _read_vocabulary(path: Path) -> list[str]:
    raw = _read_small(path, _MAX_VOCABULARY_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{path}: not UTF-8 ({exc})") from None
    vocabulary = text.split("\n") if text else []
    if len(set(vocabulary)) != len(vocabulary):
        first: dict[str, int] = {}
        for line, term in enumerate(vocabulary, 1):
            if term in first:
                raise ModelFormatError(
                    f"{path}: n-gram {term!r} on line {line} repeats line {first[term]}; "
                    "each line must be a distinct n-gram"
                )
            first[term] = line
    return vocabulary


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read ``weights.npz``: a zip of ``.npy`` members holding plain numbers only."""
    head = _head(path)
    if not head.startswith(_ZIP_MAGIC):
        if _looks_pickled(path, head):
            raise _pickle_error(path)
        raise ModelFormatError(
            f"{path}: not an .npz archive (a zip of NumPy arrays); re-save the model "
            "with Detector.save() or `propdetect train`"
        )
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > _MAX_ARRAY_BYTES:
                raise ModelFormatError(
                    f"{path}: arrays would take {total:,} bytes uncompressed, more than "
                    f"the {_MAX_ARRAY_BYTES:,} a model may hold"
                )
            for info in infos:
                if not info.filename.endswith(".npy") or "/" in info.filename:
                    member = path / info.filename
                    with zf.open(info) as fh:
                        if _looks_pickled(member, fh.read(8)):
                            raise _pickle_error(member)
                    raise ModelFormatError(
                        f"{path}: holds {info.filename!r}, which is not a NumPy array "
                        "(.npy); weights.npz must hold only numeric arrays"
                    )
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except ValueError as exc:
        # NumPy raises ValueError for object arrays (pickles) when allow_pickle=False.
        raise ModelFormatError(
            f"{path}: refused to load ({exc}); model weights must be plain numeric "
            "arrays, never pickled objects"
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelFormatError(f"{path}: not a readable .npz file ({exc})") from None
    return arrays


def _validate(folder: Path, meta: dict[str, Any], vocabulary: list[str],
              arrays: dict[str, np.ndarray]) -> None:
    missing = sorted(REQUIRED_ARRAYS - arrays.keys())
    if missing:
        raise ModelFormatError(f"{folder / WEIGHTS_FILE}: lacks arrays {', '.join(missing)}")
    techniques = meta.get("techniques")
    if (not isinstance(techniques, list) or not techniques
            or not all(isinstance(t, str) and t for t in techniques)):
        raise ModelFormatError(
            f"{folder / METADATA_FILE}: 'techniques' must be a non-empty list of technique ids"
        )
    if len(set(techniques)) != len(techniques):
        raise ModelFormatError(f"{folder / METADATA_FILE}: 'techniques' lists an id twice")
    _validate_config(folder, meta.get("config", {}))
    _validate_vocabulary_order(folder / VOCABULARY_FILE, vocabulary)
    for key, arr in arrays.items():
        if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
            raise ModelFormatError(
                f"{folder / WEIGHTS_FILE}: array {key!r} is not finite numbers "
                f"(dtype {arr.dtype}); the file is corrupt or was tampered with"
            )
    k = len(techniques)
    if arrays["dense_mean"].ndim != 1:
        raise ModelFormatError(
            f"{folder / WEIGHTS_FILE}: array 'dense_mean' has shape "
            f"{arrays['dense_mean'].shape}, expected one dimension"
        )
    n_dense = arrays["dense_mean"].shape[0]
    n_vec = _validate_vectors(folder, arrays)
    if any(key.startswith("cue_") for key in arrays):
        if not n_vec:
            raise ModelFormatError(f"{folder / WEIGHTS_FILE}: cue features need word vectors")
        for key in ("cue_lift", "cue_mean", "cue_scale"):
            if key not in arrays:
                raise ModelFormatError(f"{folder / WEIGHTS_FILE}: lacks array {key!r}")
        if np.any(arrays["cue_scale"] == 0):
            raise ModelFormatError(f"{folder / WEIGHTS_FILE}: array 'cue_scale' holds a zero")
        n_vec_total = n_vec + 2 * k
    else:
        n_vec_total = n_vec
    expected = {
        "coef": (len(vocabulary) + n_dense + n_vec_total, k),
        "intercept": (k,),
        "calib_a": (k,),
        "calib_b": (k,),
        "thresholds": (k,),
        "idf": (len(vocabulary),),
        "dense_scale": (n_dense,),
    }
    if "any_coef" in arrays or "any_head" in arrays:
        expected["any_coef"] = (len(vocabulary) + n_dense + n_vec_total,)
        expected["any_head"] = (4,)
    if any(key.startswith("tok_") for key in arrays):
        if not n_vec:
            raise ModelFormatError(f"{folder / WEIGHTS_FILE}: a token model needs word vectors")
        dim = arrays["wv_vectors"].shape[1]
        expected["tok_word"] = (arrays["wv_vectors"].shape[0] + 1, k)
        expected["tok_dense"] = (2 * dim + len(TOKEN_SHAPE), k)
        expected["tok_intercept"] = (k,)
    if "cue_lift" in arrays:
        expected["cue_lift"] = (arrays["wv_vectors"].shape[0] + 1, k)
        expected["cue_mean"] = (2 * k,)
        expected["cue_scale"] = (2 * k,)
    for key, shape in expected.items():
        if key not in arrays:
            raise ModelFormatError(f"{folder / WEIGHTS_FILE}: lacks array {key!r}")
        if arrays[key].shape != shape:
            raise ModelFormatError(
                f"{folder}: array {key!r} has shape {arrays[key].shape}, expected {shape} "
                f"({len(vocabulary)} n-grams, {n_dense} dense features, {k} techniques): "
                "vocabulary, techniques and weights do not fit together"
            )
    if n_dense != len(DENSE_FEATURES):
        made_by = (meta.get("versions") or {}).get("propdetect", "another version")
        raise ModelVersionError(
            f"{folder}: this model has {n_dense} shape and context features but this "
            f"version of propdetect computes {len(DENSE_FEATURES)}; it was made by "
            f"propdetect {made_by}. Retrain it with `propdetect train` or install the "
            "propdetect version that made it"
        )
    if np.any(arrays["dense_scale"] == 0):
        raise ModelFormatError(f"{folder / WEIGHTS_FILE}: array 'dense_scale' holds a zero")
    if "any_head" in arrays and not 0.0 <= float(arrays["any_head"][3]) <= 1.0:
        raise ModelFormatError(
            f"{folder / WEIGHTS_FILE}: the 'any technique' threshold (any_head[3]) must be "
            f"a probability, got {float(arrays['any_head'][3])}"
        )


_VECTOR_ARRAYS = ("wv_words", "wv_vectors", "vec_mean", "vec_scale")


def _validate_vectors(folder: Path, arrays: dict[str, np.ndarray]) -> int:
    """Check the word-vector arrays; return the number of sentence-vector columns."""
    present = [k for k in _VECTOR_ARRAYS if k in arrays]
    if not present:
        return 0
    where = folder / WEIGHTS_FILE
    missing = [k for k in _VECTOR_ARRAYS if k not in arrays]
    if missing:
        raise ModelFormatError(f"{where}: word vectors lack arrays {', '.join(missing)}")
    words, vecs = arrays["wv_words"], arrays["wv_vectors"]
    if words.dtype != np.uint8 or words.ndim != 1:
        raise ModelFormatError(f"{where}: 'wv_words' must be a 1-D uint8 array (UTF-8 text)")
    if vecs.ndim != 2 or vecs.dtype.kind != "f":
        raise ModelFormatError(f"{where}: 'wv_vectors' must be a 2-D float array")
    try:
        text = words.tobytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{where}: 'wv_words' is not UTF-8 ({exc})") from None
    n_words = len(text.split("\n")) if text else 0
    if n_words != vecs.shape[0]:
        raise ModelFormatError(
            f"{where}: {n_words} words but {vecs.shape[0]} word vectors; the file is corrupt"
        )
    n_vec = vecs.shape[1] * len(POOLINGS)
    for key in ("vec_mean", "vec_scale"):
        if arrays[key].shape != (n_vec,):
            raise ModelFormatError(
                f"{where}: array {key!r} has shape {arrays[key].shape}, expected ({n_vec},)"
            )
    if np.any(arrays["vec_scale"] == 0):
        raise ModelFormatError(f"{where}: array 'vec_scale' holds a zero")
    return n_vec


# Training options the detector reads back from metadata.json, with the values
# they may take (ngram_max above 5 would only ever come from a tampered file).
_CONFIG_INTS = {"ngram_max": (1, 5), "min_df": (1, None), "evidence_top": (0, None),
                "char_min_df": (1, None)}
# Character n-gram sizes: real configurations use 2..5; a tampered (1, 10**6) would
# make every long word cost quadratic time.
_MAX_CHAR_NGRAM = 10
# Character n-grams follow the word n-grams in the vocabulary, marked by this
# prefix (a word token never contains it).
_CHAR_PREFIX = "#"


def _validate_config(folder: Path, config: object) -> None:
    where = folder / METADATA_FILE
    if not isinstance(config, dict):
        raise ModelFormatError(f"{where}: 'config' must be a JSON object")
    for key, (lo, hi) in _CONFIG_INTS.items():
        if key not in config:
            continue
        v = config[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            bounds = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise ModelFormatError(f"{where}: config {key!r} must be an integer {bounds}, got {v!r}")
    for key in ("max_features", "char_max_features"):
        mf = config.get(key)
        if mf is not None and (isinstance(mf, bool) or not isinstance(mf, int) or mf < 1):
            raise ModelFormatError(
                f"{where}: config {key!r} must be a positive integer or null, got {mf!r}"
            )
    chars = config.get("char_ngrams")
    if chars is not None and not (
        isinstance(chars, list) and len(chars) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in chars)
        and 1 <= chars[0] <= chars[1] <= _MAX_CHAR_NGRAM
    ):
        raise ModelFormatError(
            f"{where}: config 'char_ngrams' must be null or [min, max] with "
            f"1 <= min <= max <= {_MAX_CHAR_NGRAM}, got {chars!r}"
        )
    em = config.get("evidence_margin")
    if em is not None and (isinstance(em, bool) or not isinstance(em, (int, float)) or not em >= 0
                           or em != em):
        raise ModelFormatError(f"{where}: config 'evidence_margin' must be null or a number >= 0, got {em!r}")
    vw = config.get("vector_weight", 1.0)
    if isinstance(vw, bool) or not isinstance(vw, (int, float)) or not 0 < vw <= 100:
        raise ModelFormatError(f"{where}: config 'vector_weight' must be a number in (0, 100], got {vw!r}")
    if not isinstance(config.get("dense_features", True), bool):
        raise ModelFormatError(f"{where}: config 'dense_features' must be true or false")


def _validate_vocabulary_order(path: Path, vocabulary: list[str]) -> None:
    first_char = next((i for i, t in enumerate(vocabulary) if t.startswith(_CHAR_PREFIX)), None)
    if first_char is None:
        return
    for line, term in enumerate(vocabulary[first_char:], first_char + 1):
        if not term.startswith(_CHAR_PREFIX):
            raise ModelFormatError(
                f"{path}: word n-gram {term!r} on line {line} follows the character "
                f"n-grams (lines starting with {_CHAR_PREFIX!r}); word n-grams come first"
            )


def write_model(path: str | os.PathLike[str], meta: Mapping[str, Any], vocabulary: list[str],
                arrays: Mapping[str, np.ndarray]) -> Path:
    """Write a model folder (created if needed; an existing model is replaced).

    The files are written to a temporary folder next to ``path`` and moved into
    place, so an interrupted save never leaves a half-written model behind.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ModelFormatError(f"{folder}: exists and is not a folder")
    if folder.is_dir():
        extra = {p.name for p in folder.iterdir()} - MODEL_FILES
        if extra:
            raise ModelFormatError(
                f"{folder}: refusing to overwrite a folder that holds other files "
                f"({', '.join(sorted(extra))})"
            )
    if any("\n" in term for term in vocabulary):
        raise ModelFormatError("vocabulary terms must not contain newlines")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (tmp / METADATA_FILE).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
            encoding="utf-8",
        )
        (tmp / VOCABULARY_FILE).write_text("\n".join(vocabulary), encoding="utf-8")
        np.savez_compressed(tmp / WEIGHTS_FILE, **{k: np.asarray(v) for k, v in arrays.items()})
        folder.mkdir(exist_ok=True)
        for name in MODEL_FILES:
            os.replace(tmp / name, folder / name)
    finally:
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    return folder
