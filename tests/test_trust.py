"""Issue 12, trust: nothing lost, no traceback. Outputs that would destroy an input
are refused before any work; data errors are never silent."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys

import pytest

from propdetect.cli import EXIT_OK, EXIT_USAGE, main

LOUD = "These traitors and thugs are destroying our great nation!"
CALM = "The council meets on Tuesday at the town hall."


@pytest.fixture(scope="module")
def tiny_model(tiny_detector, tmp_path_factory) -> str:
    return str(tiny_detector.save(tmp_path_factory.mktemp("model") / "tiny"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_usage_error(status: int, err: str, *words: str) -> None:
    assert status == EXIT_USAGE
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err


# -- 1. outputs that are inputs ------------------------------------------------------
@pytest.mark.parametrize("how", ["same path", "other spelling", "symlink", "hard link"])
def test_analyze_refuses_an_output_that_is_an_input(how, tmp_path, capsys, monkeypatch, tiny_model):
    article = tmp_path / "a.txt"
    article.write_text(f"{LOUD}\n{CALM}\n", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text(CALM, encoding="utf-8")
    if how == "same path":
        out = str(article)
    elif how == "other spelling":
        monkeypatch.chdir(tmp_path)
        (tmp_path / "sub").mkdir()
        out = "sub/../a.txt"
    elif how == "symlink":
        if not hasattr(os, "symlink"):
            pytest.skip("no symlinks here")
        os.symlink(article, tmp_path / "link.txt")
        out = str(tmp_path / "link.txt")
    else:
        os.link(article, tmp_path / "hard.txt")
        out = str(tmp_path / "hard.txt")
    before = article.read_bytes()
    status, stdout, err = run(capsys, "analyze", "--model", tiny_model, str(other), str(article), "-o", out)
    _one_line_usage_error(status, err, "-o", "is the input", "another file")
    assert article.read_bytes() == before and stdout == ""


def test_analyze_refuses_an_output_inside_an_input_folder(tmp_path, capsys, tiny_model):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(LOUD, encoding="utf-8")
    before = (folder / "a.txt").read_bytes()
    status, _, err = run(capsys, "analyze", "--model", tiny_model, str(folder), "-o", str(folder / "a.txt"))
    _one_line_usage_error(status, err, "is the input")
    assert (folder / "a.txt").read_bytes() == before
    # a new *.txt there would be read as an input while it is written
    status, _, err = run(capsys, "analyze", "--model", tiny_model, str(folder), "-o", str(folder / "new.txt"))
    _one_line_usage_error(status, err, "would become an input")
    assert not (folder / "new.txt").exists()
    # ... but an HTML report beside the articles is fine
    status, _, _ = run(capsys, "analyze", "--model", tiny_model, "--format", "html", str(folder),
                       "-o", str(folder / "report.html"))
    assert status == EXIT_OK and (folder / "report.html").stat().st_size > 0


def test_analyze_refuses_to_write_over_the_model(tmp_path, capsys, tiny_detector):
    model = tiny_detector.save(tmp_path / "m")
    (tmp_path / "a.txt").write_text(LOUD, encoding="utf-8")
    before = (model / "weights.npz").read_bytes()
    status, _, err = run(capsys, "analyze", "--model", str(model), str(tmp_path / "a.txt"),
                         "-o", str(model / "weights.npz"))
    _one_line_usage_error(status, err, "is the input")
    assert (model / "weights.npz").read_bytes() == before


def test_analyze_overwrites_a_previous_output_only_with_force(tmp_path, capsys, tiny_model):
    """A rerun must not destroy hours of results by accident (issue 21): a non-empty
    -o is refused, untouched, unless --force (or --resume, tests/test_faults.py)."""
    (tmp_path / "a.txt").write_text(LOUD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("old results\n", encoding="utf-8")
    argv = ["analyze", "--model", tiny_model, "--format", "jsonl", str(tmp_path / "a.txt"), "-o", str(out)]
    status, _, err = run(capsys, *argv)
    _one_line_usage_error(status, err, "exists and is not empty", "--resume", "--force")
    assert out.read_text(encoding="utf-8") == "old results\n"
    status, _, _ = run(capsys, *argv, "--force")
    assert status == EXIT_OK and "old results" not in out.read_text(encoding="utf-8")


def test_evaluate_refuses_an_output_that_is_its_data(tmp_path, capsys, tiny_model):
    data = tmp_path / "gold.jsonl"
    data.write_text(json.dumps({"text": LOUD, "techniques": ["loaded language"]}) + "\n", encoding="utf-8")
    before = data.read_bytes()
    status, _, err = run(capsys, "evaluate", "--model", tiny_model, "--jsonl", str(data), "--no-baselines",
                         "-o", str(data))
    _one_line_usage_error(status, err, "is the input")
    assert data.read_bytes() == before


# -- 1. train --out ------------------------------------------------------------------
def _train_data(tmp_path) -> str:
    from tests.conftest import _DOCS

    rows = [{"doc_id": f"d{i}", "text": s, "techniques": sorted(l)} for i, d in enumerate(_DOCS) for s, l in d]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


TRAIN = ["--config", '{"min_df": 1, "cv_folds": 3, "C_grid": [4.0]}']


def test_train_refuses_a_file_or_a_folder_with_other_files_before_reading_data(tmp_path, capsys, monkeypatch):
    from propdetect import _corpus

    def never(*args, **kwargs):
        raise AssertionError("the data was read before --out was checked")

    monkeypatch.setattr(_corpus, "read_source", never)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me", encoding="utf-8")
    status, _, err = run(capsys, "train", "--jsonl", "whatever.jsonl", "--out", str(a_file))
    _one_line_usage_error(status, err, "--out", "is a file", "new folder")
    assert a_file.read_text(encoding="utf-8") == "keep me"
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "thesis.tex").write_text("keep me too", encoding="utf-8")
    for extra in ([], ["--force"]):
        status, _, err = run(capsys, "train", "--jsonl", "whatever.jsonl", "--out", str(folder), *extra)
        _one_line_usage_error(status, err, "--out", "other files", "thesis.tex")
    assert (folder / "thesis.tex").read_text(encoding="utf-8") == "keep me too"
    status, _, err = run(capsys, "train", "--jsonl", "x.jsonl", "--out", str(a_file / "model"))
    _one_line_usage_error(status, err, "is a file, not a folder")


def test_train_replaces_a_model_only_with_force(tmp_path, capsys, tiny_detector):
    data = _train_data(tmp_path)
    model = tiny_detector.save(tmp_path / "model")
    before = (model / "metadata.json").read_bytes()
    status, _, err = run(capsys, "train", "--jsonl", data, *TRAIN, "--out", str(model))
    _one_line_usage_error(status, err, "holds a model already", "--force")
    assert (model / "metadata.json").read_bytes() == before
    status, _, err = run(capsys, "train", "--jsonl", data, *TRAIN, "--name", "again", "--out", str(model), "--force")
    assert status == EXIT_OK, err
    assert json.loads((model / "metadata.json").read_text(encoding="utf-8"))["name"] == "again"


def test_train_writes_a_new_or_empty_folder(tmp_path, capsys):
    data = _train_data(tmp_path)
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        status, _, err = run(capsys, "train", "--jsonl", data, *TRAIN, "--out", str(out))
        assert status == EXIT_OK, err
        assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "vocabulary.txt", "weights.npz"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_train_refuses_an_unwritable_place_before_reading_data(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        status, _, err = run(capsys, "train", "--jsonl", "missing.jsonl", "--out", str(locked / "m"))
        _one_line_usage_error(status, err, "permission denied")
    finally:
        locked.chmod(0o700)


# -- 2. data errors are never silent --------------------------------------------------
def _csv(tmp_path, body: str):
    path = tmp_path / "data.csv"
    path.write_text("doc_id,text,techniques\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("row, problem", [
    ("a,It rained.", "2 field(s) but the header has 3"),          # short: the techniques field is missing
    ("a", "1 field(s) but the header has 3"),
    ("a,It rained.,,extra", "4 fields but the header has 3"),
    ("a,,doubt", "non-empty string"),                              # empty text
    ("a,   ,", "non-empty string"),
    (",,", "non-empty string"),                                   # a row of empty fields is not a blank line
])
def test_csv_bad_row_is_a_data_error_naming_file_and_line(row, problem, tmp_path):
    from propdetect import DataError, read_csv

    path = _csv(tmp_path, f"a,Traitors!,name calling\n{row}\na,The bridge reopens.,\n")
    with pytest.raises(DataError, match=re.escape(problem)) as info:
        read_csv(path)
    assert str(info.value).startswith(f"{path}:3:")
    docs, report = read_csv(path, skip_bad_rows=True)
    assert sum(len(d.spans) for d in docs) == 2 and len(report.skipped_rows) == 1
    assert report.skipped_rows[0].startswith(f"{path}:3:")
    assert any(line.startswith("skipped 1 bad row(s)") for line in report.lines())


def test_csv_blank_lines_are_not_rows(tmp_path):
    from propdetect import read_csv

    docs, report = read_csv(_csv(tmp_path, "a,Traitors!,name calling\n\n   \na,It rained.,\n"))
    assert sum(len(d.spans) for d in docs) == 2 and not report.skipped_rows


@pytest.mark.parametrize("line, problem", [
    ('{"text": "It rained."', "invalid JSON"),
    ('["It rained.", []]', "expected an object"),
    ('{"text": "It rained."}', "missing field"),
    ('{"text": "  ", "techniques": []}', "non-empty string"),
])
def test_jsonl_bad_line_is_a_data_error_or_skipped_and_counted(line, problem, tmp_path):
    from propdetect import DataError, load_documents, read_jsonl

    path = tmp_path / "data.jsonl"
    good = json.dumps({"text": "Traitors!", "techniques": ["name calling"]})
    path.write_text(f"{good}\n{line}\n{good}\n", encoding="utf-8")
    with pytest.raises(DataError, match=problem) as info:
        read_jsonl(path)
    assert str(info.value).startswith(f"{path}:2:")
    for docs, report in (read_jsonl(path, skip_bad_rows=True), load_documents(path, skip_bad_rows=True)):
        assert len(docs) == 2 and len(report.skipped_rows) == 1


def test_skipping_never_hides_an_unknown_label_or_an_all_bad_file(tmp_path):
    from propdetect import DataError, read_csv

    with pytest.raises(DataError, match="unknown technique label 'telepathy'"):
        read_csv(_csv(tmp_path, "a,Traitors!,telepathy\n"), skip_bad_rows=True)
    with pytest.raises(DataError, match="all 2 were skipped"):
        read_csv(_csv(tmp_path, "a,Traitors!\nb\n"), skip_bad_rows=True)


def test_skip_bad_rows_for_python_records(tmp_path):
    from propdetect import DataError, load_documents

    rows = [{"text": "Traitors!", "techniques": ["name calling"]}, {"text": "", "techniques": []},
            {"techniques": []}]
    with pytest.raises(DataError, match="item 2"):
        load_documents(rows)
    docs, report = load_documents(rows, skip_bad_rows=True)
    assert len(docs) == 1 and [m.split(":")[1] for m in report.skipped_rows] == [" item 2", " item 3"]


def test_train_cli_stops_on_a_short_csv_row_and_skip_bad_rows_reports_the_count(tmp_path, capsys):
    from tests.conftest import _DOCS

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [f"d{i}", s, ";".join(sorted(l))] for i, d in enumerate(_DOCS) for s, l in d)
    lines = buf.getvalue().splitlines()
    lines.insert(3, "d0,A row without its techniques field")
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    status, _, err = run(capsys, "train", "--csv", str(path), *TRAIN, "--out", str(tmp_path / "m"))
    _one_line_usage_error(status, err, f"{path}:5:", "2 field(s) but the header has 3")
    assert not (tmp_path / "m").exists()
    status, _, err = run(capsys, "train", "--csv", str(path), "--skip-bad-rows", *TRAIN, "--out", str(tmp_path / "m"))
    assert status == EXIT_OK, err
    assert f"skipped 1 bad row(s) (skip_bad_rows): {path}:5:" in err
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["training_data"]["source"]["skip_bad_rows"] is True  # so evaluate re-reads the same rows


def test_skip_bad_rows_is_refused_for_data_without_rows(tmp_path, capsys):
    status, _, err = run(capsys, "train", "--articles", str(tmp_path), "--labels", str(tmp_path), "--skip-bad-rows",
                         "--out", str(tmp_path / "m"))
    _one_line_usage_error(status, err, "--skip-bad-rows goes with --jsonl or --csv")


def test_python_api_warns_about_dropped_labels(tmp_path):
    import propdetect

    rows = [{"text": "Traitors and thugs run this evil regime!", "techniques": ["name calling", "Smears"]},
            {"text": "The museum opens at nine.", "techniques": ["Obfuscation, Intentional vagueness, Confusion"]},
            {"text": "Liars!", "techniques": ["Smears"]}] * 2
    with pytest.warns(UserWarning, match=r"dropped 6 label\(s\) .*'Obfuscation, Intentional vagueness, "
                                         r"Confusion' \(2\), 'Smears' \(4\)"):
        docs, report = propdetect.load_documents(rows)
    assert report.dropped_labels == {"Smears": 4, "Obfuscation, Intentional vagueness, Confusion": 2}
    with pytest.warns(UserWarning, match=r"dropped 6 label\(s\)") as caught:
        propdetect.train(rows, {"min_df": 1, "cv_folds": 2, "C_grid": [1.0]})
    assert len(caught) == 1 and caught[0].filename == __file__  # once, pointing at the caller
    with pytest.warns(UserWarning, match=r"dropped 6 label\(s\) .*'Smears' \(4\)") as caught:
        propdetect.SentenceClassifier(min_df=1, cv_folds=2, C_grid=(1.0,)).fit(
            [r["text"] for r in rows], [r["techniques"] for r in rows])
    assert caught[0].filename == __file__


# -- 4. sensitivity you can set: --threshold ----------------------------------------
def _flags(capsys, model: str, path, *extra: str) -> list[list[str]]:
    status, out, err = run(capsys, "analyze", "--model", model, "--format", "jsonl", str(path), *extra)
    assert status == EXIT_OK, err
    return [s["techniques"] for s in json.loads(out)["sentences"]]


def test_threshold_for_every_technique_and_for_one(tmp_path, capsys, tiny_model, tiny_detector):
    from tests.conftest import _DOCS

    path = tmp_path / "a.txt"
    path.write_text("\n".join(s for d in _DOCS for s, _ in d), encoding="utf-8")
    default = _flags(capsys, tiny_model, path)
    assert any(default) and not all(default)
    assert all(_flags(capsys, tiny_model, path, "--threshold", "0"))          # looser: everything
    assert not any(_flags(capsys, tiny_model, path, "--threshold", "1"))      # stricter: nothing
    one = _flags(capsys, tiny_model, path, "--threshold", "0", "--threshold", "Loaded Language=1")
    assert all(one) and not any("loaded_language" in f for f in one)
    # the general value first, then the named ones, whatever the order on the command line
    assert one == _flags(capsys, tiny_model, path, "--threshold", "loaded_language=1", "--threshold", "0")
    assert tiny_detector.detect(path.read_text(encoding="utf-8")).sentences[0].techniques  # unchanged


def test_threshold_shows_in_the_text_output_and_in_techniques(tmp_path, capsys, tiny_model, tiny_detector):
    path = tmp_path / "a.txt"
    path.write_text(f"{LOUD}\n{CALM}\n", encoding="utf-8")
    status, out, _ = run(capsys, "analyze", "--model", tiny_model, str(path), "--threshold", "0.01",
                         "--threshold", "doubt=0.42")
    assert status == EXIT_OK
    assert "(threshold 0.01)" in out
    if tiny_detector.propaganda_threshold is not None:
        assert "    propaganda " in out
    status, out, _ = run(capsys, "techniques", "--thresholds", "--model", tiny_model)
    rows = dict(line.split("\t")[:2] for line in out.splitlines())
    for t, thr in tiny_detector.thresholds.items():
        assert float(rows[t]) == pytest.approx(thr, rel=1e-2)
    assert rows["repetition"] == "-"  # not in the tiny model


@pytest.mark.parametrize("spec, message", [
    ("high", "'high' is not a number"),
    ("1.5", "a probability, from 0 to 1"),
    ("nan", "a probability, from 0 to 1"),
    ("doubt=-0.1", "a probability, from 0 to 1"),
    ("telepathy=0.5", "telepathy"),
    ("=0.5", "name a technique"),
    ("repetition=0.5", "does not score 'repetition'"),
])
def test_bad_threshold_is_one_line_and_exit_2(spec, message, tmp_path, capsys, tiny_model):
    path = tmp_path / "a.txt"
    path.write_text(LOUD, encoding="utf-8")
    out_file = tmp_path / "out.txt"
    status, _, err = run(capsys, "analyze", "--model", tiny_model, str(path), "--threshold", spec,
                         "-o", str(out_file))
    _one_line_usage_error(status, err, "--threshold", message)
    assert not out_file.exists()


def test_a_threshold_given_twice_is_refused(tmp_path, capsys, tiny_model):
    path = tmp_path / "a.txt"
    path.write_text(LOUD, encoding="utf-8")
    for specs in (["0.5", "0.6"], ["doubt=0.5", "Doubt=0.6"]):
        argv = [x for spec in specs for x in ("--threshold", spec)]
        status, _, err = run(capsys, "analyze", "--model", tiny_model, str(path), *argv)
        _one_line_usage_error(status, err, "already set", "give each once")


def test_evaluate_takes_threshold_too(tmp_path, capsys, tiny_model):
    from tests.conftest import _DOCS

    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"doc_id": f"d{i}", "text": s, "techniques": sorted(l)}) + "\n"
                            for i, d in enumerate(_DOCS) for s, l in d), encoding="utf-8")
    scores = {}
    for spec in ("0", "1"):
        status, out, err = run(capsys, "evaluate", "--model", tiny_model, "--jsonl", str(data), "--no-baselines",
                               "--format", "json", "--threshold", spec)
        assert status == EXIT_OK, err
        scores[spec] = json.loads(out)
    assert scores["1"]["binary_f1"] == 0.0 < scores["0"]["binary_f1"]


def test_the_scores_and_thresholds_example_runs(monkeypatch, tmp_path, capsys):
    import re as _re

    import propdetect
    from tests.conftest import ROOT

    section = (ROOT / "docs" / "guides" / "thresholds.md").read_text(encoding="utf-8")
    assert "<!-- THRESHOLD-TABLE -->" in section or "| propaganda threshold |" in section
    (block,) = _re.findall(r"```python\n(.*?)```", section, flags=_re.S)
    if propdetect.Detector.load().propaganda_threshold is None:
        pytest.skip("the bundled model predates the 'any technique' head")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "docs/guides/thresholds.md", "exec"), namespace)
    assert namespace["strict"].propaganda_threshold == 0.7 and namespace["loose"].thresholds["doubt"] == 0.3
    assert (tmp_path / "strict-model" / "weights.npz").exists()


# -- 6. every output names the model; detect_many names the item ---------------------
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "text", "html"])
def test_every_output_record_names_the_model(fmt, tmp_path, capsys, tiny_detector):
    from propdetect._report import model_fields

    first = tiny_detector.save(tmp_path / "first")
    second = tiny_detector.with_thresholds({"doubt": 0.99}).save(tmp_path / "second")
    (tmp_path / "a.txt").write_text(f"{LOUD}\n{CALM}\n", encoding="utf-8")
    outs = {}
    for model in (first, second):
        status, out, _ = run(capsys, "analyze", "--model", str(model), "--format", fmt, str(tmp_path / "a.txt"),
                             str(tmp_path / "missing.txt"))
        assert status == 1
        outs[model] = out
    fields = model_fields(tiny_detector)
    assert fields["model"] == "tiny" and fields["model_version"].startswith("tiny-")
    digests = set()
    for model, out in outs.items():
        if fmt == "jsonl":
            recs = [json.loads(line) for line in out.splitlines()]
            assert len(recs) == 2 and "error" in recs[1]                # the error record names it too
            assert all(r["model"] == "tiny" and r["model_version"] == fields["model_version"] for r in recs)
            digests |= {r["model_digest"] for r in recs}
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(out)))
            assert rows and all(r["model"] == "tiny" for r in rows)
            digests |= {r["model_digest"] for r in rows}
        elif fmt == "text":
            (summary,) = [line for line in out.splitlines() if line.startswith("summary: ")]
            assert f"; model {fields['model_version']} (sha256:" in summary
            digests.add(summary.rsplit("(", 1)[1])
        else:
            header = out[out.index("<header>"):out.index("</header>")]
            assert f"Model: {fields['model_version']} (sha256:" in header
            digests.add(header.rsplit("(", 1)[1])
    assert len(digests) == 2  # same name and version, other thresholds: told apart by the digest


def test_detect_many_names_the_item_that_is_not_text(tiny_detector):
    with pytest.raises(TypeError, match=r"^detect_many\(\): item 2 is int, not str$"):
        tiny_detector.detect_many(["a", "b", 42])
    with pytest.raises(TypeError, match=r"^iter_detect\(\): item 1 is NoneType, not str$"):
        list(tiny_detector.iter_detect(["a", None]))


def test_evaluate_checks_its_output_before_the_work_and_names_the_digest(tmp_path, capsys, tiny_model):
    from tests.conftest import _DOCS

    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"doc_id": f"d{i}", "text": s, "techniques": sorted(l)}) + "\n"
                            for i, d in enumerate(_DOCS) for s, l in d), encoding="utf-8")
    status, _, err = run(capsys, "evaluate", "--model", tiny_model, "--jsonl", str(data), "--no-baselines",
                         "-o", str(tmp_path / "no" / "such" / "r.json"))
    _one_line_usage_error(status, err, "no such folder")
    digests = set()
    for extra in ([], ["--threshold", "0.9"]):
        status, out, _ = run(capsys, "evaluate", "--model", tiny_model, "--jsonl", str(data), "--no-baselines",
                             "--format", "json", *extra)
        model = json.loads(out)["model"]
        assert status == EXIT_OK and model["name"] == "tiny"
        digests.add(model["model_digest"])
    assert len(digests) == 2
