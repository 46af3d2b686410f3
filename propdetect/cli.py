"""Command line: a thin shell over the library.

``propdetect analyze`` runs the main job; ``train`` and ``evaluate`` wrap the
training and evaluation code. Results go to stdout (or ``-o``), progress and
messages to stderr. Exit status: 0 success, 1 some input failed, 2 usage or data
error (a message, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error to report on stderr with exit status 2."""


def _err(msg: str) -> None:
    print(f"propdetect: {msg}", file=sys.stderr)


# -- analyze ---------------------------------------------------------------------
def _read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
        where = "<stdin>"
    else:
        p = Path(name)
        if p.is_dir():
            raise CliError(f"{name}: is a directory, expected a text file")
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise CliError(f"{name}: no such file") from None
        except OSError as exc:
            raise CliError(f"{name}: cannot read ({exc.strerror})") from None
        where = name
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{where}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8 first") from None


def _open_out(path: str | None) -> TextIO:
    if path is None or path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror})") from None


def _load_detector(path: str | None):  # noqa: ANN202
    from ._detector import Detector
    from ._persist import ModelError

    try:
        return Detector.load(path)
    except ModelError as exc:
        raise CliError(str(exc)) from None


def cmd_analyze(args: argparse.Namespace) -> int:
    from ._report import jsonl_record, render_text

    det = _load_detector(args.model)
    inputs = args.files or ["-"]
    out = _open_out(args.output)
    status = EXIT_OK
    html_docs: list[tuple[str, str, object]] = []  # --format html is one page for the whole run
    try:
        for name in inputs:
            try:
                text = _read_input(name)
            except CliError as exc:
                _err(str(exc))
                status = EXIT_INPUT_ERROR
                continue
            analysis = det.detect(text)
            if args.format == "html":
                html_docs.append((name, text, analysis))
            elif args.format == "jsonl":
                out.write(jsonl_record(name, analysis) + "\n")
            else:
                out.write(render_text(name, analysis) + "\n")
        if args.format == "html":
            from ._html import render_html

            names, texts, analyses = zip(*html_docs) if html_docs else ((), (), ())
            out.write(render_html(list(analyses), list(texts), list(names),
                                  model=det.metadata.get("model_version") or det.metadata.get("name")))
    finally:
        if out is not sys.stdout:
            out.close()
    return status


# -- train -----------------------------------------------------------------------
def _read_docs(args: argparse.Namespace, prefix: str = ""):  # noqa: ANN202
    from ._corpus import DataError, read_ptc

    articles = getattr(args, f"{prefix}articles")
    labels = getattr(args, f"{prefix}labels")
    if articles is None or labels is None:
        raise CliError(f"give --{prefix.replace('_', '-')}articles DIR and --{prefix.replace('_', '-')}labels PATH")
    try:
        docs, report = read_ptc(articles, labels, skip_bad_spans=args.skip_bad_spans)
    except DataError as exc:
        raise CliError(str(exc)) from None
    for line in report.lines():
        print(f"propdetect: {line}", file=sys.stderr)
    return docs


def cmd_train(args: argparse.Namespace) -> int:
    from ._config import TrainingConfig
    from ._train import fit_detector

    docs = _read_docs(args)
    try:
        cfg = TrainingConfig.from_dict(json.loads(Path(args.config).read_text())) if args.config else TrainingConfig()
    except (OSError, ValueError, TypeError) as exc:
        raise CliError(f"{args.config}: bad training config ({exc})") from None
    det = fit_detector(docs, cfg, progress=lambda m: print(f"propdetect: {m}", file=sys.stderr),
                       name=args.name, data_description=f"articles={args.articles} labels={args.labels}")
    path = det.save(args.out)
    print(f"propdetect: model written to {path}", file=sys.stderr)
    return EXIT_OK


# -- evaluate --------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.3f}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ._evaluate import evaluate_baselines, evaluate_detector

    det = _load_detector(args.model)
    docs = _read_docs(args)
    result = evaluate_detector(det, docs)
    if args.baseline_train_articles:
        train_docs = _read_docs(args, prefix="baseline_train_")
        result["baselines"] = evaluate_baselines(train_docs, docs)
    out = _open_out(args.output)
    try:
        if args.format == "json":
            out.write(json.dumps(result, indent=2) + "\n")
        else:
            rows = [("model", result), *result.get("baselines", {}).items()]
            out.write("| system | micro-F1 | macro-F1 | binary F1 |\n|---|---|---|---|\n")
            for name, r in rows:
                out.write(f"| {name} | {_fmt(r['micro_f1'])} | {_fmt(r['macro_f1'])} | {_fmt(r['binary_f1'])} |\n")
            out.write("\n| technique | P | R | F1 | support |\n|---|---|---|---|---|\n")
            for t, v in result["per_technique"].items():
                out.write(f"| {t} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} | {v['support']} |\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


# -- techniques ------------------------------------------------------------------
def cmd_techniques(args: argparse.Namespace) -> int:
    from ._taxonomy import TECHNIQUES

    for t in TECHNIQUES:
        print(f"{t.id}\t{t.name}\t{t.definition}")
    return EXIT_OK


# -- parser ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="propdetect",
        description="Find propaganda techniques in news text, sentence by sentence.",
    )
    parser.add_argument("--version", action="version", version=f"propdetect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("analyze", help="find techniques in text files (or stdin)")
    p.add_argument("files", nargs="*", metavar="FILE", help="UTF-8 text files; none or '-' reads stdin")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.add_argument("--format", choices=("text", "jsonl", "html"), default="text",
                   help="text: flagged sentences and a summary (default); jsonl: one JSON object per document; "
                        "html: one self-contained page for all documents (use with -o report.html)")
    p.add_argument("--model", metavar="PATH", help="a model folder (default: the bundled model)")
    p.set_defaults(func=cmd_analyze)

    def add_data_args(q: argparse.ArgumentParser, prefix: str = "") -> None:
        q.add_argument(f"--{prefix}articles", metavar="DIR", help="folder of PTC-style article<ID>.txt files")
        q.add_argument(f"--{prefix}labels", metavar="PATH", help="PTC span labels: one merged file or a folder")

    p = sub.add_parser("train", help="train a model on labelled data")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="PATH", help="model folder to write")
    p.add_argument("--config", metavar="JSON", help="training config (JSON object of TrainingConfig fields)")
    p.add_argument("--name", default="custom", help="model name recorded in its metadata")
    p.add_argument("--skip-bad-spans", action="store_true",
                   help="skip (and report) spans whose offsets fall outside their article")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a model on labelled data, beside baselines")
    p.add_argument("--model", metavar="PATH", help="a model folder (default: the bundled model)")
    add_data_args(p)
    add_data_args(p, "baseline-train-")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("-o", "--output", metavar="OUT")
    p.add_argument("--skip-bad-spans", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("techniques", help="list the 14 techniques")
    p.set_defaults(func=cmd_techniques)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
