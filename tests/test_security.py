"""Loading a model never runs code from it; bad or mismatched models fail with one clear error.

Every pickle test uses a live payload (its ``__reduce__`` creates a marker file when
unpickled); ``test_payload_is_live`` proves the payload really fires when something
*does* unpickle it, so the other tests would fail if the loader ever did.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import tomllib
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest

import propdetect
from propdetect import Detector, ModelError, ModelFormatError, ModelVersionError
from propdetect._detector import bundled_model_path
from propdetect._persist import FORMAT_VERSION
from tests.conftest import ROOT


class Payload:
    """Unpickling this creates ``marker``: stands in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "PWNED"
    yield m
    assert not m.exists(), "loading a model ran code from it"


@pytest.fixture
def model(tmp_path):
    """A writable copy of the bundled model."""
    dst = tmp_path / "model"
    shutil.copytree(bundled_model_path(), dst)
    return dst


def _load_error(path) -> ModelFormatError:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ModelError) as info:
            Detector.load(path)
    assert caught == [], [str(w.message) for w in caught]
    return info.value


def _object_npz(path: Path, marker: Path, base: Path | None = None) -> None:
    arrays = dict(np.load(base)) if base else {}
    obj = np.empty(1, dtype=object)
    obj[0] = Payload(marker)
    arrays["coef"] = obj
    np.savez(path, **arrays)


def test_payload_is_live(tmp_path):
    """Control: the payloads used below do run code when unpickled."""
    m1, m2, m3 = tmp_path / "m1", tmp_path / "m2", tmp_path / "m3"
    pickle.loads(pickle.dumps(Payload(m1)))
    joblib.load(_joblib_file(tmp_path / "x.joblib", m2))
    _object_npz(tmp_path / "w.npz", m3)
    np.load(tmp_path / "w.npz", allow_pickle=True)["coef"]
    assert m1.exists() and m2.exists() and m3.exists()


def _joblib_file(path: Path, marker: Path, compress: int | tuple = 0) -> Path:
    joblib.dump({"model": Payload(marker)}, path, compress=compress)
    return path


# -- (a) an extra pickle inside a model folder ---------------------------------------
@pytest.mark.parametrize("name", ["model.pkl", "extra.bin", "README"])
def test_extra_pickle_in_folder_is_refused(model, marker, name):
    (model / name).write_bytes(pickle.dumps(Payload(marker)))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError)
    assert name in str(err) and "pickle" in str(err) and "never loads pickles" in str(err)


@pytest.mark.parametrize("protocol", [0, 1, 2, 5])
def test_extra_file_of_any_pickle_protocol_is_refused(model, marker, protocol):
    (model / "state.dat").write_bytes(pickle.dumps(Payload(marker), protocol=protocol))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "state.dat" in str(err)


def test_extra_compressed_joblib_in_folder_is_refused(model, marker):
    _joblib_file(model / "clf.joblib", marker, compress=3)
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "clf.joblib" in str(err) and "pickle" in str(err)


def test_subfolder_in_model_is_refused(model, marker):
    (model / "extra").mkdir()
    (model / "extra" / "m.pkl").write_bytes(pickle.dumps(Payload(marker)))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "extra" in str(err)


# -- (b) a pickle in place of weights.npz --------------------------------------------
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_pickle_as_weights_is_refused(model, marker, protocol):
    (model / "weights.npz").write_bytes(pickle.dumps(Payload(marker), protocol=protocol))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "weights.npz" in str(err)


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("lzma", 3)])
def test_joblib_as_weights_is_refused(model, marker, compress):
    _joblib_file(model / "weights.npz", marker, compress=compress)
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "weights.npz" in str(err)


def test_pickle_as_metadata_or_vocabulary_is_refused(model, marker):
    for name in ("metadata.json", "vocabulary.txt"):
        m = model.parent / name
        shutil.copytree(model, m)
        (m / name).write_bytes(pickle.dumps(Payload(marker)))
        err = _load_error(m)
        assert isinstance(err, ModelFormatError) and name in str(err)


# -- (c) an object array (pickle) inside weights.npz ----------------------------------
def test_object_array_in_weights_is_refused(model, marker):
    _object_npz(model / "weights.npz", marker, base=bundled_model_path() / "weights.npz")
    err = _load_error(model)
    assert isinstance(err, ModelFormatError)
    assert "weights.npz" in str(err) and "pickled objects" in str(err)


