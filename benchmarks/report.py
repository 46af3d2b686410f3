"""Turn a ``--benchmark-json`` file of this suite into ``BENCHMARKS.md``.

Usage (from the repository root)::

    python benchmarks/report.py .benchmarks/latest.json -o BENCHMARKS.md

Every rate is gold sentences (non-empty lines of the corpus) per second of the
median round; every ratio compares two figures measured in the same run. A figure
whose benchmark was not run (``-m "not slow"`` leaves out training) shows as
"not measured".

Time goals are judged on CPU time where the suite records it (single-process
work): on a shared machine, wall time mostly measures the other processes, while
the CPU time of a single-threaded job is what its wall time would be on an idle
core. Wall-clock figures are shown beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

COMMAND = (
    "python -m pytest benchmarks --benchmark-only --benchmark-json=.benchmarks/latest.json "
    "-p no:cacheprovider && python benchmarks/report.py .benchmarks/latest.json -o BENCHMARKS.md"
)

# Goals on a 2-core machine: the speed issue's (#14) musts for the ratio to the peer
# and training wall time (its aim for the rate), model v2's (#11) for cold start and
# model size, issue 5's for the rest.
GOAL_RATE = 10_000.0  # sentences/s, detect, one process
GOAL_RATIO = 1.3  # detect vs the naive peer's predict
GOAL_COLD_S = 1.0
GOAL_RSS_MB = 400.0
GOAL_TRAIN_S = 180.0  # wall clock, both cores
GOAL_MODEL_MB = 25.0

# Issue 14's musts for parallelism and memory (benchmarks/test_parallel_bench.py):
# 2 workers against 1 process, side by side in one run (wall clock, ratio of medians).
GOAL_PARALLEL = (
    ("test_detect_many_600_warm", "detect_many, 2 workers vs 1 process, 600 articles, warm pool", 1.7),
    ("test_detect_many_75_cold", "detect_many, 2 workers vs 1 process, 75 articles, pool started by the call", 1.0),
    ("test_dask_600", "Dask LocalCluster (2 worker processes) vs 1 process, 600 articles", 1.5),
    ("test_analyze_jobs_4000", "`analyze --format jsonl --jobs 2` vs `--jobs 1`, 4,000 JSON Lines documents", 1.6),
)
GOAL_LINE_RSS_MB = 400.0  # one 12 MB single-line JSON Lines document through analyze

# The model-v3 issue's (#20) musts for the accurate model (benchmarks/test_accurate_bench.py).
GOAL_ACC_RATE = 450.0  # sentences/s end to end, one process, 2 cores
GOAL_ACC_LOAD_S = 2.0  # import + load in a fresh process
GOAL_ACC_RSS_MB = 700.0  # peak RSS detecting the dev set


def accurate_goal_rows(r: Results) -> list[Row]:
    """The accurate model's goals: throughput, import + load, peak memory."""
    rows: list[Row] = []
    acc = r.extra("test_accurate_vs_fast_interleaved", "accurate_sentences_per_s")
    fast = r.extra("test_accurate_vs_fast_interleaved", "fast_sentences_per_s")
    goal = f">= {GOAL_ACC_RATE:g} sentences/s"
    if acc is not None:
        rows.append(Row("accurate model: detect, whole articles, one process (wall; alternated with the fast "
                        "model, which made the figure in brackets)", f"{fmt_rate(acc)} ({fmt_rate(fast)})", goal,
                        acc >= GOAL_ACC_RATE))
    else:
        rows.append(_missing("accurate model: detect, whole articles", goal))
    parts = r.extra("test_accurate_cold_start", "cold_parts_median_s")
    goal = f"<= {GOAL_ACC_LOAD_S:g} s"
    if parts:
        load = parts["import_s"] + parts["load_s"]
        rows.append(Row("accurate model: import + Detector.load('accurate'), fresh process (first detect in "
                        "brackets)", f"{load:.2f} s ({parts['first_call_s']:.2f} s)", goal, load <= GOAL_ACC_LOAD_S))
    else:
        rows.append(_missing("accurate model: import + load", goal))
    rss = r.extra("test_accurate_peak_rss", "peak_rss_mb")
    goal = f"<= {GOAL_ACC_RSS_MB:g} MB"
    if rss is not None:
        after = r.extra("test_accurate_peak_rss", "rss_after_load_mb")
        rows.append(Row("accurate model: peak RSS, detect over the corpus, fresh process",
                        f"{rss:.0f} MB ({after:.0f} MB after load)", goal, rss <= GOAL_ACC_RSS_MB))
    else:
        rows.append(_missing("accurate model: peak RSS", goal))
    return rows


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    measure: str
    figure: str
    goal: str = ""
    ok: bool | None = None  # None: no goal, or not measured

    def cells(self) -> list[str]:
        verdict = "" if self.ok is None else ("pass" if self.ok else "**fail**")
        return [self.measure, self.figure, self.goal, verdict]


