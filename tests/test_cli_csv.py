"""``propdetect analyze --format csv``: one row per sentence, the columns of to_frame, offsets into the input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import propdetect
from propdetect.cli import EXIT_INPUT_ERROR, EXIT_OK, main
from tests.conftest import ROOT

LOUD = "These traitors and thugs are destroying our great nation!"
CALM = "The council meets on Tuesday, at the town hall."
BASE = ["source", "start", "end", "text", "techniques", "propaganda_score"]
TAIL = ["warnings"]  # the text's warnings
MODEL = ["model", "model_version", "model_digest"]  # the CLI's rows name the model


@pytest.fixture(scope="module")
def tiny_model(tiny_detector, tmp_path_factory) -> str:
    return str(tiny_detector.save(tmp_path_factory.mktemp("model") / "tiny"))


def run_csv(capsys, *argv: str) -> tuple[int, list[str], list[dict[str, str]], str]:
    status = main(["analyze", "--format", "csv", *argv])
    out, err = capsys.readouterr()
    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    return status, list(reader.fieldnames or []), rows, err


def test_one_row_per_sentence_offsets_index_the_file(tmp_path, capsys, tiny_model, tiny_detector):
    text = f"  {LOUD}\n\n{CALM} Is this really true?\n"
    src = tmp_path / "a.txt"
    src.write_text(text, encoding="utf-8")
    status, header, rows, err = run_csv(capsys, "--model", tiny_model, str(src))
    assert status == EXIT_OK and "1 documents, 3 sentences" in err
    assert header == BASE + list(tiny_detector.techniques) + TAIL + MODEL
    analysis = tiny_detector.detect(text)
    assert len(rows) == len(analysis.sentences) == 3
    for row, s in zip(rows, analysis.sentences):
        start, end = int(row["start"]), int(row["end"])
        assert text[start:end] == row["text"] == s.text
        assert row["source"] == str(src)
        assert tuple(filter(None, row["techniques"].split(";"))) == s.techniques
        for t in tiny_detector.techniques:
            assert float(row[t]) == pytest.approx(s.scores[t], abs=1e-6)
    assert rows[1]["text"] == CALM  # a comma inside the sentence is quoted, not a new column


def test_jsonl_rows_name_file_and_line_and_index_the_text_field(tmp_path, capsys, tiny_model):
    src = tmp_path / "news.jsonl"
    records = [{"id": "a", "text": f"{CALM}\n{LOUD}"}, {"id": "b", "text": LOUD}]
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    status, _, rows, _ = run_csv(capsys, "--model", tiny_model, str(src))
    assert status == EXIT_OK
    assert [r["source"] for r in rows] == [f"{src}:1", f"{src}:1", f"{src}:2"]
    for r in rows:
        rec = records[int(r["source"].rsplit(":", 1)[1]) - 1]
        assert rec["text"][int(r["start"]):int(r["end"])] == r["text"]


def test_errors_go_to_stderr_and_exit_1_the_rest_is_written(tmp_path, capsys, tiny_model):
    good = tmp_path / "good.txt"
    good.write_text(LOUD, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    status, header, rows, err = run_csv(capsys, "--model", tiny_model, str(tmp_path / "missing.txt"),
                                        str(empty), str(good))
    assert status == EXIT_INPUT_ERROR
    assert "missing.txt: no such file" in err and "1 errors" in err
    assert header[:6] == BASE and [r["source"] for r in rows] == [str(good)]


def test_no_input_sentence_still_writes_the_header(tmp_path, capsys, tiny_model, tiny_detector):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    status, header, rows, _ = run_csv(capsys, "--model", tiny_model, str(empty))
    assert status == EXIT_OK and rows == [] and header == BASE + list(tiny_detector.techniques) + TAIL + MODEL


def test_same_columns_and_values_as_to_frame(tmp_path, capsys, tiny_model, tiny_detector):
    pd = pytest.importorskip("pandas")
    texts = [f"{LOUD}\n{CALM}", "Can we really trust these so-called experts?"]
    paths = []
    for i, t in enumerate(texts):
        paths.append(tmp_path / f"{i}.txt")
        paths[-1].write_text(t, encoding="utf-8")
    status, _, _, _ = run_csv(capsys, "--model", tiny_model, "-o", str(tmp_path / "out.csv"), *map(str, paths))
    assert status == EXIT_OK
    from_cli = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    frame = propdetect.to_frame(tiny_detector.detect_many(texts), sources=[str(p) for p in paths])
    assert list(from_cli.columns) == list(frame.columns) + MODEL
    pd.testing.assert_frame_equal(from_cli[BASE[:4]], frame[BASE[:4]], check_dtype=False)
    assert from_cli["techniques"].tolist() == [";".join(t) for t in frame["techniques"]]
    scores = list(tiny_detector.techniques)
    pd.testing.assert_frame_equal(from_cli[scores], frame[scores], atol=1e-6, check_dtype=False)


def test_real_process_with_the_bundled_model():
    seed = ROOT / "seeds" / "kursk-region.txt"
    out = subprocess.run([sys.executable, "-m", "propdetect", "analyze", "--format", "csv", str(seed)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    text = seed.read_text(encoding="utf-8")
    assert len(rows) == len(propdetect.detect(text).sentences) >= 20
    assert list(rows[0]) == BASE + list(propdetect.TECHNIQUE_IDS) + TAIL + MODEL
    assert all(text[int(r["start"]):int(r["end"])] == r["text"] for r in rows)
    assert any("very cruel" in r["text"] and r["techniques"] for r in rows)
