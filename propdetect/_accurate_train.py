"""Training the accurate model: encoder + linear model + the rule that combines them.

Needs the ``train`` extra (torch, transformers, onnx) for the encoder; imported only
by ``propdetect train --accurate`` and ``training/build_accurate.py``.

Data protocol, all inside the training documents:

1. the documents are split, whole, into a fitting part and a held-out part
   (:func:`propdetect._encoder_train.holdout_split`, 15% by default);
2. the encoder is fine-tuned on the fitting part, and so is a linear model with the
   same recipe as the final one;
3. on the held-out part, both score every sentence; there the rule is chosen: the
   encoder's Platt calibration, the linear model's weight and a threshold floor
   (by cross-fitting: thresholds tuned on one half of the held-out documents,
   scored on the other, both ways), then the thresholds themselves and the token
   threshold of the evidence;
4. the final linear half is trained on all the documents (or is the bundled one,
   which was), and the encoder half is the one from step 2.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ._accurate import ACCURATE_KIND, Combination, EncoderPart, sha256_file
from ._config import TrainingConfig
from ._corpus import LabelledDocument, data_digest
from ._detector import BUNDLED_MODEL, Detector, bundled_model_path
from ._encoder import EncoderScorer, TokenScores
from ._encoder_train import EncoderConfig, fit_encoder, holdout_split, sentence_rows
from ._heads import decide
from ._metrics import best_threshold, multilabel_scores
from ._persist import FORMAT_VERSION

__all__ = ["fit_accurate", "WEIGHTS", "FLOORS", "EVIDENCE_THRESHOLDS"]

Progress = Callable[[str], None]

#: The linear model's weight in the combination, tried on the held-out part.
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
#: Lowest technique threshold allowed (an encoder head with few positives can
#: otherwise take a threshold near 0 and flood the output).
FLOORS = (0.0, 0.1, 0.2, 0.3)
#: Token-head thresholds tried for the evidence.
EVIDENCE_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _linear_scores(det: Detector, docs: Sequence[LabelledDocument]) -> tuple[np.ndarray, np.ndarray | None]:
    P, A = [], []
    for d in docs:
        sents = [d.text[a:b] for a, b in d.spans]
        for p, pa, _ in det._iter_blocks(sents):
            P.append(p)
            A.append(pa)
    p_any = None if A and A[0] is None else np.concatenate(A)
    return np.vstack(P), p_any


def _encoder_scores(scorer: EncoderScorer, docs: Sequence[LabelledDocument]
                    ) -> tuple[np.ndarray, list[TokenScores]]:
    P, T = [], []
    for d in docs:
        sents = [d.text[a:b] for a, b in d.spans]
        p, toks = scorer.score(sents, ["", *sents[:-1]])
        P.append(p)
        T.extend(toks or [])
    return np.vstack(P), T


def _platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from ._train import _platt as platt

    if y.sum() == 0 or y.sum() == len(y):
        return 1.0, 0.0
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return platt(np.log(q) - np.log1p(-q), y)


def _rule(Y: np.ndarray, P: np.ndarray, p_any: np.ndarray, floor: float) -> tuple[float, np.ndarray]:
    """The "any" threshold (best binary F1) and per-technique thresholds (best F1
    among the flagged sentences), none below ``floor``."""
    any_thr = float(best_threshold(p_any, Y.any(axis=1))[0])
    Pg = P * (p_any >= any_thr)[:, None]
    thr = np.array([best_threshold(Pg[:, k], Y[:, k])[0] for k in range(P.shape[1])])
    return any_thr, np.maximum(thr, floor)


def _objective(scores: dict[str, Any]) -> float:
    """What the rule is chosen for: technique micro-F1 + macro-F1 + binary F1."""
    return float(scores["micro_f1"] + scores["macro_f1"] + scores["binary_f1"])


def evidence_measures(tokens: list[TokenScores], texts: Sequence[str], gold: list[list[tuple[int, int, int]]],
                      pred: np.ndarray, comb: Combination, threshold: float, top: int) -> dict[str, float]:
    """The evidence measures of ``propdetect evaluate`` on held-out sentences: over
    the flagged sentences that hold a gold span, the share of the evidence's
    non-space characters inside a gold span (``inside_gold``) and the share of
    decisions whose evidence touches a gold span of the technique named
    (``touches_named``)."""
    from ._accurate import token_evidence

    inside = total = decisions = touching = 0
    for i in np.flatnonzero(pred.any(axis=1)):
        if not gold[i]:
            continue
        text = texts[i]
        g = np.zeros(len(text), dtype=bool)
        for _, x, z in gold[i]:
            g[x:z] = True
        vis = np.array([not c.isspace() for c in text], dtype=bool)
        e = np.zeros_like(g)
        for k in np.flatnonzero(pred[i]):
            spans = token_evidence(tokens[i], comb.token_column(int(k)), threshold, top, text)
            for a, b in spans:
                e[a:b] = True
            decisions += 1
            if any(a < z and x < b for a, b in spans for t, x, z in gold[i] if t == k):
                touching += 1
        e &= vis
        inside += int((e & g).sum())
        total += int(e.sum())
    return {"inside_gold": inside / total if total else 0.0,
            "touches_named": touching / decisions if decisions else 0.0}


def _cross_fitted(Y: np.ndarray, half: np.ndarray, techniques: Sequence[str],
                  rule: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, float]]) -> dict[str, Any]:
    """Scores of a rule whose thresholds are tuned on one half of the held-out
    documents and applied to the other, both ways. ``rule(fit_rows)`` gives
    ``(p, p_any, thresholds, any_threshold)`` for all rows."""
    pred = np.zeros(Y.shape, dtype=bool)
    for fit_part in (half, ~half):
        p, pa, thr, any_thr = rule(fit_part)
        pred[~fit_part] = decide(p[~fit_part], thr, pa[~fit_part], any_thr)
    return multilabel_scores(Y, pred, techniques)


def choose_combination(Y: np.ndarray, p_lin: np.ndarray, p_any_lin: np.ndarray | None, p_enc: np.ndarray,
                       columns: np.ndarray, doc_of_row: np.ndarray, techniques: Sequence[str],
                       lin_thresholds: np.ndarray, progress: Progress
                       ) -> tuple[Callable[[np.ndarray], Combination], dict[str, Any]]:
    """Choose the combination on held-out scores.

    Two families are tried, each with a weight ``w`` and a threshold floor:
    ``mean`` (one weight for all outputs, thresholds tuned on the mean) and
    ``relative`` (each half's probability relative to its own threshold: the
    linear model's own thresholds ``lin_thresholds``, "any" first, and encoder
    thresholds tuned on its calibrated probabilities). Each candidate is scored by
    cross-fitting over two halves of the held-out documents; the best micro-F1 +
    macro-F1 + binary F1 wins.

    Returns
    -------
    make : callable
        ``make(final_linear_thresholds)``: the chosen combination, its thresholds
        tuned on all the held-out sentences (the relative rule takes the final
        linear model's own thresholds).
    record : dict
        Every candidate's cross-fitted scores and the choice.
    """
    K = len(techniques)
    Yall = np.column_stack([Y.any(axis=1), Y]).astype(np.int8)
    cols = p_enc[:, columns]
    ab = [_platt(cols[:, j], Yall[:, j]) for j in range(1 + K)]
    calib_a, calib_b = np.array([a for a, _ in ab]), np.array([b for _, b in ab])
    unit = Combination(columns, np.zeros(1 + K), calib_a, calib_b, np.full(K, 0.5), 0.5, 0.5)
    q = unit.calibrate(p_enc)  # the encoder's calibrated probabilities, "any" first
    any_lin = p_any_lin if p_any_lin is not None else p_lin.max(axis=1, initial=0.0)
    docs = np.unique(doc_of_row)
    half = np.isin(doc_of_row, docs[::2])

    def mean_rule(w: float, floor: float) -> Callable[[np.ndarray], tuple[Any, ...]]:
        p = w * p_lin + (1 - w) * q[:, 1:]
        pa = w * any_lin + (1 - w) * q[:, 0]

        def rule(rows: np.ndarray) -> tuple[Any, ...]:
            any_thr, thr = _rule(Y[rows], p[rows], pa[rows], floor)
            return p, pa, thr, any_thr
        return rule

    def relative(a: float, floor: float, lin_thr: np.ndarray, rows: np.ndarray) -> Combination:
        enc_any, enc_thr = _rule(Y[rows], q[rows, 1:], q[rows, 0], floor)
        return Combination.relative_rule(columns, a, calib_a, calib_b, lin_thr, np.r_[enc_any, enc_thr], 0.5)

    def relative_rule(a: float, floor: float) -> Callable[[np.ndarray], tuple[Any, ...]]:
        def rule(rows: np.ndarray) -> tuple[Any, ...]:
            c = relative(a, floor, lin_thresholds, rows)
            p, pa = c.combine(p_lin, p_any_lin, p_enc)
            return p, pa, c.thresholds, c.any_threshold
        return rule

    tried = []
    for family, make_rule in (("mean", mean_rule), ("relative", relative_rule)):
        for w in WEIGHTS:
            if family == "relative" and w in (0.0, 1.0):
                continue  # one half alone: the mean family has those
            for floor in FLOORS:
                sc = _cross_fitted(Y, half, techniques, make_rule(w, floor))
                tried.append({"family": family, "linear_weight": w, "floor": floor,
                              "micro_f1": round(sc["micro_f1"], 4), "macro_f1": round(sc["macro_f1"], 4),
                              "binary_f1": round(sc["binary_f1"], 4), "objective": round(_objective(sc), 4)})
    best = max(tried, key=lambda r: (r["objective"], r["micro_f1"]))
    progress(f"combination: {best['family']} rule, linear weight {best['linear_weight']}, floor {best['floor']} "
             f"(cross-fitted on the held-out part: micro {best['micro_f1']:.3f}, "
             f"macro {best['macro_f1']:.3f}, binary {best['binary_f1']:.3f})")
    w, floor = best["linear_weight"], best["floor"]
    everything = np.ones(len(Y), dtype=bool)

    def make(final_lin_thresholds: np.ndarray) -> Combination:
        if best["family"] == "relative":
            return relative(w, floor, final_lin_thresholds, everything)
        _, _, thr, any_thr = mean_rule(w, floor)(everything)
        return Combination(columns, np.full(1 + K, w), calib_a, calib_b, thr, any_thr, 0.5)

    return make, {"tried": tried, "chosen": best}


def _same_encoder(folder: Path, key: dict[str, Any]) -> bool:
    """Whether ``folder`` holds an encoder fine-tuned on the same data with the same recipe."""
    try:
        meta = json.loads((folder / "encoder-meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return ((folder / "encoder.onnx").is_file() and meta.get("fit_data_digest") == key["fit_data_digest"]
            and meta.get("recipe") == key["recipe"])


def fit_accurate(docs: Sequence[LabelledDocument], base: str | Path | None, *,
                 linear_config: TrainingConfig | None = None,
                 encoder_config: EncoderConfig | None = None,
                 holdout: float = 0.15, name: str = "accurate",
                 final_linear: Detector | str | None = None,
                 encoder_folder: str | Path | None = None,
                 work: str | Path | None = None,
                 data_description: str = "", data_source: dict[str, Any] | None = None,
                 n_jobs: int | None = None,
                 progress: Progress | None = None) -> Detector:
    """Train an accurate model (see the module docstring for the protocol).

    Parameters
    ----------
    docs : sequence of LabelledDocument
        All the training documents.
    base : path or None
        The base encoder folder (``config.json``, weights, ``tokenizer.json``);
        unused (may be None) with ``encoder_folder``.
    linear_config : TrainingConfig, optional
        The linear model's recipe (the default recipe if not given).
    encoder_config : EncoderConfig, optional
    holdout : float
        Share of the documents held out to choose the combination.
    name : str
        The model's name in its metadata and in every record it makes.
    final_linear : Detector or "bundled", optional
        The linear half to ship; ``"bundled"`` names the bundled linear model
        (trained on PTC-2020 train) by reference instead of copying it. By default
        a linear model is trained on all ``docs``.
    encoder_folder : path, optional
        Reuse an encoder already fine-tuned on the fitting part (``encoder.onnx``,
        ``tokenizer.json``, ``encoder-meta.json`` as this function writes them into
        ``work``/encoder) instead of training one.
    work : path, optional
        Folder for the intermediate results (the encoder, its fp32 graph). An
        encoder already there, fine-tuned on the same fitting documents with the
        same recipe (their digest is in its ``encoder-meta.json``), is reused: a run
        stopped after the encoder's training resumes at the combination.
    n_jobs : int, optional
        Workers for the linear model's training.
    progress : callable, optional

    Returns
    -------
    Detector
        An accurate model; ``save()`` writes its folder.
    """
    from ._train import fit_detector, library_versions

    say = progress or (lambda _m: None)
    cfg = linear_config or TrainingConfig()
    enc_cfg = encoder_config or EncoderConfig()
    fit_docs, hold_docs = holdout_split(docs, holdout)
    if not hold_docs or not fit_docs:
        raise ValueError("the accurate model needs at least 2 training documents (one is held out)")
    say(f"accurate: {len(fit_docs)} documents to fit, {len(hold_docs)} held out to choose the combination")
    work_dir = Path(work) if work is not None else None
    fit_key = {"fit_data_digest": data_digest(fit_docs), "recipe": asdict(enc_cfg)}
    if encoder_folder is None and work_dir is not None and _same_encoder(work_dir / "encoder", fit_key):
        encoder_folder = work_dir / "encoder"
    if encoder_folder is not None:
        enc_dir = Path(encoder_folder)
        enc_meta = json.loads((enc_dir / "encoder-meta.json").read_text(encoding="utf-8"))
        say(f"accurate: reusing the encoder in {enc_dir}")
    else:
        import tempfile

        if base is None:
            raise ValueError("fit_accurate needs a base encoder folder (or encoder_folder)")
        enc_dir = (work_dir / "encoder") if work_dir is not None else Path(tempfile.mkdtemp(prefix="propdetect-enc-"))
        enc_meta = fit_encoder(fit_docs, base, enc_dir, enc_cfg, say, work=work_dir)
        enc_meta["fit_data_digest"] = fit_key["fit_data_digest"]
        (enc_dir / "encoder-meta.json").write_text(json.dumps(enc_meta, indent=1), encoding="utf-8")
    onnx_bytes = (enc_dir / "encoder.onnx").read_bytes()
    tokenizer_json = (enc_dir / "tokenizer.json").read_text(encoding="utf-8")
    scorer = EncoderScorer(onnx_bytes, tokenizer_json, enc_meta["runtime"])

    say("accurate: the linear model on the fitting part (for held-out scores)")
    lin_fit = fit_detector(fit_docs, cfg, name=f"{name}-linear-holdout", n_jobs=n_jobs)
    techniques = list(lin_fit.techniques)
    p_lin, p_any_lin = _linear_scores(lin_fit, hold_docs)
    say("accurate: the encoder on the held-out part")
    p_enc, tokens = _encoder_scores(scorer, hold_docs)
    rows = sentence_rows(hold_docs, techniques)
    Y = rows.Y[:, 1:].astype(np.int8)
    outputs = enc_meta["outputs"]
    columns = np.array([outputs.index(t) for t in ["any", *techniques]], dtype=np.int64)
    doc_of_row = np.repeat(np.arange(len(hold_docs)), [len(d.spans) for d in hold_docs])
    def own_thresholds(det: Detector) -> np.ndarray:
        """A linear model's own thresholds, "any" first."""
        if det.propaganda_threshold is not None:
            return np.r_[det.propaganda_threshold, det._thresholds]
        any_lin = p_lin.max(axis=1, initial=0.0)  # no "any" head: tuned here
        return np.r_[best_threshold(any_lin, Y.any(axis=1))[0], det._thresholds]

    make, record = choose_combination(Y, p_lin, p_any_lin, p_enc, columns, doc_of_row, techniques,
                                      own_thresholds(lin_fit), say)
    held_comb = make(own_thresholds(lin_fit))  # the rule as the held-out scores saw it

    # the evidence's token threshold: the best sum of the two evidence measures
    p, pa = held_comb.combine(p_lin, p_any_lin, p_enc)
    pred = decide(p, held_comb.thresholds, pa, held_comb.any_threshold)
    top = int(cfg.to_dict().get("evidence_top", 3))
    ev = {t: evidence_measures(tokens, rows.texts, rows.spans, pred, held_comb, t, top)
          for t in EVIDENCE_THRESHOLDS}
    ev_thr = max(EVIDENCE_THRESHOLDS, key=lambda t: ev[t]["inside_gold"] + ev[t]["touches_named"])
    say(f"accurate: evidence token threshold {ev_thr} (held out: {ev[ev_thr]['inside_gold']:.3f} of evidence "
        f"characters inside a gold span, {ev[ev_thr]['touches_named']:.3f} of decisions touch the named one)")
    held = multilabel_scores(Y, pred, techniques)

    # the linear half that ships
    linear_ref: dict[str, Any] = {}
    if isinstance(final_linear, str):
        if final_linear != "bundled":
            raise ValueError("final_linear must be a Detector, 'bundled' or None")
        lin = Detector.load(BUNDLED_MODEL)
        linear_ref = {"bundled": BUNDLED_MODEL,
                      "weights_sha256": sha256_file((bundled_model_path() / "weights.npz").read_bytes())}
    elif final_linear is not None:
        lin = final_linear
    else:
        say("accurate: the linear model on all the documents")
        lin = fit_detector(docs, cfg, name=f"{name}-linear", n_jobs=n_jobs, data_description=data_description,
                           data_source=data_source)
    if list(lin.techniques) != techniques:
        raise ValueError("the final linear model scores other techniques than the held-out one")
    final = make(own_thresholds(lin))
    comb = Combination(final.columns, final.linear_weight, final.calib_a, final.calib_b, final.thresholds,
                       final.any_threshold, ev_thr)
    n_sent = sum(len(d.spans) for d in docs)
    meta = {
        "name": name,
        "kind": ACCURATE_KIND,
        "format_version": FORMAT_VERSION,
        "model_version": f"{name}-{_dt.date.today().isoformat()}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "techniques": techniques,
        "versions": library_versions("onnxruntime", "tokenizers", "torch", "transformers"),
        "training_data": {
            "description": data_description,
            "source": dict(data_source or {}),
            "digest": data_digest(docs),
            "documents": len(docs),
            "sentences": n_sent,
            "held_out_documents": sorted(d.id for d in hold_docs),
            "held_out_share": holdout,
        },
        "linear": {**linear_ref, "model_version": lin.metadata.get("model_version"),
                   "training_data_digest": (lin._linear_metadata().get("training_data") or {}).get("digest")},
        "encoder": {k: v for k, v in enc_meta.items() if k != "files"},
        "combination": comb.to_dict(techniques),
        "choice": {"note": ("chosen on the held-out training documents: weight and floor by "
                            "cross-fitting over two halves of them, then thresholds on all of them"),
                   **record, "evidence": {str(t): {k: round(v, 4) for k, v in m.items()} for t, m in ev.items()}},
        "metrics": {"held_out": {"note": "thresholds tuned on these same sentences: optimistic",
                                 "micro_f1": held["micro_f1"], "macro_f1": held["macro_f1"],
                                 "binary_f1": held["binary_f1"]}},
    }
    part = EncoderPart(scorer, comb, onnx_bytes, tokenizer_json)
    det = Detector._from_parts(lin._linear_metadata(), lin._featurizer.terms(), lin._arrays, part, meta)
    if linear_ref:
        det._linear_ref = linear_ref  # type: ignore[attr-defined]
    return det

