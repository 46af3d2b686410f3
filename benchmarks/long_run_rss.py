"""Peak RSS over a long ``propdetect analyze`` run: does memory stay flat? (issue 21)

Writes the PTC dev articles (or the synthetic stand-in of ``_data``) ``--copies``
times into one JSON Lines file, runs ``propdetect analyze --format jsonl --jobs N
[--model M]`` over it in a child process, and samples the RSS of the CLI and of each
of its worker processes every ``--every`` seconds (psutil). Prints one JSON object:
the peak RSS of the CLI and of the largest worker over each quarter of the run (in
documents written), and overall. Flat memory means the last quarter's peaks are
those of the first.

Run from the repository root (minutes; not part of the test suite)::

    python -m benchmarks.long_run_rss --copies 159 --jobs 2
    python -m benchmarks.long_run_rss --copies 20 --jobs 2 --model accurate
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from ._data import load_corpus


def _lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=159, help="times the corpus is repeated (159 x 75 = 11,925)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    args = ap.parse_args(argv)

    corpus = load_corpus()
    with tempfile.TemporaryDirectory(prefix="propdetect-rss-") as tmp:
        src, out = Path(tmp) / "docs.jsonl", Path(tmp) / "out.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            for c in range(args.copies):
                for i, text in enumerate(corpus.texts):
                    fh.write(json.dumps({"id": f"{c}-{i}", "text": text}) + "\n")
        n_docs = args.copies * len(corpus.texts)
        options = ["--format", "jsonl", "--jobs", str(args.jobs), *(["--model", args.model] if args.model else [])]
        cmd = [sys.executable, "-m", "propdetect.cli", "analyze", *options, "--no-progress", "-o", str(out), str(src)]
        samples = []  # (documents written, cli rss, largest worker rss)
        t0 = time.perf_counter()
        with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
            ps = psutil.Process(child.pid)
            while child.poll() is None:
                try:
                    main_rss = ps.memory_info().rss
                    workers = [c.memory_info().rss for c in ps.children(recursive=True)]
                    samples.append((_lines(out), main_rss, max(workers, default=0), len(workers)))
                except psutil.Error:
                    pass
                time.sleep(args.every)
            stderr = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
        elapsed = time.perf_counter() - t0
        if child.returncode != 0:
            print(stderr, file=sys.stderr)
            return 1
        mb = 2**20
        quarters = []
        for q in range(4):
            lo, hi = q * n_docs / 4, (q + 1) * n_docs / 4
            part = [s for s in samples if lo <= s[0] < hi or (q == 3 and s[0] >= hi)]
            quarters.append({"documents": f"{int(lo)}-{int(hi)}",
                             "cli_mb": round(max((s[1] for s in part), default=0) / mb, 1),
                             "worker_mb": round(max((s[2] for s in part), default=0) / mb, 1)})
        print(json.dumps({
            "corpus": corpus.name, "documents": n_docs, "characters": sum(map(len, corpus.texts)) * args.copies,
            "command": " ".join(["propdetect", "analyze", "docs.jsonl", *options, "-o", "out.jsonl"]),
            "model": args.model or "fast", "jobs": args.jobs, "seconds": round(elapsed, 1),
            "samples": len(samples), "max_workers_seen": max((s[3] for s in samples), default=0),
            "peak_cli_mb": round(max((s[1] for s in samples), default=0) / mb, 1),
            "peak_worker_mb": round(max((s[2] for s in samples), default=0) / mb, 1),
            "quarters": quarters, "summary": stderr.strip().splitlines()[-1] if stderr.strip() else "",
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