def test_pickle_member_inside_weights_zip_is_refused(model, marker):
    with zipfile.ZipFile(model / "weights.npz", "a") as zf:
        zf.writestr("evil.pkl", pickle.dumps(Payload(marker)))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "evil.pkl" in str(err) and "pickle" in str(err)


def test_non_array_member_inside_weights_zip_is_refused(model):
    with zipfile.ZipFile(model / "weights.npz", "a") as zf:
        zf.writestr("notes.txt", b"hello")
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "notes.txt" in str(err)


# -- (d) a pickle / joblib file passed directly -----------------------------------------
@pytest.mark.parametrize("name,compress", [("model.joblib", 0), ("model.joblib", 3), ("model.pkl", None),
                                           ("model.bin", None)])
def test_pickle_file_as_path_is_refused(tmp_path, marker, name, compress):
    path = tmp_path / name
    if compress is None:
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:
        _joblib_file(path, marker, compress=compress)
    err = _load_error(path)
    assert isinstance(err, ModelFormatError)
    assert str(path) in str(err) and "pickle" in str(err) and "propdetect train" in str(err)


def test_plain_file_as_path_says_a_model_is_a_folder(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("hello", encoding="utf-8")
    err = _load_error(path)
    assert isinstance(err, ModelFormatError) and "folder" in str(err)


# -- corrupt, incomplete, inconsistent models -------------------------------------------
def _edit_meta(model: Path, **changes) -> None:
    meta = json.loads((model / "metadata.json").read_text(encoding="utf-8"))
    meta.update(changes)
    (model / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")


def _edit_arrays(model: Path, **changes) -> None:
    arrays = dict(np.load(model / "weights.npz"))
    arrays.update(changes)
    for k, v in list(arrays.items()):
        if v is None:
            del arrays[k]
    np.savez(model / "weights.npz", **arrays)


def test_missing_path(tmp_path):
    err = _load_error(tmp_path / "nope")
    assert isinstance(err, ModelFormatError) and "no such model folder" in str(err)


def test_path_the_os_cannot_use(tmp_path):
    err = _load_error(tmp_path / ("x" * 5000))
    assert isinstance(err, ModelFormatError) and "cannot read the model" in str(err)


def test_unreadable_file(model, monkeypatch):
    real = Path.read_bytes

    def deny(self):
        if self.name == "vocabulary.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    err = _load_error(model)
    assert isinstance(err, ModelFormatError)
    assert "vocabulary.txt" in str(err) and "Permission denied" in str(err)


@pytest.mark.parametrize("name", ["metadata.json", "vocabulary.txt", "weights.npz"])
def test_missing_file(model, name):
    (model / name).unlink()
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "lacks" in str(err) and name in str(err)


def test_model_file_that_is_a_folder(model):
    (model / "weights.npz").unlink()
    (model / "weights.npz").mkdir()
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "not a regular file" in str(err)


@pytest.mark.parametrize("cut", [0, 10, 1000, -100])
def test_truncated_weights(model, cut):
    data = (model / "weights.npz").read_bytes()
    (model / "weights.npz").write_bytes(data[:cut] if cut >= 0 else data[:cut])
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "weights.npz" in str(err)


def test_corrupt_weights_bytes(model):
    data = bytearray((model / "weights.npz").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)
    (model / "weights.npz").write_bytes(bytes(data))
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "weights.npz" in str(err)


def test_npy_instead_of_npz(model):
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    (model / "weights.npz").write_bytes(buf.getvalue())
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "not an .npz archive" in str(err)


def test_zip_bomb_is_refused_before_inflating(model):
    """A member that declares gigabytes is refused from the zip directory alone."""
    with zipfile.ZipFile(model / "weights.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("coef.npy", bytes(1000))
        zf.infolist()[0].file_size = 3 * 2**30  # what a 3 GB bomb's directory says
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "uncompressed" in str(err)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b"[1, 2]", b"[" * 100_000,
                                     b'{"format_version": 1}'])
def test_bad_metadata(model, content):
    (model / "metadata.json").write_bytes(content)
    err = _load_error(model)
    assert "metadata.json" in str(err) or "file format" in str(err)


@pytest.mark.parametrize("changes,needle", [
    ({"techniques": []}, "techniques"),
    ({"techniques": "loaded_language"}, "techniques"),
    ({"techniques": [1, 2]}, "techniques"),
    ({"versions": "1.9"}, "'versions' must be a JSON object"),
    ({"config": "x"}, "config"),
    ({"config": {"ngram_max": 0}}, "ngram_max"),
    ({"config": {"ngram_max": "2"}}, "ngram_max"),
    ({"config": {"evidence_top": -1}}, "evidence_top"),
    ({"config": {"max_features": 0}}, "max_features"),
    ({"config": {"char_ngrams": [1, 1000]}}, "char_ngrams"),
    ({"config": {"char_ngrams": [3, 2]}}, "char_ngrams"),
    ({"config": {"char_ngrams": "2-5"}}, "char_ngrams"),
    ({"config": {"char_min_df": 0}}, "char_min_df"),
    ({"config": {"char_max_features": -5}}, "char_max_features"),
    ({"config": {"dense_features": "yes"}}, "dense_features"),
])
def test_inconsistent_metadata(model, changes, needle):
    _edit_meta(model, **changes)
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and needle in str(err)


def test_duplicate_technique(model):
    meta = json.loads((model / "metadata.json").read_text(encoding="utf-8"))
    _edit_meta(model, techniques=meta["techniques"][:-1] + meta["techniques"][:1])
    err = _load_error(model)
    assert "twice" in str(err)


def test_duplicate_vocabulary_term_is_refused(model):
    terms = (model / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    terms[1] = terms[0]
    (model / "vocabulary.txt").write_text("\n".join(terms), encoding="utf-8")
    err = _load_error(model)
    assert "vocabulary.txt" in str(err) and "line 2 repeats line 1" in str(err)


def test_word_ngram_after_character_ngrams_is_refused(model):
    terms = (model / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    terms[0] = "#ab"  # a character n-gram before the word n-grams
    (model / "vocabulary.txt").write_text("\n".join(terms), encoding="utf-8")
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "word n-grams come first" in str(err)


def test_vocabulary_not_utf8(model):
    (model / "vocabulary.txt").write_bytes(b"\xff\xfe\xfa")
    err = _load_error(model)
    assert "vocabulary.txt" in str(err) and "UTF-8" in str(err)


def test_vocabulary_one_term_short(model):
    terms = (model / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    (model / "vocabulary.txt").write_text("\n".join(terms[:-1]), encoding="utf-8")
    err = _load_error(model)
    assert "do not fit together" in str(err)


@pytest.mark.parametrize("key", ["coef", "intercept", "thresholds", "idf", "dense_scale"])
def test_shape_mismatch(model, key):
    arr = np.load(model / "weights.npz")[key]
    _edit_arrays(model, **{key: arr[:-1]})
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and repr(key) in str(err) and "expected" in str(err)


def test_model_with_another_feature_layout(model):
    """Consistent shapes, but not the number of dense features this code computes."""
    w = dict(np.load(model / "weights.npz"))
    _edit_arrays(model, coef=w["coef"][:-1], dense_mean=w["dense_mean"][:-1],
                 dense_scale=w["dense_scale"][:-1],
                 **({"any_coef": w["any_coef"][:-1]} if "any_coef" in w else {}))
    err = _load_error(model)
    assert type(err) is ModelVersionError
    assert "shape and context features" in str(err) and "propdetect train" in str(err)


def test_missing_array(model):
    _edit_arrays(model, calib_a=None)
    err = _load_error(model)
    assert "calib_a" in str(err)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(model, bad):
    coef = np.load(model / "weights.npz")["coef"].copy()
    coef[5, 3] = bad
    _edit_arrays(model, coef=coef)
    err = _load_error(model)
    assert isinstance(err, ModelFormatError) and "'coef'" in str(err) and "finite" in str(err)


def test_string_array_is_refused(model):
    _edit_arrays(model, thresholds=np.array(["a"] * 14))
    err = _load_error(model)
    assert "'thresholds'" in str(err)


def test_a_tampered_but_valid_model_still_only_gives_scores(model):
    """Within the trust model: a valid file with odd weights gives odd scores, nothing else."""
    coef = np.load(model / "weights.npz")["coef"]
    _edit_arrays(model, coef=np.full_like(coef, 1e30))
    det = Detector.load(model)
    s = det.detect("They are very cruel traitors.").sentences[0]
    assert all(0.0 <= v <= 1.0 for v in s.scores.values())


def test_save_load_roundtrip_is_identical(model, tmp_path):
    det = Detector.load(model)
    out = det.save(tmp_path / "again")
    text = "They are very cruel traitors!\nThe council meets on Tuesday."
    assert Detector.load(out).detect(text) == det.detect(text)


# -- version safety -----------------------------------------------------------------------
# The file format is the only gate (issue 24): a model is plain arrays scored with NumPy,
# so the scikit-learn that trained it (recorded in "versions" as information) does not matter.
def test_pyproject_has_no_upper_bound_on_scientific_libraries():
    """A user's scikit-learn, NumPy or SciPy is never forced down (nor up past the oldest tested)."""
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = {Requirement(r).name: Requirement(r) for r in pyproject["project"]["dependencies"]}
    oldest = {}
    for line in (ROOT / "constraints" / "oldest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            oldest[name.strip()] = version.strip()
    for name in ("scikit-learn", "numpy", "scipy", "joblib", "tqdm", "onnxruntime", "tokenizers"):
        spec = reqs[name].specifier
        assert all(s.operator == ">=" for s in spec), f"{name}: {spec} caps the version"
        # the lower bound is the oldest version the second CI job tests
        assert [s.version for s in spec] == [oldest[name]], (name, str(spec), oldest.get(name))
    assert reqs["pysbd"].specifier.contains(oldest["pysbd"])


@pytest.mark.parametrize("recorded", ["0.24.2", "1.6.0", "1.10.0", "2.0.0", "not a version", None])
def test_any_recorded_sklearn_version_loads(model, recorded):
    """The scikit-learn a model was trained with is information, not a gate: same scores."""
    meta = json.loads((model / "metadata.json").read_text(encoding="utf-8"))
    if recorded is None:
        del meta["versions"]["scikit-learn"]
    else:
        meta["versions"]["scikit-learn"] = recorded
    (model / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    text = "They are very cruel traitors!\nThe council meets on Tuesday."
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Detector.load(model).detect(text) == Detector.load().detect(text)


def test_model_without_versions_loads(model):
    _edit_meta(model, versions=None)
    assert Detector.load(model).detect("Hello.").sentences


@pytest.mark.parametrize("fmt", [FORMAT_VERSION + 1, 10**6])
def test_newer_format_raises_one_clear_error(model, fmt):
    """A model from a newer propdetect: one error that names the fix, even when the
    folder holds files this version does not know."""
    meta = json.loads((model / "metadata.json").read_text(encoding="utf-8"))
    meta["format_version"] = fmt
    meta["versions"]["propdetect"] = "9.1.0"
    (model / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    (model / "heads.npz").write_bytes(b"PK\x03\x04 a file of a future format")
    (model / "weights.npz").unlink()
    err = _load_error(model)
    assert type(err) is ModelVersionError
    msg = str(err)
    assert msg == (f"{model}: model file format {fmt} was written by propdetect 9.1.0, newer than this "
                   f"propdetect {propdetect.__version__}, which reads formats 1 to {FORMAT_VERSION}; "
                   "upgrade propdetect (pip install -U propdetect)")
    assert err.__cause__ is None and err.__context__ is None


def test_newer_format_accurate_model_raises_the_same_error(tmp_path):
    dst = tmp_path / "acc"
    shutil.copytree(bundled_model_path("accurate"), dst)
    meta = json.loads((dst / "metadata.json").read_text(encoding="utf-8"))
    meta["format_version"] = FORMAT_VERSION + 1
    (dst / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    (dst / "tokenizer.json").unlink()
    (dst / "pooler.onnx").write_bytes(b"")
    err = _load_error(dst)
    assert type(err) is ModelVersionError and f"model file format {FORMAT_VERSION + 1} was written by" in str(err)
    assert "upgrade propdetect" in str(err)


@pytest.mark.parametrize("fmt", [0, "1", None, True, 1.5])
def test_unknown_format_version(model, fmt):
    _edit_meta(model, format_version=fmt)
    err = _load_error(model)
    assert type(err) is ModelVersionError
    assert f"model file format {fmt!r} is not one this propdetect" in str(err)
    assert "upgrade propdetect" in str(err) and "propdetect train" in str(err)


def test_loading_imports_no_pickle_capable_library(model):
    """The loader never even imports scikit-learn or joblib (which could unpickle)."""
    import subprocess
    import sys

    code = (
        "import sys, propdetect; propdetect.Detector.load(sys.argv[1]);"
        "print(sorted(m for m in ('sklearn', 'joblib', 'dill', 'cloudpickle') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert out.stdout.strip() == "[]"
