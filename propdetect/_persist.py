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

__all__ = [
    "FORMAT_VERSION",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "read_model",
    "write_model",
    "check_versions",
]

FORMAT_VERSION = 1
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


class ModelError(Exception):
    """Base class of the errors raised when a model cannot be loaded."""


class ModelFormatError(ModelError):
    """The model folder is missing, incomplete, corrupt or unsafe to load."""


class ModelVersionError(ModelError):
    """The model was made with library versions this installation cannot serve."""


def _minor(version: str) -> tuple[int, ...]:
    parts = []
    for p in version.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def installed_version(dist: str) -> str | None:
    """Version of an installed distribution, without importing it."""
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def check_versions(meta: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ModelVersionError` unless this installation matches the model.

    The model's file format must be one this code reads, and the installed
    scikit-learn must have the same major.minor version as the one the model was
    trained with (scikit-learn changes estimator internals between minor versions).
    """
    fmt = meta.get("format_version")
    if fmt != FORMAT_VERSION:
        raise ModelVersionError(
            f"{where}: model file format {fmt!r} is not the format this version of "
            f"propdetect reads ({FORMAT_VERSION}); upgrade propdetect or retrain the "
            "model with `propdetect train`"
        )
    trained = meta.get("versions", {}).get("scikit-learn")
    installed = installed_version("scikit-learn")
    if trained is None:
        raise ModelFormatError(f"{where}: metadata.json does not say which scikit-learn trained it")
    if installed is None or _minor(installed) != _minor(trained):
        major, minor = _minor(trained)
        raise ModelVersionError(
            f"{where}: this model was trained with scikit-learn {trained} but "
            f"scikit-learn {installed or '(not installed)'} is installed; install a "
            f"matching version (pip install 'scikit-learn>={major}.{minor},"
            f"<{major}.{minor + 1}') or retrain the model with `propdetect train`"
        )


def _refuse_pickle(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head in _PICKLE_MAGIC:
        raise ModelFormatError(
            f"{path}: this file holds a pickle, which can run arbitrary code when "
            "loaded; propdetect never loads pickles. Retrain or re-export the model "
            "with `propdetect train`"
        )


def read_model(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[str], dict[str, np.ndarray]]:
    """Read and validate a model folder.

    Returns
    -------
    metadata : dict
    vocabulary : list of str
    arrays : dict of str to ndarray

    Raises
    ------
    ModelFormatError
        Missing folder or file, unexpected or pickled file, corrupt content.
    ModelVersionError
        Format or scikit-learn version mismatch.
    """
    folder = Path(path)
    if not folder.exists():
        raise ModelFormatError(f"{folder}: no such model folder")
    if not folder.is_dir():
        raise ModelFormatError(
            f"{folder}: a model is a folder holding {', '.join(sorted(MODEL_FILES))}, "
            "not a single file"
        )
    present = {p.name for p in folder.iterdir()}
    for name in sorted(present):
        if (folder / name).is_file():
            _refuse_pickle(folder / name)
    unexpected = sorted(present - MODEL_FILES)
    if unexpected:
        raise ModelFormatError(
            f"{folder}: unexpected file(s) {', '.join(unexpected)} in the model folder; "
            f"a model holds only {', '.join(sorted(MODEL_FILES))}"
        )
    missing = sorted(MODEL_FILES - present)
    if missing:
        raise ModelFormatError(f"{folder}: model folder lacks {', '.join(missing)}")
    try:
        meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{folder / METADATA_FILE}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{folder / METADATA_FILE}: expected a JSON object")
    check_versions(meta, str(folder))
    try:
        vocab_text = (folder / VOCABULARY_FILE).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{folder / VOCABULARY_FILE}: not UTF-8 ({exc})") from None
    vocabulary = vocab_text.split("\n") if vocab_text else []
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except ValueError as exc:
        # NumPy raises ValueError for object arrays when allow_pickle=False.
        raise ModelFormatError(
            f"{folder / WEIGHTS_FILE}: refused to load ({exc}); model weights must be "
            "plain numeric arrays"
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFormatError(f"{folder / WEIGHTS_FILE}: not a readable .npz file ({exc})") from None
    _validate(folder, meta, vocabulary, arrays)
    return meta, vocabulary, arrays


def _validate(folder: Path, meta: dict[str, Any], vocabulary: list[str],
              arrays: dict[str, np.ndarray]) -> None:
    missing = sorted(REQUIRED_ARRAYS - arrays.keys())
    if missing:
        raise ModelFormatError(f"{folder / WEIGHTS_FILE}: lacks arrays {', '.join(missing)}")
    techniques = meta.get("techniques")
    if not isinstance(techniques, list) or not techniques:
        raise ModelFormatError(f"{folder / METADATA_FILE}: 'techniques' must be a non-empty list")
    k = len(techniques)
    n_dense = arrays["dense_mean"].shape[0]
    expected = {
        "coef": (len(vocabulary) + n_dense, k),
        "intercept": (k,),
        "calib_a": (k,),
        "calib_b": (k,),
        "thresholds": (k,),
        "idf": (len(vocabulary),),
        "dense_scale": (n_dense,),
    }
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ModelFormatError(
                f"{folder}: array {key!r} has shape {arrays[key].shape}, expected {shape} "
                "(vocabulary, techniques and weights do not fit together)"
            )
    for key, arr in arrays.items():
        if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
            raise ModelFormatError(f"{folder}: array {key!r} is not finite numbers")


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