def fmt_rate(x: float) -> str:
    """Sentences per second, rounded to three significant figures.

    >>> fmt_rate(4647.2), fmt_rate(123456.0)
    ('4,650 sentences/s', '123,000 sentences/s')
    """
    return f"{float(f'{x:.3g}'):,.0f} sentences/s"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


class Results:
    """The benchmarks of one run, looked up by test name."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.by_name = {b["name"]: b for b in data.get("benchmarks", [])}

    def get(self, name: str) -> dict | None:
        return self.by_name.get(name)

    def median(self, name: str) -> float | None:
        b = self.get(name)
        return None if b is None else float(b["stats"]["median"])

    def extra(self, name: str, key: str) -> object:
        b = self.get(name)
        return None if b is None else b["extra_info"].get(key)

    def rate(self, name: str) -> float | None:
        """Sentences per second of wall time (median round)."""
        med = self.median(name)
        n = self.extra(name, "sentences")
        return None if med is None or not n else float(n) / med

    def cpu_rate(self, name: str) -> float | None:
        """Sentences per second of CPU time (median round), when recorded."""
        cpu = self.extra(name, "cpu_median_s")
        n = self.extra(name, "sentences")
        return None if not cpu or not n else float(n) / float(cpu)


def _missing(measure: str, goal: str = "") -> Row:
    return Row(measure, "not measured", goal, None)


def parallel_goal_rows(r: Results) -> list[Row]:
    """Issue 14's goal rows: speed-ups of 2 workers over 1 process, and the peak RSS
    of one huge document."""
    rows = []
    for name, measure, goal in GOAL_PARALLEL:
        x = r.get(name)
        if x is None:
            rows.append(_missing(measure, f">= {goal:g}x"))
            continue
        e = x["extra_info"]
        load = e.get("load_average") or [None]
        ok = e["speedup"] >= goal
        note = ""
        if e.get("pool_started") is False:
            # The small-input policy ran the call in process: the same work on both
            # sides, so the ratio is 1 but for timing noise (judged within 5%).
            note = "; no pool started: the call stayed in process"
            ok = e["speedup"] >= goal * 0.95
        rows.append(Row(f"{measure} (wall, ratio of medians; {e['one_process_median_s']:.2f} s / "
                        f"{e['two_workers_median_s']:.2f} s" + (f", load {load[0]:.1f}" if load[0] is not None else "")
                        + note + ")", f"{e['speedup']:.2f}x", f">= {goal:g}x", ok))
    x = r.get("test_rss_12mb_line")
    measure = "peak RSS, `analyze --format jsonl`, one 12 MB single-line JSON Lines document"
    if x is None:
        rows.append(_missing(measure, f"<= {GOAL_LINE_RSS_MB:g} MB"))
    else:
        e = x["extra_info"]
        rows.append(Row(f"{measure} ({e.get('sentences_out', 0):,} sentences)", f"{e['peak_rss_main_mb']:.0f} MB",
                        f"<= {GOAL_LINE_RSS_MB:g} MB", e["peak_rss_main_mb"] <= GOAL_LINE_RSS_MB))
    return rows


def result_rows(r: Results) -> tuple[list[Row], list[Row]]:
    """The goal table, and the table of the other figures."""
    goals: list[Row] = []
    other: list[Row] = []
    detect, peer = r.rate("test_detect"), r.rate("test_peer_predict")
    detect_cpu = r.cpu_rate("test_detect")
    goal = f">= {GOAL_RATE:,.0f} sentences/s"
    if detect_cpu:
        goals.append(Row("detect, whole articles, one process (CPU time; wall clock in brackets)",
                         f"{fmt_rate(detect_cpu)} ({fmt_rate(detect)})", goal, detect_cpu >= GOAL_RATE))
    elif detect:
        goals.append(Row("detect, whole articles, one process (wall clock)", fmt_rate(detect), goal,
                         detect >= GOAL_RATE))
    else:
        goals.append(_missing("detect, whole articles, one process", goal))

    inter = r.extra("test_detect_vs_peer_interleaved", "speed_ratio")
    inter_cpu = r.extra("test_detect_vs_peer_interleaved", "speed_ratio_cpu")
    goal = f">= {GOAL_RATIO}x"
    if inter_cpu is not None:
        goals.append(Row("detect vs naive peer predict, alternated rounds, ratio of median CPU times "
                         "(of wall times in brackets)", f"{inter_cpu:.2f}x ({inter:.2f}x)", goal,
                         inter_cpu >= GOAL_RATIO))
    elif inter is not None:
        goals.append(Row("detect vs naive peer predict, alternated rounds, ratio of median wall times",
                         f"{inter:.2f}x", goal, inter >= GOAL_RATIO))
    else:
        goals.append(_missing("detect vs naive peer predict", goal))

    cold = r.extra("test_cold_start", "cold_median_s")
    goal = f"<= {GOAL_COLD_S:g} s"
    if cold is not None:
        parts = dict(r.extra("test_cold_start", "cold_parts_median_s") or {})
        cpu = parts.pop("cpu_s", None)
        parts.pop("total_s", None)
        detail = ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.2f}" for k, v in parts.items())
        judged = cpu if cpu is not None else cold
        figure = (f"{cpu:.2f} s CPU, {cold:.2f} s wall ({detail})" if cpu is not None
                  else f"{cold:.2f} s wall ({detail})")
        goals.append(Row("cold start: import + load + first detect, fresh process (median of 7)",
                         figure, goal, judged <= GOAL_COLD_S))
    else:
        goals.append(_missing("cold start", goal))

    rss = r.extra("test_peak_rss", "peak_rss_mb")
    goal = f"<= {GOAL_RSS_MB:g} MB"
    if rss is not None:
        after = r.extra("test_peak_rss", "rss_after_load_mb")
        goals.append(Row("peak RSS, detect over the corpus, fresh process",
                         f"{rss:.0f} MB ({after:.0f} MB after load)", goal, rss <= GOAL_RSS_MB))
    else:
        goals.append(_missing("peak RSS", goal))

    train = r.median("test_train")
    goal = f"<= {GOAL_TRAIN_S / 60:g} min"
    if train is not None:
        what = r.extra("test_train", "train_corpus")
        n = r.extra("test_train", "train_sentences")
        cpu = r.extra("test_train", "cpu_s")
        # Training runs on both cores: its goal is wall time (CPU time beside it).
        figure = f"{train:.0f} s wall, {cpu:.0f} s CPU" if cpu is not None else f"{train:.0f} s wall"
        goals.append(Row(f"training, {what}, {n:,} sentences, bundled config, 2 cores", figure,
                         goal.replace("min", "min wall"), train <= GOAL_TRAIN_S))
    else:
        goals.append(_missing("training", goal))

    size = r.extra("test_model_load", "model_bytes")
    goal = f"<= {GOAL_MODEL_MB:g} MB"
    goals.append(Row("bundled model on disk", f"{size / 1e6:.1f} MB", goal, size / 1e6 <= GOAL_MODEL_MB)
                 if size is not None else _missing("bundled model on disk", goal))
    goals.extend(parallel_goal_rows(r))
    goals.extend(accurate_goal_rows(r))

    peer_cpu = r.cpu_rate("test_peer_predict")
    if peer:
        other.append(Row("naive peer predict, pre-split sentences, one process (wall)", fmt_rate(peer)))
        if peer_cpu:
            other.append(Row("naive peer predict (CPU time)", fmt_rate(peer_cpu)))
        if detect:
            other.append(Row("detect vs peer, separate benchmarks, wall", f"{detect / peer:.2f}x"))
        if detect_cpu and peer_cpu:
            other.append(Row("detect vs peer, separate benchmarks, CPU", f"{detect_cpu / peer_cpu:.2f}x"))
    presplit, presplit_cpu = r.rate("test_score_presplit"), r.cpu_rate("test_score_presplit")
    if presplit:
        other.append(Row("our scoring alone (predict_proba_doc), pre-split sentences (wall)",
                         fmt_rate(presplit)))
        if presplit_cpu:
            other.append(Row("our scoring alone (CPU time)", fmt_rate(presplit_cpu)))
        if peer:
            other.append(Row("our scoring alone vs peer predict, wall", f"{presplit / peer:.2f}x"))
    many = r.rate("test_detect_many_two_workers")
    if many:
        speedup = f" ({many / detect:.2f}x detect in one process, wall)" if detect else ""
        other.append(Row("detect_many, 2 worker processes (wall; CPU time is spread over the workers)",
                         fmt_rate(many) + speedup))
    stream = r.get("test_stream_100k_jsonl")
    if stream is not None:
        x = stream["extra_info"]
        other.append(Row(
            f"`propdetect analyze --format jsonl --jobs {x.get('jobs', 2)}`, "
            f"{x.get('documents', 0):,} short synthetic documents (benchmarks/test_stream_bench.py)",
            f"{x.get('documents_per_s', 0):,.0f} documents/s wall, "
            f"{x.get('documents_per_cpu_s') or 0:,.0f} per CPU second; peak RSS "
            f"{x.get('peak_rss_tree_mb', 0):.0f} MiB with workers"))
    wall = r.median("test_cold_start")
    if wall is not None:
        other.append(Row("cold start, whole child process (interpreter start-up included)", f"{wall:.2f} s"))
    load = r.median("test_model_load")
    if load is not None:
        other.append(Row("Detector.load(path), warm process", f"{load * 1000:.0f} ms"))
    return goals, other


def profile_lines(r: Results) -> list[str]:
    """Where detect's time goes, from the cProfile benchmark."""
    total = r.extra("test_profile_detect", "profile_total_s")
    if total is None:
        return ["Not measured in this run."]
    out = [f"cProfile of `detect` over the corpus ({total:.2f} s with the profiler on; profiling "
           "inflates pure-Python code, so read the shares, not the seconds).", "",
           "Stages (cumulative time; a stage includes the ones indented under it):", ""]
    stages = r.extra("test_profile_detect", "profile_stages") or []
    out += _table(["stage", "share of detect"],
                  [[s["stage"].replace("  ", "&nbsp;&nbsp;"), f"{s['share']:.0%}"] for s in stages])
    out += ["", "Top functions by own time:", ""]
    top = r.extra("test_profile_detect", "profile_top") or []
    out += _table(["function", "where", "calls", "own time share"],
                  [[f"`{t['function']}`", f"`{t['where']}`", f"{t['calls']:,}", f"{t['share']:.0%}"]
                   for t in top])
    return out


