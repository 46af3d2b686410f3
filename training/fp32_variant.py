"""The bundled accurate model with its encoder's fp32 graph instead of the int8 one.

    python training/fp32_variant.py --fp32 build/accurate/encoder.fp32.onnx --out build/accurate-fp32
    python training/compare.py --a build/accurate-fp32 --b accurate     # int8 vs fp32 on PTC-2020 dev

training/build_accurate.py keeps the fp32 graph it quantised in its --work folder.
Everything else (the linear half, the combination, the thresholds) is the bundled
model's, so the two differ by quantisation alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._accurate import EncoderPart  # noqa: E402
from propdetect._detector import Detector  # noqa: E402
from propdetect._encoder import EncoderScorer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fp32", required=True, help="the fp32 ONNX graph (build_accurate.py's work folder)")
    ap.add_argument("--model", default="accurate", help="the accurate model to copy (default: the bundled one)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    det = Detector.load(args.model)
    part = det._encoder
    if part is None:
        raise SystemExit(f"{args.model} is not an accurate model")
    onnx = Path(args.fp32).read_bytes()
    runtime = det.metadata["encoder"].get("runtime", {})
    fp32 = EncoderPart(EncoderScorer(onnx, part.tokenizer_json, runtime), part.combination, onnx,
                       part.tokenizer_json)
    meta = dict(det.metadata)
    meta["name"] = f"{meta['name']}-fp32"
    meta["encoder"] = {**meta["encoder"], "quantisation": "none (fp32, for comparison)"}
    other = Detector(det._featurizer, det._arrays, meta, fp32)
    print(other.save(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
