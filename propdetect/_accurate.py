"""The accurate model: the linear model and a fine-tuned encoder, combined.

An accurate model folder holds::

    metadata.json    kind "accurate": techniques, the combination rule, the encoder's
                     recipe and the SHA-256 of each file below, versions, metrics
    encoder.onnx     the encoder with its sentence and token heads, int8 weights
    tokenizer.json   its tokeniser
    linear/          a linear model folder (see propdetect._persist), or none when
                     metadata.json names a bundled one ("linear": {"bundled": NAME})

Nothing in it can run code when read (JSON, text, an ONNX graph, NumPy arrays), and
every file is checked against its digest before it is used.

The combination (:class:`Combination`), chosen on held-out training articles:

1. the encoder's sentence probabilities are calibrated with Platt's method per output
   (``sigmoid(a * logit(p) + b)``), so that both halves give probabilities;
2. a technique's score is ``w * linear + (1 - w) * encoder``, with a weight ``w``
   of its own, and so is the propaganda ("any technique") score: a mean of two
   probabilities, so a probability too. The rule chosen for the bundled model is
   the mean of each half's probability relative to its own threshold
   (``a * p_linear / t_linear + (1 - a) * p_encoder / t_encoder >= 1``), which is
   this form with ``w`` and the threshold derived from ``a`` and the two halves'
   thresholds (:func:`relative_rule`);
3. decisions as for the linear model (:func:`propdetect._heads.decide`) with the
   combination's own thresholds;
4. the evidence of a named technique is the phrases whose tokens the encoder's token
   head scores for it (:func:`token_evidence`), not scattered words.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._encoder import EncoderScorer, TokenScores
from ._persist import (
    ModelFormatError,
    _looks_pickled,
    _pickle_error,
    _read_small,
    check_format_first,
    check_versions,
)

__all__ = ["ACCURATE_KIND", "Combination", "EncoderPart", "is_accurate_folder", "read_accurate",
           "token_evidence", "write_accurate", "sha256_file"]

ACCURATE_KIND = "accurate"
ENCODER_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
LINEAR_FOLDER = "linear"
_FILES = frozenset({"metadata.json", ENCODER_FILE, TOKENIZER_FILE})
_MAX_ENCODER_BYTES = 512 * 2**20
_MAX_TOKENIZER_BYTES = 64 * 2**20


def sha256_file(data: bytes) -> str:
    """``sha256:`` and the hex digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Combination:
    """How the two halves' probabilities become the accurate model's.

    ``columns`` are the encoder outputs that match "any" and the model's techniques
    (in order); ``linear_weight``, ``calib_a`` and ``calib_b`` have one entry per
    such output, the thresholds one per technique.
    """

    columns: np.ndarray
    linear_weight: np.ndarray
    calib_a: np.ndarray
    calib_b: np.ndarray
    thresholds: np.ndarray
    any_threshold: float
    evidence_threshold: float

    def calibrate(self, p_enc: np.ndarray) -> np.ndarray:
        """The encoder's probabilities, Platt-calibrated (``(n, 1 + k)``)."""
        z = self.calib_a * _logit(p_enc[:, self.columns]) + self.calib_b
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def combine(self, p_lin: np.ndarray, p_any_lin: np.ndarray | None,
                p_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Technique probabilities ``(n, k)`` and propaganda probabilities ``(n,)``."""
        q = self.calibrate(p_enc)
        w = self.linear_weight
        p = w[1:] * p_lin + (1.0 - w[1:]) * q[:, 1:]
        any_lin = p_any_lin if p_any_lin is not None else p_lin.max(axis=1, initial=0.0)
        return p, w[0] * any_lin + (1.0 - w[0]) * q[:, 0]

    def token_column(self, k: int) -> int:
        """The token-head output of the model's technique ``k``."""
        return int(self.columns[1 + k])

    def to_dict(self, techniques: Sequence[str]) -> dict[str, Any]:
        return {
            "linear_weight": dict(zip(["any", *techniques], self.linear_weight.tolist())),
            "calibration": {"outputs": ["any", *techniques], "a": self.calib_a.tolist(),
                            "b": self.calib_b.tolist()},
            "thresholds": dict(zip(techniques, self.thresholds.tolist())),
            "propaganda_threshold": self.any_threshold,
            "evidence_threshold": self.evidence_threshold,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], techniques: Sequence[str], outputs: Sequence[str],
                  where: str) -> Combination:
        """From metadata: ``outputs`` are the encoder's output names ("any" first)."""
        try:
            columns = np.asarray([list(outputs).index(t) for t in ["any", *techniques]], dtype=np.int64)
        except ValueError:
            raise ModelFormatError(f"{where}: the encoder does not score every technique of the model") from None
        try:
            cal = d["calibration"]
            a = np.asarray(cal["a"], dtype=np.float64)
            b = np.asarray(cal["b"], dtype=np.float64)
            thr = np.asarray([float(d["thresholds"][t]) for t in techniques], dtype=np.float64)
            lw = d["linear_weight"]
            w = np.asarray([float(lw[t]) for t in ["any", *techniques]], dtype=np.float64)
            out = cls(columns, w, a, b, thr, float(d["propaganda_threshold"]),
                      float(d["evidence_threshold"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{where}: metadata.json has no valid \"combination\" ({exc})") from None
        if a.shape != (1 + len(techniques),) or b.shape != a.shape:
            raise ModelFormatError(f"{where}: the combination's calibration does not fit "
                                   f"{len(techniques)} techniques")
        values = np.r_[a, b, thr, out.linear_weight, out.any_threshold, out.evidence_threshold]
        if not np.isfinite(values).all() or not ((0.0 <= w) & (w <= 1.0)).all():
            raise ModelFormatError(f"{where}: the combination holds values out of range")
        return out

    @classmethod
    def relative_rule(cls, columns: np.ndarray, a: float, calib_a: np.ndarray, calib_b: np.ndarray,
                      lin_thr: np.ndarray, enc_thr: np.ndarray, evidence_threshold: float) -> Combination:
        """The rule ``a * p_lin / t_lin + (1 - a) * q / t_enc >= 1`` per output ("any"
        first in ``lin_thr`` and ``enc_thr``) as weights and thresholds.

        With ``u = a / t_lin`` and ``v = (1 - a) / t_enc`` the rule is
        ``(u * p_lin + v * q) / (u + v) >= 1 / (u + v)``: a weighted mean of the two
        probabilities and a threshold.

        >>> c = Combination.relative_rule(np.array([0, 1]), 0.5, np.ones(2), np.zeros(2),
        ...                               np.array([0.5, 0.2]), np.array([0.5, 0.6]), 0.5)
        >>> c.linear_weight.round(3).tolist(), c.thresholds.round(3).tolist(), c.any_threshold
        ([0.5, 0.75], [0.3], 0.5)
        """
        u = a / np.maximum(lin_thr, 1e-9)
        v = (1.0 - a) / np.maximum(enc_thr, 1e-9)
        w = u / (u + v)
        thr = 1.0 / (u + v)
        return cls(np.asarray(columns), w, np.asarray(calib_a, dtype=np.float64),
                   np.asarray(calib_b, dtype=np.float64), thr[1:], float(thr[0]), evidence_threshold)

    def with_thresholds(self, thresholds: np.ndarray, any_threshold: float) -> Combination:
        return Combination(self.columns, self.linear_weight, self.calib_a, self.calib_b, np.asarray(thresholds, dtype=np.float64),
                           float(any_threshold), self.evidence_threshold)


@dataclass(frozen=True)
class EncoderPart:
    """The accurate model's encoder half: the scorer, its files and the combination."""

    scorer: EncoderScorer
    combination: Combination
    onnx_bytes: bytes
    tokenizer_json: str

    @property
    def digests(self) -> dict[str, str]:
        return {ENCODER_FILE: sha256_file(self.onnx_bytes),
                TOKENIZER_FILE: sha256_file(self.tokenizer_json.encode("utf-8"))}


def token_evidence(tokens: TokenScores, column: int, threshold: float, top: int,
                   text: str | None = None) -> list[tuple[int, int]]:
    """Phrases of one sentence that carry a technique (offsets into the sentence).

    Tokens whose score in ``column`` (the technique's token-head output) reaches
    ``threshold`` are grown to whole words, runs of consecutive such tokens become
    phrases, and the ``top`` phrases with the highest token score are kept, in text
    order. With no token at the threshold, the word of the highest-scoring token
    stands alone. Given the sentence's ``text``, punctuation never starts or ends a
    phrase, nor joins a word.

    >>> t = TokenScores(np.array([[0, 4], [5, 10], [10, 13], [13, 14], [15, 18]]),
    ...                 np.array([[0, .1], [0, .8], [0, .3], [0, .6], [0, .7]], dtype=np.float32))
    >>> text = "They traitors, now"
    >>> token_evidence(t, 1, 0.5, 3, text), text[5:13]
    ([(5, 13), (15, 18)], 'traitors')
    >>> token_evidence(t, 1, 0.5, 3)
    [(5, 18)]
    >>> token_evidence(t, 1, 0.75, 1, text)
    [(5, 13)]
    >>> token_evidence(t, 1, 0.95, 3, text)
    [(5, 13)]
    """
    offs = tokens.offsets
    if top <= 0 or len(offs) == 0:
        return []
    s = tokens.probs[:, column].astype(np.float64)
    if text is not None:
        punct = np.array([not any(c.isalnum() for c in text[a:b]) for a, b in offs.tolist()], dtype=bool)
    else:
        punct = np.zeros(len(offs), dtype=bool)
    s = np.where(punct, -1.0, s)
    # word ids: a token starts a new word unless it touches the previous one and
    # neither is punctuation
    new_word = np.r_[True, (offs[1:, 0] > offs[:-1, 1]) | punct[1:] | punct[:-1]]
    word = np.cumsum(new_word) - 1
    hot = s >= threshold
    if not hot.any():
        hot = word == word[int(np.argmax(s))]
    else:
        hot = np.isin(word, word[hot])  # whole words
    hot &= ~punct
    phrases: list[tuple[int, int, float]] = []
    j, n = 0, len(offs)
    while j < n:
        if not hot[j]:
            j += 1
            continue
        i = j
        while j + 1 < n and hot[j + 1]:
            j += 1
        phrases.append((int(offs[i, 0]), int(offs[j, 1]), float(s[i : j + 1].max())))
        j += 1
    phrases.sort(key=lambda x: -x[2])
    return sorted((a, b) for a, b, _ in phrases[:top])


# -- the folder ----------------------------------------------------------------
def is_accurate_folder(folder: Path) -> bool:
    """Whether ``folder`` holds an accurate model (its metadata says so)."""
    meta = folder / "metadata.json"
    try:
        if not (folder / ENCODER_FILE).exists() or not meta.is_file():
            return False
        return json.loads(_read_small(meta, 16 * 2**20)).get("kind") == ACCURATE_KIND
    except (OSError, ValueError, AttributeError):
        return False  # read_model then says what is wrong with the folder


def read_accurate(folder: Path, bundled_folder: Any) -> tuple[dict[str, Any], Path, EncoderPart]:
    """Read an accurate model folder: ``(metadata, linear model folder, encoder part)``.

    ``bundled_folder(name)`` gives the folder of a bundled model that the metadata
    may name as its linear half. Every file is checked against its digest.
    """
    if not folder.is_dir():
        raise ModelFormatError(f"{folder}: no such model folder")
    for p in sorted(folder.iterdir()):
        if p.is_file() and _looks_pickled(p, p.read_bytes()[:8]):
            raise _pickle_error(p)
    check_format_first(folder)
    for p in sorted(folder.iterdir()):
        if p.name not in _FILES and not (p.name == LINEAR_FOLDER and p.is_dir()):
            raise ModelFormatError(f"{folder}: unexpected {p.name} in an accurate model folder; it holds "
                                   f"only {', '.join(sorted(_FILES))} and optionally {LINEAR_FOLDER}/")
    missing = sorted(n for n in _FILES if not (folder / n).is_file())
    if missing:
        raise ModelFormatError(f"{folder}: accurate model folder lacks {', '.join(missing)}")
    try:
        meta = json.loads(_read_small(folder / "metadata.json", 16 * 2**20).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFormatError(f"{folder / 'metadata.json'}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("kind") != ACCURATE_KIND:
        raise ModelFormatError(f"{folder}: metadata.json does not describe an accurate model")
    check_versions(meta, str(folder))
    techniques = meta.get("techniques")
    if not isinstance(techniques, list) or not techniques:
        raise ModelFormatError(f"{folder}: metadata.json lists no techniques")
    enc_meta = meta.get("encoder")
    if not isinstance(enc_meta, dict) or not isinstance(enc_meta.get("files"), dict):
        raise ModelFormatError(f"{folder}: metadata.json has no \"encoder\" with its files' digests")
    onnx_bytes = _read_small(folder / ENCODER_FILE, _MAX_ENCODER_BYTES)
    tok_bytes = _read_small(folder / TOKENIZER_FILE, _MAX_TOKENIZER_BYTES)
    for name, data in ((ENCODER_FILE, onnx_bytes), (TOKENIZER_FILE, tok_bytes)):
        want = enc_meta["files"].get(name)
        if want != sha256_file(data):
            raise ModelFormatError(f"{folder / name}: its SHA-256 is not the one metadata.json records "
                                   "(the file was changed or damaged); reinstall or retrain the model")
    try:
        tokenizer_json = tok_bytes.decode("utf-8")
        scorer = EncoderScorer(onnx_bytes, tokenizer_json, enc_meta.get("runtime", {}))
    except Exception as exc:  # the tokenizers library raises its own exception type
        raise ModelFormatError(f"{folder / TOKENIZER_FILE}: not a tokenizer this version reads ({exc})") from None
    combination = Combination.from_dict(meta.get("combination") or {}, techniques,
                                        enc_meta.get("outputs") or [], str(folder))
    linear = meta.get("linear")
    if (folder / LINEAR_FOLDER).is_dir():
        linear_folder = folder / LINEAR_FOLDER
    elif isinstance(linear, dict) and isinstance(linear.get("bundled"), str):
        linear_folder = bundled_folder(linear["bundled"])
    else:
        raise ModelFormatError(f"{folder}: no linear/ folder and metadata.json names no bundled linear model")
    if isinstance(linear, dict) and linear.get("weights_sha256"):
        got = sha256_file((linear_folder / "weights.npz").read_bytes())
        if got != linear["weights_sha256"]:
            raise ModelFormatError(f"{linear_folder}: the linear model is not the one this accurate model "
                                   "was built with (weights.npz digest differs)")
    return meta, linear_folder, EncoderPart(scorer, combination, onnx_bytes, tokenizer_json)


def write_accurate(path: str | os.PathLike[str], meta: Mapping[str, Any], part: EncoderPart,
                   write_linear: Any) -> Path:
    """Write an accurate model folder; ``write_linear(folder)`` writes its linear half
    (or is ``None`` when ``meta`` names a bundled one)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ModelFormatError(f"{folder}: exists and is not a folder")
    if folder.is_dir():
        extra = {p.name for p in folder.iterdir()} - _FILES - {LINEAR_FOLDER}
        if extra:
            raise ModelFormatError(f"{folder}: refusing to overwrite a folder that holds other files "
                                   f"({', '.join(sorted(extra))})")
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta)
    enc = dict(meta.get("encoder") or {})
    enc["files"] = part.digests
    meta["encoder"] = enc
    if write_linear is not None:
        write_linear(folder / LINEAR_FOLDER)
        linear = dict(meta.get("linear") or {})
        linear.pop("bundled", None)
        linear["weights_sha256"] = sha256_file((folder / LINEAR_FOLDER / "weights.npz").read_bytes())
        meta["linear"] = linear
    (folder / ENCODER_FILE).write_bytes(part.onnx_bytes)
    (folder / TOKENIZER_FILE).write_text(part.tokenizer_json, encoding="utf-8")
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder
