"""The public data API: load_documents() over every format, DataFrames in, pandas optional."""

from __future__ import annotations

import csv as _csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import propdetect
from propdetect import DataError, LabelledDocument, load_documents
from propdetect._corpus import data_digest
from tests.conftest import _DOCS, ROOT, TINY_CONFIG

pd = pytest.importorskip("pandas")

ROWS = [
    {"doc_id": "a", "text": "These traitors lie.", "techniques": ["Name_Calling,Labeling"]},
    {"doc_id": "a", "text": "The bridge reopens.", "techniques": []},
    {"doc_id": "b", "text": "Is this expert honest?", "techniques": ["doubt", "Loaded_Language"]},
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The same three sentences as JSON Lines, CSV, SemEval-2021 (one meme each) and PTC."""
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    csv = tmp_path / "s.csv"
    with open(csv, "w", encoding="utf-8", newline="") as fh:
        w = _csv.writer(fh)
        w.writerow(["doc_id", "text", "techniques"])
        w.writerows([r["doc_id"], r["text"], ";".join(r["techniques"])] for r in ROWS)
    memes = tmp_path / "dev_set_task1.txt"
    memes.write_text(json.dumps([{"id": str(i), "labels": ["Doubt"] if i else [], "text": r["text"]}
                                 for i, r in enumerate(ROWS)]), encoding="utf-8")
    arts = tmp_path / "articles"
    arts.mkdir()
    text = "These traitors lie.\nThe bridge reopens.\n"
    (arts / "article1.txt").write_text(text, encoding="utf-8")
    labels = tmp_path / "spans.labels"
    labels.write_text("1\tName_Calling,Labeling\t6\t14\n1\tObfuscation,Intentional_Vagueness,Confusion\t20\t26\n")
    return {"jsonl": jsonl, "csv": csv, "semeval2021": memes, "ptc": arts, "labels": labels}


def test_each_format_reads_like_its_reader(files):
    for fmt, reader in (("jsonl", propdetect.read_jsonl), ("csv", propdetect.read_csv),
                        ("semeval2021", propdetect.read_semeval2021)):
        docs, report = load_documents(files[fmt])
        expected, _ = reader(files[fmt])
        assert data_digest(docs) == data_digest(expected), fmt
        assert isinstance(report, propdetect.CorpusReport)
    docs, _ = load_documents(files["jsonl"])
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[1].labels == (frozenset({"doubt", "loaded_language"}),)
    assert len(load_documents(files["semeval2021"])[0]) == 3  # one document per meme


def test_ptc_folder_with_labels(files):
    with pytest.warns(UserWarning, match="dropped 1 span label"):
        docs, report = load_documents(files["ptc"], labels=files["labels"])
    expected, _ = propdetect.read_ptc(files["ptc"], files["labels"])
    assert data_digest(docs) == data_digest(expected)
    assert docs[0].labels == (frozenset({"name_calling_labeling"}), frozenset())
    assert report.dropped_labels == {"Obfuscation,Intentional_Vagueness,Confusion": 1}
    (files["labels"]).write_text("1\tDoubt\t30\t99\n")
    with pytest.raises(DataError, match="outside article 1"):
        load_documents(files["ptc"], labels=files["labels"])
    docs, report = load_documents(files["ptc"], "ptc", labels=files["labels"], skip_bad_spans=True)
    assert len(report.skipped_spans) == 1 and docs[0].labels == (frozenset(), frozenset())


def test_format_names_what_the_file_name_cannot(files, tmp_path):
    odd = tmp_path / "sentences.txt"
    odd.write_bytes(files["jsonl"].read_bytes())
    with pytest.raises(DataError, match=r"sentences\.txt: cannot tell its format .* pass format= one of "
                                         r"ptc, jsonl, csv, semeval2021"):
        load_documents(odd)
    assert data_digest(load_documents(odd, format="jsonl")[0]) == data_digest(load_documents(files["jsonl"])[0])
    assert len(load_documents(str(files["csv"]))[0]) == 2  # a str path works as well as a Path


@pytest.mark.parametrize("call, message", [
    (lambda f: load_documents(f["ptc"]), "need their span annotations: pass labels="),
    (lambda f: load_documents(f["jsonl"], labels=f["labels"]), "labels= goes with a folder of PTC articles"),
    (lambda f: load_documents(f["jsonl"], format="xml"), "format 'xml' is not one of"),
    (lambda f: load_documents(f["jsonl"].with_name("missing.jsonl")), r"missing\.jsonl: cannot read"),
    (lambda f: load_documents(f["jsonl"].with_name("missing")), r"missing: no such file or folder"),
    (lambda f: load_documents(ROWS, format="jsonl"), "format= and labels= describe a file or folder"),
    (lambda f: load_documents(f["csv"], format="jsonl"), r"s\.csv:1: invalid JSON"),
])
def test_bad_calls_say_what_to_do(files, call, message):
    with pytest.raises(DataError, match=message):
        call(files)


def test_dicts_documents_and_datasets_still_work():
    docs, _ = load_documents(ROWS)
    assert len(docs) == 2 and all(isinstance(d, LabelledDocument) for d in docs)
    again, report = load_documents(docs)
    assert again == docs and report.sentences == 3
    datasets = pytest.importorskip("datasets")
    from_hf, _ = load_documents(datasets.Dataset.from_list(ROWS))
    assert data_digest(from_hf) == data_digest(docs)


# -- pandas in ------------------------------------------------------------------------
def test_dataframe_with_lists_strings_arrays_and_missing_values():
    df = pd.DataFrame({
        "doc_id": ["a", "a", None, np.nan],
        "text": ["These traitors lie.", "The bridge reopens.", "Is he honest?", "Vote now!"],
        "techniques": [["name calling"], np.nan, np.array(["Doubt"]), "Slogans;loaded language"],
        "ignored": [1, 2, 3, 4],
    })
    docs, _ = load_documents(df)
    # a missing doc_id makes a document of its own (not one "nan" document)
    assert [len(d.spans) for d in docs] == [2, 1, 1]
    assert [d.labels for d in docs] == [
        (frozenset({"name_calling_labeling"}), frozenset()),
        (frozenset({"doubt"}),),
        (frozenset({"slogans", "loaded_language"}),),
    ]
    assert data_digest(load_documents(pd.DataFrame(ROWS))[0]) == data_digest(load_documents(ROWS)[0])


def test_dataframe_errors_name_the_row_and_the_column():
    with pytest.raises(DataError, match=r"DataFrame: missing column\(s\) techniques \(found: text, labels\)"):
        load_documents(pd.DataFrame({"text": ["a"], "labels": [[]]}))
    with pytest.raises(DataError, match=r"DataFrame row 'r2': 'text' must be a non-empty string, got None"):
        load_documents(pd.DataFrame({"text": ["ok", None], "techniques": [[], []]}, index=["r1", "r2"]))
    with pytest.raises(DataError, match=r"DataFrame row 1: unknown technique label 'Telepathy'"):
        load_documents(pd.DataFrame({"text": ["ok", "no"], "techniques": [[], ["Telepathy"]]}))


def test_train_takes_a_dataframe():
    rows = [{"doc_id": f"d{i}", "text": s, "techniques": sorted(labels)}
            for i, doc in enumerate(_DOCS) for s, labels in doc]
    from_frame = propdetect.train(pd.DataFrame(rows), TINY_CONFIG)
    from_dicts = propdetect.train(rows, TINY_CONFIG)
    assert from_frame.metadata["training_data"]["digest"] == from_dicts.metadata["training_data"]["digest"]
    assert from_frame.metadata["training_data"]["documents"] == len(_DOCS)
    probe = ["Is this so-called expert honest?", "Our flag and our great nation!"]
    np.testing.assert_array_equal(from_frame.predict_proba_doc(probe), from_dicts.predict_proba_doc(probe))


# -- pandas optional ---------------------------------------------------------------------
def test_everything_but_dataframes_works_without_pandas(files):
    code = """
import sys
sys.modules["pandas"] = None          # as if pandas were not installed: importing it fails
import propdetect
a = propdetect.detect("They are very cruel, they don't spare anyone.")
docs, _ = propdetect.load_documents(sys.argv[1])
try:
    propdetect.to_frame([a])
except ImportError as exc:
    print(len(a.sentences), len(docs), exc)
"""
    out = subprocess.run([sys.executable, "-c", code, str(files["jsonl"])], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == ("1 2 this needs pandas, an optional dependency of propdetect: "
                                  "pip install 'propdetect[pandas]'")