def render(data: dict, note: str = "") -> str:
    """The whole of BENCHMARKS.md; ``note`` is added under "How to rerun"."""
    r = Results(data)
    mi = data.get("machine_info", {})
    pd = mi.get("propdetect", {})
    versions = pd.get("versions", {})
    corpus = next((b["extra_info"].get("corpus") for b in data.get("benchmarks", [])
                   if b["extra_info"].get("corpus")), "?")
    sentences = next((b["extra_info"].get("sentences") for b in data.get("benchmarks", [])
                      if b["extra_info"].get("sentences")), None)
    goals, other = result_rows(r)
    failed = [g.measure for g in goals if g.ok is False]
    load = pd.get("load_average")
    commit = data.get("commit_info", {})
    lines = [
        "# Benchmarks",
        "",
        "<!-- generated by benchmarks/report.py from a --benchmark-json file; do not edit by hand -->",
        "",
        f"Run on {data.get('datetime', '?')[:19].replace('T', ' ')} UTC, commit "
        f"`{str(commit.get('id', '?'))[:10]}`{' (with uncommitted changes)' if commit.get('dirty') else ''}, "
        f"model `{pd.get('model_version', '?')}`.",
        "",
        f"Corpus: {corpus}" + (f", {sentences:,} gold sentences (non-empty lines)." if sentences else "."),
        "Rates are those gold sentences per second of the median round; `detect` also splits the "
        "articles into sentences itself, the peer gets them pre-split. Time goals are judged on the "
        "CPU time of the process (wall clock beside it): the machine is shared, and the CPU time of "
        "single-threaded work is what its wall time would be on an idle core.",
        "",
        "## Against the goals",
        "",
        *_table(["measure", "this run", "goal", ""], [g.cells() for g in goals]),
        "",
        ("All goals measured in this run hold." if not failed else
         "Not met: " + "; ".join(failed) + ". See the profile below for where detect's time goes."),
        "",
        "## Other figures",
        "",
        *_table(["measure", "this run"], [o.cells()[:2] for o in other]),
        "",
        "## Where detect's time goes",
        "",
        *profile_lines(r),
        "",
        "## Machine",
        "",
        f"- CPU: {pd.get('cpu_model', '?')}, {pd.get('cores', '?')} cores"
        + (f"; load average at the end of the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
           "(1 / 5 / 15 min): the machine is shared, so compare ratios, not absolute figures"
           if load else ""),
        f"- Python {pd.get('python', mi.get('python_version', '?'))} on {pd.get('platform', mi.get('system', '?'))}",
        "- " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "",
        "## How to rerun",
        "",
        "From the repository root, after `pip install '.[test]'`:",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "Add `-m \"not slow\"` to leave out the training benchmark. The corpus is read from "
        "`../shared/data/ptc` beside the checkout, or from `$PROPDETECT_SHARED_DATA/ptc`; without it "
        "the suite runs on a synthetic corpus and says so above.",
    ]
    if pd.get("pytest_args"):
        lines += ["", f"This run: `python -m pytest {' '.join(pd['pytest_args'])}`."]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


# A section of BENCHMARKS.md measured by another script (benchmarks/long_run_rss.py:
# minutes per run, not part of the suite), between these markers: kept as it is when
# the file is written again.
KEEP_START = "<!-- kept by report.py: "
KEEP_END = "<!-- end of kept section -->"


def kept_section(path: Path) -> str:
    """The kept section of the BENCHMARKS.md at ``path`` (with a blank line before), or ""."""
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    start, end = old.find(KEEP_START), old.find(KEEP_END)
    return "\n" + old[start:end + len(KEEP_END)] + "\n" if 0 <= start < end else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write BENCHMARKS.md from a --benchmark-json file.")
    parser.add_argument("json", type=Path, help="the file written by --benchmark-json")
    parser.add_argument("-o", "--output", type=Path, help="where to write (default: stdout)")
    parser.add_argument("--note", default="", help="a paragraph about this run (how and where it ran)")
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read {args.json}: {exc}", file=sys.stderr)
        return 2
    if not data.get("benchmarks"):
        print(f"error: {args.json} holds no benchmarks; run the suite with --benchmark-only", file=sys.stderr)
        return 2
    text = render(data, args.note)
    if args.output:
        text += kept_section(args.output)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
