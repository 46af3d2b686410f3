"""Evaluation harness and the train/evaluate commands, end to end on hand-written files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from propdetect import Analysis, Detector, Sentence
from propdetect._corpus import LabelledDocument
from propdetect._evaluate import model_training_docs, predicted_matrix
from propdetect.cli import main
from tests.conftest import _DOCS, TINY_CONFIG, shared_data


def _write_jsonl(path: Path, docs=_DOCS) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i, doc in enumerate(docs):
            for s, labels in doc:
                fh.write(json.dumps({"doc_id": f"d{i}", "text": s, "techniques": sorted(labels)}) + "\n")
    return path


def _write_ptc(root: Path, docs=_DOCS) -> tuple[Path, Path]:
    """The tiny documents as PTC files: one sentence per line, one span per label."""
    arts = root / "articles"
    arts.mkdir()
    spans = []
    for i, doc in enumerate(docs):
        text, pos = "", 0
        for s, labels in doc:
            spans += [f"{i}\t{lab}\t{pos}\t{pos + len(s)}\n" for lab in sorted(labels)]
            text += s + "\n"
            pos += len(s) + 1
        (arts / f"article{i}.txt").write_text(text, encoding="utf-8")
    labels = root / "labels.tsv"
    labels.write_text("".join(spans), encoding="utf-8")
    return arts, labels


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    train = _write_jsonl(root / "train.jsonl")
    assert main(["train", "--jsonl", str(train), "--config", json.dumps(TINY_CONFIG.to_dict()),
                 "--name", "tiny-cli", "--out", str(root / "model")]) == 0
    return root


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_writes_a_loadable_model_that_records_its_data(data):
    det = Detector.load(data / "model")
    assert det.metadata["name"] == "tiny-cli"
    src = det.metadata["training_data"]["source"]
    assert src == {"format": "jsonl", "path": str((data / "train.jsonl").resolve())}
    assert det.metadata["training_data"]["documents"] == len(_DOCS)


def test_cli_evaluate_json_on_ptc_files_with_baselines(data, capsys, tmp_path):
    arts, labels = _write_ptc(tmp_path)
    code, out, err = _run(capsys, "evaluate", "--model", str(data / "model"), "--articles", str(arts),
                          "--labels", str(labels), "--format", "json")
    assert code == 0, err
    r = json.loads(out)
    assert {"micro_f1", "macro_f1", "binary_f1", "per_technique", "baselines"} <= r.keys()
    assert r["sentences"] == sum(len(d) for d in _DOCS)
    assert r["binary_f1"] > 0.8  # its own training data, clear cases
    assert set(r["baselines"]) == {"length", "tfidf_lr"}
    assert r["per_technique"]["doubt"]["support"] == 5
    assert "trained on the model's training data: jsonl" in err


def test_cli_evaluate_markdown_and_text(data, capsys, tmp_path):
    csv = tmp_path / "test.csv"
    csv.write_text("text,techniques\nCan we really trust these so-called experts?,doubt\n"
                   "The museum opens at nine in the morning.,\n", encoding="utf-8")
    code, out, _ = _run(capsys, "evaluate", "--model", str(data / "model"), "--csv", str(csv),
                        "--format", "markdown", "--no-baselines")
    assert code == 0
    assert out.startswith("| system | micro-F1 | macro-F1 | binary P | binary R | binary F1 |")
    assert "| propdetect (tiny-cli) |" in out and "| `doubt` |" in out and "baseline:" not in out
    code, out, _ = _run(capsys, "evaluate", "--model", str(data / "model"), "--csv", str(csv),
                        "--baseline-train-jsonl", str(data / "train.jsonl"))
    assert code == 0
    assert "binary-F1" in out and "baseline: tfidf_lr" in out and "2 sentences" in out


def test_cli_evaluate_memes_and_missing_baseline_data(data, capsys, tmp_path):
    memes = tmp_path / "memes.txt"
    memes.write_text(json.dumps([{"id": "1", "labels": ["Doubt", "Smears"], "text": "Is it TRUE?\n\nNo."},
                                 {"id": "2", "labels": [], "text": "cats"}]), encoding="utf-8")
    moved = tmp_path / "model"
    Detector.load(data / "model").save(moved)
    meta = json.loads((moved / "metadata.json").read_text())
    meta["training_data"]["source"] = {"format": "jsonl", "path": str(tmp_path / "gone.jsonl")}
    (moved / "metadata.json").write_text(json.dumps(meta))
    code, out, err = _run(capsys, "evaluate", "--model", str(moved), "--semeval2021", str(memes),
                          "--format", "json")
    assert code == 0, err
    r = json.loads(out)
    assert r["sentences"] == 2 and r["baselines"] == {}
    assert "could not be read" in r["baselines_note"] and "gone.jsonl" in err
    assert "dropped 1 label(s) labelled 'Smears'" in err


@pytest.mark.parametrize("files, args, message", [
    ({"x.jsonl": '{"text": "a", "techniques": []}\n{"text": "b", "techniques": [}\n'},
     ["--jsonl", "x.jsonl"], r"x\.jsonl:2: invalid JSON"),
    ({"x.jsonl": '{"text": "a", "techniques": ["Telepathy"]}\n'},
     ["--jsonl", "x.jsonl"], r"x\.jsonl:1: unknown technique label 'Telepathy'; valid ids are: loaded_language"),
    ({"x.csv": "sentence,techniques\na,\n"}, ["--csv", "x.csv"], r"x\.csv:1: missing column\(s\) text"),
    ({"x.csv": "text,techniques\n  ,doubt\n"}, ["--csv", "x.csv"], r"x\.csv:2: 'text' must be a non-empty"),
    ({"article1.txt": "Short.\n", "l.tsv": "1\tDoubt\t0\t99\n"},
     ["--articles", ".", "--labels", "l.tsv"], r"l\.tsv:1: span 0-99 is outside article 1"),
    ({"x.jsonl": b'{"text": "caf\xe9", "techniques": []}\n'}, ["--jsonl", "x.jsonl"],
     r"x\.jsonl:1: not valid UTF-8"),
    ({}, ["--jsonl", "nothing.jsonl"], r"nothing\.jsonl: cannot read"),
    ({}, [], r"give the labelled data: --articles DIR --labels PATH, --jsonl FILE"),
    ({}, ["--articles", "."], r"--articles DIR and --labels PATH go together"),
    ({"x.jsonl": "", "x.csv": ""}, ["--jsonl", "x.jsonl", "--csv", "x.csv"], r"not --jsonl and --csv"),
])
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_cli_data_errors_exit_2_with_file_and_line(capsys, tmp_path, monkeypatch, command, files, args,
                                                   message):
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        p = tmp_path / name
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content, encoding="utf-8")
    extra = ["--out", "m"] if command == "train" else ["--no-baselines"]
    code, out, err = _run(capsys, command, *args, *extra)
    assert code == 2
    assert err.startswith("propdetect: ") and "Traceback" not in err
    assert __import__("re").search(message, err), err
    assert not (tmp_path / "m").exists()


def test_cli_train_usage_errors(capsys, tmp_path):
    one = _write_jsonl(tmp_path / "one.jsonl", _DOCS[:1])
    code, _, err = _run(capsys, "train", "--jsonl", str(one), "--config", '{"cv_fold": 2}', "--out", "m")
    assert code == 2 and "bad training config (unknown training option(s) cv_fold" in err
    code, _, err = _run(capsys, "train", "--jsonl", str(one), "--config", str(tmp_path / "no.json"), "--out", "m")
    assert code == 2 and "cannot read the training config" in err
    code, _, err = _run(capsys, "train", "--jsonl", str(one), "--out", str(tmp_path / "m"))
    assert code == 2 and "cannot train on this data: cross-validation needs at least 2 documents" in err


class _KeywordDetector:
    """Flags 'doubt' in any sentence with a '?' and 'loaded_language' with '!'."""

    metadata: dict = {}
    techniques = ("doubt", "loaded_language")

    def detect(self, text: str) -> Analysis:
        out, pos = [], 0
        for line in text.split("\n"):
            techs = tuple(t for t, c in (("doubt", "?"), ("loaded_language", "!")) if c in line)
            if line.strip():
                out.append(Sentence(line, pos, pos + len(line), techs))
            pos += len(line) + 1
        return Analysis(tuple(out))


def test_a_gold_sentence_gets_the_union_of_the_predicted_sentences_it_overlaps():
    text = "Really?\nNo way!\n\nCalm line.\nLast."
    # Gold: one "sentence" over the first two lines (a meme text box), then two lines.
    doc = LabelledDocument("m", text, ((0, 15), (17, 27), (28, 33)), (frozenset(),) * 3)
    P = predicted_matrix(_KeywordDetector(), [doc], ["doubt", "loaded_language", "slogans"])
    np.testing.assert_array_equal(P, [[1, 1, 0], [0, 0, 0], [0, 0, 0]])


def test_bundled_model_training_data_is_found_and_matches_its_digest():
    from propdetect._detector import bundled_model_path

    shared_data("ptc", "train-articles")
    meta = json.loads((bundled_model_path() / "metadata.json").read_text(encoding="utf-8"))
    docs, note = model_training_docs(meta)
    assert docs is not None and len(docs) == 371, note
    assert "WARNING" not in note


def test_missing_training_source_is_said_clearly():
    docs, note = model_training_docs({"name": "custom", "training_data": {}})
    assert docs is None and "--baseline-train-articles" in note
