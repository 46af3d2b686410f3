"""Rebuild tests/data/tiny_encoder: a tiny encoder for the accurate model's unit tests.

    python tests/make_tiny_encoder.py     # needs pip install -e '.[train]'

A 2-layer, 32-wide BERT with random weights and a WordPiece tokeniser trained on the
hand-written fixture sentences of tests/conftest.py, fine-tuned for a few steps on
them and exported as propdetect exports the real one (int8 ONNX + tokenizer.json).
The tests read the files; they never need torch. Everything in it is the project's
own (no corpus text).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from propdetect._encoder_train import EncoderConfig, fit_encoder, make_tiny_base  # noqa: E402
from tests.conftest import _DOCS, make_document  # noqa: E402

OUT = HERE / "data" / "tiny_encoder"


def main() -> int:
    docs = [make_document(f"doc{i}", d) for i, d in enumerate(_DOCS)]
    with tempfile.TemporaryDirectory() as tmp:
        base = make_tiny_base(Path(tmp) / "base", [d.text for d in docs] * 5, vocab_size=300)
        if OUT.exists():
            shutil.rmtree(OUT)
        meta = fit_encoder(docs, base, OUT, EncoderConfig(epochs=30, lr=3e-3, batch_size=8, seed=0, threads=1))
    meta["train_seconds"] = None  # keep the file the same from run to run
    (OUT / "encoder-meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: " + ", ".join(f"{p.name} {p.stat().st_size:,} B" for p in sorted(OUT.iterdir())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
