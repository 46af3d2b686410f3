"""The accurate model's encoder: int8 ONNX (onnxruntime) against the same network in torch fp32.

    python training/runtime_speed.py --work build/accurate [--data ../shared/data/ptc] [--rounds 3]

Needs the training extra (torch, transformers) and the fine-tuned network's torch weights
and base encoder, which training/build_accurate.py leaves in its --work folder
(encoder.pt, base-all-minilm-l6-v2/ or --base). Times both on the PTC-2020 dev lines,
alternated round by round, the same batches (64 sentences sorted by length), the same
threads (2), and prints sentences per second and the ratio. Tokenisation is outside
the clock for both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._detector import Detector  # noqa: E402
from propdetect._encoder_train import _net, _pad, _Probabilities, require_training_extra  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(ROOT / "build" / "accurate"))
    ap.add_argument("--base", help="the base encoder folder (default: WORK/base-all-minilm-l6-v2)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ptc"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    require_training_extra()
    import torch

    work = Path(args.work)
    base = Path(args.base) if args.base else work / "base-all-minilm-l6-v2"
    det = Detector.load("accurate")
    scorer = det._encoder.scorer
    scorer.threads = args.threads
    torch.set_num_threads(args.threads)
    net = _net(base, len(det.metadata["encoder"]["outputs"]) - 1)
    net.load_state_dict(torch.load(work / "encoder.pt", weights_only=True))
    model = _Probabilities.wrap(net).eval()
    docs, _ = read_ptc(Path(args.data) / "dev-articles", Path(args.data) / "dev-task-flc-tc.labels")
    sents = [d.text[a:b] for d in docs for a, b in d.spans]
    encs = scorer.encode(sents)
    order = sorted(range(len(encs)), key=lambda j: len(encs[j].ids))
    batches = [_pad(encs, order[i:i + 64]) for i in range(0, len(order), 64)]
    session = scorer._get_session()

    def run_ort() -> np.ndarray:
        return np.concatenate([session.run(None, {"input_ids": ids, "attention_mask": m, "token_type_ids": t})[0]
                               for ids, m, t, _ in batches])

    def run_torch() -> np.ndarray:
        with torch.inference_mode():
            return np.concatenate([model(torch.from_numpy(ids), torch.from_numpy(m), torch.from_numpy(t))[0].numpy()
                                   for ids, m, t, _ in batches])

    ort_t, torch_t = [], []
    a = b = None
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        a = run_ort()
        t1 = time.perf_counter()
        b = run_torch()
        ort_t.append(t1 - t0)
        torch_t.append(time.perf_counter() - t1)
    n = len(sents)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    out = {"sentences": n, "threads": args.threads, "onnxruntime_int8_per_s": round(n / med(ort_t)),
           "torch_fp32_per_s": round(n / med(torch_t)), "ratio": round(med(torch_t) / med(ort_t), 2),
           "max_abs_diff_sentence_probs": float(np.abs(a - b).max())}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
