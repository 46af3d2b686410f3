"""Readers: each input format, each bad-data error (naming file and line), the real corpora's counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data
from propdetect._corpus import (
    DataError,
    data_digest,
    documents_from_examples,
    load_documents,
    read_csv,
    read_jsonl,
    read_ptc,
    read_semeval2021,
)

# -- PTC articles + spans ----------------------------------------------------------
ARTICLE_1 = "A title\n\nThese traitors lie.\nThe bridge reopens.\nOur flag, our nation!\n"
ARTICLE_2 = "Another title\n\nIs this expert honest?\n"


def _span(text: str, phrase: str) -> tuple[int, int]:
    a = text.index(phrase)
    return a, a + len(phrase)


@pytest.fixture
def ptc(tmp_path: Path) -> Path:
    arts = tmp_path / "articles"
    arts.mkdir()
    (arts / "article1.txt").write_text(ARTICLE_1, encoding="utf-8")
    (arts / "article2.txt").write_text(ARTICLE_2, encoding="utf-8")
    rows = [
        ("1", "Name_Calling,Labeling", *_span(ARTICLE_1, "traitors")),
        ("1", "Straw_Men", *_span(ARTICLE_1, "lie.\nThe bridge")),  # PTC-18 label, crosses a line
        ("1", "Obfuscation,Intentional_Vagueness,Confusion", *_span(ARTICLE_1, "reopens")),
        ("1", "Flag-Waving", *_span(ARTICLE_1, "Our flag, our nation")),
        ("2", "Doubt", *_span(ARTICLE_2, "Is this expert honest?")),
    ]
    (tmp_path / "merged.labels").write_text("".join(f"{i}\t{l}\t{a}\t{b}\n" for i, l, a, b in rows))
    per = tmp_path / "per-article"
    per.mkdir()
    for doc in ("1", "2"):
        (per / f"article{doc}.labels.tsv").write_text(
            "".join(f"{i}\t{l}\t{a}\t{b}\n" for i, l, a, b in rows if i == doc))
    return tmp_path


def test_ptc_merged_and_per_article_labels_agree(ptc):
    docs, report = read_ptc(ptc / "articles", ptc / "merged.labels")
    docs2, _ = read_ptc(ptc / "articles", ptc / "per-article")
    assert data_digest(docs) == data_digest(docs2)
    d1, d2 = docs
    assert d1.sentences == ["A title", "These traitors lie.", "The bridge reopens.", "Our flag, our nation!"]
    assert d1.labels == (
        frozenset(),
        frozenset({"name_calling_labeling", "whataboutism_straw_men_red_herring"}),
        frozenset({"whataboutism_straw_men_red_herring"}),  # the span overlaps this line too
        frozenset({"flag_waving"}),
    )
    assert d2.labels == (frozenset(), frozenset({"doubt"}))
    assert report.dropped_labels == {"Obfuscation,Intentional_Vagueness,Confusion": 1}
    assert report.spans == 4 and report.documents == 2 and report.sentences == 6
    assert any("dropped 1 span(s) labelled 'Obfuscation" in line for line in report.lines())


def _write_labels(ptc: Path, line: str) -> Path:
    p = ptc / "bad.labels"
    p.write_text(f"2\tDoubt\t15\t20\n{line}\n")
    return p


def test_ptc_unknown_label_names_file_line_and_valid_ids(ptc):
    p = _write_labels(ptc, "1\tMind_Control\t0\t5")
    with pytest.raises(DataError, match=r"bad\.labels:2: unknown technique label 'Mind_Control'; "
                                        r"valid ids are: loaded_language, .*flag_waving"):
        read_ptc(ptc / "articles", p)


def test_ptc_offsets_outside_the_article(ptc):
    p = _write_labels(ptc, f"2\tDoubt\t10\t{len(ARTICLE_2) + 3}")
    with pytest.raises(DataError, match=r"bad\.labels:2: span 10-\d+ is outside article 2 .*--skip-bad-spans"):
        read_ptc(ptc / "articles", p)
    docs, report = read_ptc(ptc / "articles", p, skip_bad_spans=True)
    assert report.spans == 1 and len(report.skipped_spans) == 1
    assert "bad.labels:2" in report.skipped_spans[0]


@pytest.mark.parametrize("line, message", [
    ("2\tDoubt\t15", r"bad\.labels:2: expected 4 tab-separated fields"),
    ("2\tDoubt\tfifteen\t20", r"bad\.labels:2: start and end must be integers"),
    ("9\tDoubt\t0\t5", r"bad\.labels:2: article 9 is not in"),
])
def test_ptc_malformed_lines(ptc, line, message):
    with pytest.raises(DataError, match=message):
        read_ptc(ptc / "articles", _write_labels(ptc, line))


def test_ptc_non_utf8_and_missing_files(ptc):
    (ptc / "articles" / "article3.txt").write_bytes(b"Title\n\nCaf\xe9 society\n")
    with pytest.raises(DataError, match=r"article3\.txt:3: not valid UTF-8"):
        read_ptc(ptc / "articles", ptc / "merged.labels")
    (ptc / "articles" / "article3.txt").unlink()
    with pytest.raises(DataError, match=r"nowhere\.labels: no such file or folder"):
        read_ptc(ptc / "articles", ptc / "nowhere.labels")
    with pytest.raises(DataError, match="no article<ID>.txt files found"):
        read_ptc(ptc / "per-article", ptc / "merged.labels")


# -- JSON Lines ---------------------------------------------------------------------
def _jsonl(tmp_path: Path, *records: object, raw: str = "") -> Path:
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records) + raw, encoding="utf-8")
    return p


def test_jsonl_groups_sentences_by_doc_id(tmp_path):
    p = _jsonl(
        tmp_path,
        {"doc_id": "a", "text": "Traitors everywhere!", "techniques": ["name calling", "Loaded_Language"]},
        {"text": "A sentence on its own.", "techniques": []},
        {"doc_id": "a", "text": "  The museum opens at nine.  ", "techniques": []},
        {"id": 7, "text": "Fear them!", "techniques": "appeal to threat;Doubt"},
    )
    docs, report = read_jsonl(p)
    assert [d.id for d in docs] == ["a", "2", "7"]
    a = docs[0]
    assert a.sentences == ["Traitors everywhere!", "The museum opens at nine."]  # stripped spans
    assert a.labels == (frozenset({"name_calling_labeling", "loaded_language"}), frozenset())
    assert docs[2].labels == (frozenset({"appeal_to_fear_prejudice", "doubt"}),)
    assert report.documents == 3 and report.sentences == 4


@pytest.mark.parametrize("raw, message", [
    ('{"text": "ok", "techniques": []\n', r"data\.jsonl:2: invalid JSON"),
    ('{"techniques": []}\n', r"data\.jsonl:2: missing field\(s\) 'text'"),
    ('{"text": "ok"}\n', r"data\.jsonl:2: missing field\(s\) 'techniques'"),
    ('{"text": "   ", "techniques": []}\n', r"data\.jsonl:2: 'text' must be a non-empty string"),
    ('{"text": "ok", "techniques": ["Mind control"]}\n', r"data\.jsonl:2: unknown technique label 'Mind control'; valid ids"),
    ('{"text": "ok", "techniques": 3}\n', r"data\.jsonl:2: 'techniques' must be a list"),
    ('["text", "techniques"]\n', r"data\.jsonl:2: expected an object"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, raw, message):
    p = _jsonl(tmp_path, {"text": "fine", "techniques": []}, raw=raw)
    with pytest.raises(DataError, match=message):
        read_jsonl(p)


def test_jsonl_unreadable_empty_and_non_utf8(tmp_path):
    with pytest.raises(DataError, match=r"missing\.jsonl: cannot read"):
        read_jsonl(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DataError, match=r"empty\.jsonl: no records"):
        read_jsonl(tmp_path / "empty.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"text": "ok", "techniques": []}\n{"text": "caf\xe9", "techniques": []}\n')
    with pytest.raises(DataError, match=r"latin1\.jsonl:2: not valid UTF-8"):
        read_jsonl(tmp_path / "latin1.jsonl")


def test_unmapped_labels_are_dropped_and_counted(tmp_path):
    p = _jsonl(tmp_path, {"text": "Smear!", "techniques": ["Smears", "Loaded Language"]})
    docs, report = read_jsonl(p)
    assert docs[0].labels == (frozenset({"loaded_language"}),)
    assert report.dropped_labels == {"Smears": 1}
    assert "dropped 1 label(s) labelled 'Smears'" in "\n".join(report.lines())


# -- CSV ------------------------------------------------------------------------------
def test_csv_reads_quoted_fields_and_semicolon_labels(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text('doc_id,text,techniques,note\n'
                 'a,"Traitors, all of them!",Name_Calling;loaded language,x\n'
                 'a,"A line\nwith a break",,\n'
                 'b,Is it true?,doubt,\n', encoding="utf-8")
    docs, _ = read_csv(p)
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[0].labels == (frozenset({"name_calling_labeling", "loaded_language"}), frozenset())
    assert docs[0].sentences[1] == "A line\nwith a break"


@pytest.mark.parametrize("content, message", [
    ("text,labels\nhi,doubt\n", r"data\.csv:1: missing column\(s\) techniques; the header must name"),
    ("", r"data\.csv: empty file"),
    ("text,techniques\n", r"data\.csv: no data rows"),
    # The quoted field spans lines 2-3, so the bad row starts on line 4.
    ('text,techniques\n"two\nlines",\n,doubt\n', r"data\.csv:4: 'text' must be a non-empty string"),
    ('text,techniques\nok,\nfine,Mind control\n', r"data\.csv:3: unknown technique label 'Mind control'"),
    ('text,techniques\nok,doubt,extra\n', r"data\.csv:2: 3 fields but the header has 2"),
])
def test_csv_errors_name_file_and_line(tmp_path, content, message):
    p = tmp_path / "data.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_csv(p)


# -- SemEval-2021 memes ---------------------------------------------------------------
def test_semeval2021_memes_are_one_gold_sentence_each(tmp_path):
    memes = [
        {"id": "1_a", "labels": ["Loaded Language", "Smears"], "text": "EVIL LIARS\n\nVOTE THEM OUT\n"},
        {"id": "2_b", "labels": [], "text": "cat pictures"},
        {"id": "3_c", "labels": ["Presenting Irrelevant Data (Red Herring)"], "text": "but her emails"},
    ]
    p = tmp_path / "memes.txt"
    p.write_text(json.dumps(memes, indent=4), encoding="utf-8")
    docs, report = read_semeval2021(p)
    assert [d.id for d in docs] == ["1_a", "2_b", "3_c"]
    assert docs[0].sentences == ["EVIL LIARS\n\nVOTE THEM OUT"]
    assert docs[0].labels == (frozenset({"loaded_language"}),)
    assert docs[2].labels == (frozenset({"whataboutism_straw_men_red_herring"}),)
    assert report.dropped_labels == {"Smears": 1}


def test_semeval2021_errors_name_the_line_of_the_item(tmp_path):
    p = tmp_path / "memes.txt"
    p.write_text('[\n  {"id": "1", "labels": [], "text": "ok"},\n  {"id": "2", "labels": ["Telepathy"], "text": "x"}\n]')
    with pytest.raises(DataError, match=r"memes\.txt:3: unknown technique label 'Telepathy'"):
        read_semeval2021(p)
    p.write_text('[\n  {"id": "1", "labels": [], "text": "ok"},\n  {"id": "2", "labels": [], "text": ""}\n]')
    with pytest.raises(DataError, match=r"memes\.txt:3: \"text\" must be a non-empty string"):
        read_semeval2021(p)
    p.write_text('[\n  {"id": "1", "labels": [], "text": "ok"}\n  {"id": "2"}\n]')
    with pytest.raises(DataError, match=r"memes\.txt:3: invalid JSON \(expected ',' or '\]'"):
        read_semeval2021(p)


# -- Python objects -------------------------------------------------------------------
def test_examples_from_dicts_and_their_errors():
    docs = documents_from_examples([{"text": "Thugs!", "techniques": ["Name_Calling,Labeling"]},
                                    {"text": "Fine.", "techniques": []}])
    assert len(docs) == 2 and docs[0].labels == (frozenset({"name_calling_labeling"}),)
    with pytest.raises(DataError, match="examples: item 2: expected an object"):
        documents_from_examples([{"text": "a", "techniques": []}, "just text"])
    with pytest.raises(DataError, match="examples: item 1: 'text' must be a non-empty string"):
        documents_from_examples([{"text": "", "techniques": []}])
    with pytest.raises(DataError, match="expected an iterable of dicts, got a bytes"):
        load_documents(b"data.jsonl")
    with pytest.raises(DataError, match="no records"):
        load_documents([])


def test_hugging_face_dataset_and_dataset_dict():
    datasets = pytest.importorskip("datasets")
    rows = [{"doc_id": "x", "text": "Traitors!", "techniques": ["name calling"]},
            {"doc_id": "x", "text": "It rained.", "techniques": []}]
    ds = datasets.Dataset.from_list(rows)
    docs, _ = load_documents(ds)
    assert len(docs) == 1 and docs[0].labels == (frozenset({"name_calling_labeling"}), frozenset())
    with pytest.raises(DataError, match=r"DatasetDict holds several splits \(train, test\).*ds\['train'\]"):
        load_documents(datasets.DatasetDict({"train": ds, "test": ds}))
    with pytest.raises(DataError, match="missing column\\(s\\) techniques"):
        load_documents(ds.rename_column("techniques", "labels"))
    with pytest.raises(DataError, match="dataset row 1: unknown technique label 'Telepathy'"):
        load_documents(datasets.Dataset.from_list([rows[0], {**rows[1], "techniques": ["Telepathy"]}]))
    encoded = datasets.Dataset.from_dict(
        {"text": ["Is it true?", "Vote now!"], "techniques": [[0], [1, 0]]},
        features=datasets.Features({"text": datasets.Value("string"), "techniques": datasets.Sequence(
            datasets.ClassLabel(names=["Doubt", "Slogans"]))}))
    docs, _ = load_documents(encoded)
    assert [d.labels[0] for d in docs] == [frozenset({"doubt"}), frozenset({"slogans", "doubt"})]


def test_import_propdetect_does_not_import_datasets_or_sklearn():
    code = ("import sys, propdetect; "
            "print(sorted(m for m in ('datasets', 'sklearn', 'scipy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the real corpora (skip where ../shared/data is absent) -----------------------------
def _positives(docs) -> int:
    return sum(1 for d in docs for labs in d.labels if labs)


def test_ptc2020_counts_match_provenance():
    ptc = shared_data("ptc")
    train, report = read_ptc(ptc / "train-articles", ptc / "train-task-flc-tc.labels")
    assert (len(train), sum(len(d.spans) for d in train), _positives(train)) == (371, 16673, 4753)
    assert report.spans == 6128 and not report.dropped_labels
    per_article, _ = read_ptc(ptc / "train-articles", ptc / "train-labels-task-flc-tc")
    assert data_digest(per_article) == data_digest(train)
    dev, _ = read_ptc(ptc / "dev-articles", ptc / "dev-task-flc-tc.labels")
    assert (len(dev), sum(len(d.spans) for d in dev), _positives(dev)) == (75, 3177, 791)


def test_emnlp2019_18_labels_read_with_obfuscation_dropped_and_the_bad_span_skipped():
    root = shared_data("ptc-emnlp2019")
    with pytest.raises(DataError, match=r"article776368676\.labels\.tsv:\d+: span 4187-4225 is outside"):
        read_ptc(root / "articles" / "train", root / "raw_annotations" / "train")
    train, report = read_ptc(root / "articles" / "train", root / "raw_annotations" / "train",
                             skip_bad_spans=True)
    # PROVENANCE: 5114 spans, 10 of them Obfuscation, 1 out of range; 14263 sentences.
    assert (len(train), sum(len(d.spans) for d in train)) == (293, 14263)
    assert report.spans == 5114 - 10 - 1 and len(report.skipped_spans) == 1
    assert report.dropped_labels == {"Obfuscation,Intentional_Vagueness,Confusion": 10}
    # PROVENANCE counts 3932 positive lines with all 18 labels; 6 lines carry only Obfuscation.
    assert _positives(train) == 3926
    test, report = read_ptc(root / "articles" / "test", root / "raw_annotations" / "test")
    assert (len(test), sum(len(d.spans) for d in test)) == (101, 4042)
    assert report.dropped_labels == {"Obfuscation,Intentional_Vagueness,Confusion": 6}
    assert _positives(test) == 1046 - 4  # 4 test lines carry only Obfuscation


@pytest.mark.parametrize("split, memes, unmapped", [
    ("training_set", 688, {"Smears": 200, "Glittering generalities (Virtue)": 32,
                           "Obfuscation, Intentional vagueness, Confusion": 4}),
    ("dev_set", 63, {"Smears": 18, "Glittering generalities (Virtue)": 1}),
    ("test_set", 200, {"Smears": 45, "Glittering generalities (Virtue)": 11,
                       "Obfuscation, Intentional vagueness, Confusion": 1}),
])
def test_semeval2021_counts_match_provenance(split, memes, unmapped):
    docs, report = read_semeval2021(shared_data("semeval2021-task6", "data", f"{split}_task1.txt"))
    assert len(docs) == memes
    assert dict(report.dropped_labels) == unmapped
