"""Measurements that need a fresh interpreter: run as ``python benchmarks/_child.py MODE TEXTS.json [MODEL]``.

``cold``: seconds for ``import propdetect`` + ``Detector.load()`` + the first ``detect``
call on the first text. ``rss``: peak resident memory after import and load, and after
``detect`` over every text (``VmHWM`` on Linux). Prints one JSON object on stdout.

``MODEL`` is a name or folder for ``Detector.load`` (default: the default model).
Nothing but the standard library is imported before the clock starts.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (10**6 bytes).

    Linux: ``VmHWM`` of ``/proc/self/status``. Not ``ru_maxrss``: Linux carries it
    over from the parent across fork and exec, so a child of a big pytest process
    would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    # macOS reports ru_maxrss in bytes, other systems in KiB.
    unit = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 1e6


def cold(texts: list[str], model: str | None = None) -> dict[str, float]:
    """Time import, load and first call, each and together (wall clock), and the
    CPU time of all three (less sensitive to other load on a shared machine)."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    import propdetect

    t1 = time.perf_counter()
    det = propdetect.Detector.load(model)
    t2 = time.perf_counter()
    det.detect(texts[0])
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "load_s": t2 - t1, "first_call_s": t3 - t2, "total_s": t3 - t0,
            "cpu_s": time.process_time() - c0}


def rss(texts: list[str], model: str | None = None) -> dict[str, float]:
    """Peak RSS after load, then after detecting every text."""
    import propdetect

    det = propdetect.Detector.load(model)
    after_load = _peak_rss_mb()
    n = sum(len(det.detect(t).sentences) for t in texts)
    return {"after_load_mb": after_load, "peak_mb": _peak_rss_mb(), "sentences": n}


def main(argv: list[str]) -> int:
    mode, path, *model = argv
    with open(path, encoding="utf-8") as fh:
        texts = json.load(fh)
    out = {"cold": cold, "rss": rss}[mode](texts, *model)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
