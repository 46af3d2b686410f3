"""Label Studio and doccano exports in, Label Studio tasks out (files as the tools write
them; the real Label Studio server is in test_label_studio_server.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

import propdetect
from propdetect import DataError, load_documents, read_doccano, read_label_studio
from propdetect._annotation import label_studio_task
from propdetect._corpus import choose_annotation
from propdetect.cli import main

TEXT = "These traitors lie to you. It rained on Monday.\nWe must act now!"


def _span(start, end, label, text=TEXT, kind="labels"):
    return {"id": f"r{start}", "from_name": "label", "to_name": "text", "type": kind, "origin": "manual",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def _annotation(ident, result, updated, **extra):
    # the fields of Label Studio 1.23's JSON export, trimmed of those we do not read
    return {"id": ident, "completed_by": 1, "result": result, "was_cancelled": False, "ground_truth": False,
            "created_at": updated, "updated_at": updated, "lead_time": 4.2, "prediction": {}, "task": 1,
            "project": 1, **extra}


def _task(ident, annotations, text=TEXT):
    return {"id": ident, "annotations": annotations, "drafts": [], "predictions": [], "data": {"text": text},
            "meta": {}, "created_at": "2026-12-01T10:00:00.000000Z", "inner_id": ident, "project": 1}


def _write(tmp_path, obj, name="export.json"):
    p = tmp_path / name
    p.write_text(json.dumps(obj), encoding="utf-8")
    return p


# -- Label Studio in ---------------------------------------------------------------
def test_label_studio_export_gives_spans_and_sentence_labels(tmp_path):
    export = [_task(1, [_annotation(10, [_span(6, 14, "Name Calling,Labeling"), _span(48, 63, "Slogans"),
                                         {"type": "choices", "from_name": "x", "to_name": "text",
                                          "value": {"choices": ["ok"]}}],
                                    "2026-12-01T10:00:00Z")])]
    docs, report = read_label_studio(_write(tmp_path, export))
    (doc,) = docs
    assert doc.id == "1" and doc.text == TEXT
    assert doc.sentences == ["These traitors lie to you.", "It rained on Monday.", "We must act now!"]
    assert doc.labels == (frozenset({"name_calling_labeling"}), frozenset(), frozenset({"slogans"}))
    assert doc.technique_spans == (("name_calling_labeling", 6, 14), ("slogans", 48, 63))
    assert report.ignored_results == {"choices": 1}
    assert any("ignored 1 result(s) of type 'choices'" in line for line in report.lines())


def test_label_studio_several_annotations_rule(tmp_path):
    old = _annotation(1, [_span(6, 14, "Loaded Language")], "2026-12-01T10:00:00Z")
    new = _annotation(2, [_span(19, 25, "Doubt")], "2026-12-02T10:00:00Z")
    cancelled = _annotation(3, [_span(27, 33, "Slogans")], "2026-12-03T10:00:00Z", was_cancelled=True)
    docs, report = read_label_studio(_write(tmp_path, [_task(1, [old, new, cancelled])]))
    assert docs[0].technique_spans == (("doubt", 19, 25),)  # the latest not cancelled
    assert report.several_annotations == 1
    truth = {**old, "ground_truth": True}
    docs, _ = read_label_studio(_write(tmp_path, [_task(1, [truth, new])]))
    assert docs[0].technique_spans == (("loaded_language", 6, 14),)  # ground truth wins
    assert choose_annotation([cancelled]) is None


def test_label_studio_unannotated_tasks_are_skipped_and_counted(tmp_path):
    export = [_task(1, [_annotation(1, [], "2026-12-01T10:00:00Z")]), _task(2, []),
              _task(3, [_annotation(2, [_span(6, 14, "Doubt")], "2026-12-01T10:00:00Z", was_cancelled=True)])]
    docs, report = read_label_studio(_write(tmp_path, export))
    assert [d.id for d in docs] == ["1"] and docs[0].labels == (frozenset(),) * 3  # annotated: nothing
    assert report.unannotated == 2
    with pytest.raises(DataError, match="no annotated tasks .2 without an annotation"):
        read_label_studio(_write(tmp_path, export[1:]))


def test_label_studio_labels_resolve_unmapped_dropped_unknown_raise(tmp_path):
    export = [_task(1, [_annotation(1, [_span(6, 14, "Appeal to fear-prejudice"), _span(0, 5, "Smears"),
                                        _span(19, 25, "appeal to threat")], "2026-12-01T10:00:00Z")])]
    with pytest.warns(UserWarning, match="'Smears'"):
        docs, report = load_documents(_write(tmp_path, export), format="label-studio")
    assert {t for t, _, _ in docs[0].technique_spans} == {"appeal_to_fear_prejudice"}
    assert report.dropped_labels == {"Smears": 1}
    export[0]["annotations"][0]["result"].append(_span(0, 5, "Telepathy"))
    with pytest.raises(DataError, match=r"task #1 \(id 1\), result #4: unknown technique label 'Telepathy'"):
        read_label_studio(_write(tmp_path, export))


def test_label_studio_utf16_offsets_of_old_versions_are_converted(tmp_path):
    text = "🎉 Party time. These traitors lie."
    start = text.index("traitors")
    old = _span(start + 1, start + 9, "Name calling", text=text)  # UTF-16: the emoji counts 2
    old["value"]["text"] = "traitors"
    docs, _ = read_label_studio(_write(tmp_path, [_task(1, [_annotation(1, [old], "2026-01-01")], text=text)]))
    assert docs[0].technique_spans == (("name_calling_labeling", start, start + 8),)


@pytest.mark.parametrize("export, message", [
    ("not json", r"export.json:1: invalid JSON"),
    ({"a": 1}, r"expected a JSON array of tasks"),
    ([], r"the array of tasks is empty"),
    (["x"], r"task #1: expected an object"),
    ([{"id": 5, "data": {"body": "x"}, "annotations": []}], r"task #1 \(id 5\): no data.text \(found: 'body'\)"),
    ([{"id": 5, "text": "x", "label": []}], r"JSON-MIN export"),
    ([_task(1, [_annotation(1, [_span(6, 14, "Doubt")], "2026")]),
      _task(2, [_annotation(2, [{**_span(0, 5, "Doubt"), "value": {"start": 0, "end": 99, "text": "These",
                                                                  "labels": ["Doubt"]}}], "2026")])],
     r"task #2 \(id 2\), result #1: span 0-99"),
    ([_task(1, [_annotation(1, [{**_span(0, 5, "Doubt"), "value": {"start": 0, "end": 5, "text": "Those",
                                                                  "labels": ["Doubt"]}}], "2026")])],
     r"result #1: span 0-5 is 'These' in the text but the export says 'Those'"),
    ([_task(1, [_annotation(1, [{"type": "labels", "value": {"start": 0}}], "2026")])],
     r"needs value.start, value.end and value.labels"),
    ([_task(1, []), _task(1, [_annotation(1, [], "2026")]), _task(1, [_annotation(2, [], "2026")])],
     r"task #3 \(id 1\): the id 1 appears twice"),
])
def test_label_studio_bad_files_name_the_task(tmp_path, export, message):
    p = tmp_path / "export.json"
    p.write_text(export if isinstance(export, str) else json.dumps(export), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_label_studio(p)


def test_label_studio_bad_span_skipped_on_request(tmp_path):
    bad = {**_span(0, 5, "Doubt"), "value": {"start": 0, "end": 999, "labels": ["Doubt"]}}
    p = _write(tmp_path, [_task(1, [_annotation(1, [bad, _span(6, 14, "Doubt")], "2026")])])
    docs, report = load_documents(p, format="label-studio", skip_bad_spans=True)
    assert docs[0].technique_spans == (("doubt", 6, 14),)
    assert len(report.skipped_spans) == 1 and "outside the text" in report.skipped_spans[0]


# -- doccano in --------------------------------------------------------------------
def test_doccano_jsonl_export_as_doccano_writes_it(tmp_path):
    # doccano's sequence-labelling JSONL (backend/data_export): id, text, meta fields, label, Comments
    lines = [{"id": 7, "text": TEXT, "source": "a", "label": [[6, 14, "Name_Calling,Labeling"], [48, 63, "Slogans"]],
              "Comments": []},
             {"id": 8, "text": "Nothing to see here.", "label": [], "Comments": []}]
    p = tmp_path / "admin.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    docs, report = load_documents(p, format="doccano")
    assert [d.id for d in docs] == ["7", "8"]
    assert docs[0].labels == (frozenset({"name_calling_labeling"}), frozenset(), frozenset({"slogans"}))
    assert docs[1].labels == (frozenset(),)
    assert report.spans == 2 and report.documents == 2 and report.sentences == 4


def test_doccano_relation_and_old_and_classification_exports(tmp_path):
    lines = [
        # a project with relations: entities as objects
        {"id": 1, "text": TEXT, "entities": [{"id": 3, "label": "Doubt", "start_offset": 19, "end_offset": 25}],
         "relations": [], "Comments": []},
        # older doccano versions: the text in "data"
        {"id": 2, "data": TEXT, "label": [[6, 14, "Loaded Language"]]},
        # text classification: one labelled sentence per line
        {"id": 3, "text": "Make America great again!", "label": ["Slogans", "Flag-Waving"]},
    ]
    p = tmp_path / "all.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    docs, _ = read_doccano(p)
    assert docs[0].technique_spans == (("doubt", 19, 25),)
    assert docs[1].technique_spans == (("loaded_language", 6, 14),)
    assert docs[2].labels == (frozenset({"slogans", "flag_waving"}),) and docs[2].technique_spans == ()


@pytest.mark.parametrize("line, message", [
    ("{oops", r"admin.jsonl:2: invalid JSON"),
    ('{"id": 2, "label": []}', r"admin.jsonl:2: \"text\" must be a non-empty string"),
    ('{"id": 2, "text": "Hi there."}', r"admin.jsonl:2: no \"label\""),
    ('{"id": 2, "text": "Hi there.", "label": [[0, 50, "Doubt"]]}', r"admin.jsonl:2: label #1: span 0-50 is outside"),
    ('{"id": 2, "text": "Hi there.", "label": [[0, 2]]}', r"admin.jsonl:2: label #1: expected \[start, end"),
    ('{"id": 2, "text": "Hi there.", "label": [[0, 2, "Telepathy"]]}', r"admin.jsonl:2: label #1: unknown"),
    ('{"id": 1, "text": "Hi there.", "label": []}', r"admin.jsonl:2: the id 1 appears twice"),
])
def test_doccano_bad_lines_name_the_line(tmp_path, line, message):
    p = tmp_path / "admin.jsonl"
    p.write_text('{"id": 1, "text": "Fine.", "label": []}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_doccano(p)


# -- Label Studio out --------------------------------------------------------------
def test_config_is_xml_with_the_14_techniques_that_resolve():
    root = ET.fromstring(propdetect.label_studio_config())
    labels = root.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    values = [x.get("value") for x in labels.findall("Label")]
    assert [propdetect.technique(v).id for v in values] == list(propdetect.TECHNIQUE_IDS)
    assert root.find("Text").get("value") == "$text"


def test_tasks_round_trip_gives_the_models_own_spans(tmp_path):
    texts = ["These traitors and thugs lie to you every day. It rained.",
             "Our glorious nation will never bow to these cowards!", "Stocks rose slightly."]
    analyses = propdetect.Detector.load().detect_many(texts)
    tasks = propdetect.label_studio_tasks(analyses, texts, model_version="v1")
    expected = []
    for a in analyses:
        spans = set()
        for s in a.sentences:
            for t in s.techniques:
                spans |= {(t, x, y) for x, y in (s.evidence.get(t) or [(s.start, s.end)])}
        expected.append(spans)
    assert expected[0] and expected[1]
    for task in tasks:  # annotators accept every prediction
        task["annotations"] = [{"id": 1, "result": task["predictions"][0]["result"]}]
    docs, _ = read_label_studio(_write(tmp_path, tasks))
    assert [set(d.technique_spans) for d in docs] == expected
    assert [d.spans for d in docs] == [tuple((s.start, s.end) for s in a.sentences) for a in analyses]
    scores = [r["score"] for r in tasks[0]["predictions"][0]["result"]]
    assert all(0 < x <= 1 for x in scores) and tasks[0]["predictions"][0]["score"] == max(scores)


def test_task_without_analysis_and_with_data():
    assert label_studio_task("Hi.", data={"source": "a.txt", "text": "ignored"}) == {
        "data": {"text": "Hi.", "source": "a.txt"}}
    with pytest.raises(ValueError, match="2 analyses for 1 texts"):
        propdetect.label_studio_tasks([propdetect.detect("a"), propdetect.detect("b")], ["a"])


# -- the command line --------------------------------------------------------------
def test_cli_analyze_label_studio_and_config(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("These traitors and thugs lie to you every day.\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "x1", "text": "Stocks rose."}\n{"id": "x2"}\n', encoding="utf-8")
    out = tmp_path / "tasks.json"
    assert main(["analyze", "--format", "label-studio", str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"),
                 "-o", str(out)]) == 1  # one input record has no text: an error on stderr
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"].get("id") for t in tasks] == [None, "x1"]
    assert tasks[0]["data"]["source"].endswith("a.txt") and tasks[1]["data"]["line"] == 1
    assert tasks[0]["predictions"][0]["result"] and tasks[0]["predictions"][0]["model_version"].startswith("ptc2020")
    assert "b.jsonl:2" in capsys.readouterr().err
    assert main(["label-studio-config"]) == 0
    assert capsys.readouterr().out == propdetect.label_studio_config()


def _training_export(tmp_path):
    """An export big enough to train on: texts with and without loaded language."""
    tasks = []
    for i in range(24):
        text = (f"The evil, disgusting crooks ruined city number {i}. Officials met on day {i}."
                if i % 2 else f"The council met on day {i}. The budget passed by {i} votes.")
        result = [_span(4, 26, "Loaded Language", text=text)] if i % 2 else []
        tasks.append(_task(i + 1, [_annotation(i + 1, result, "2026-12-01T10:00:00Z")], text=text))
    return _write(tmp_path, tasks)


def test_cli_train_and_evaluate_on_label_studio_and_doccano(tmp_path, capsys):
    export = _training_export(tmp_path)
    config = '{"min_df": 1, "cv_folds": 2}'
    assert main(["train", "--label-studio", str(export), "--out", str(tmp_path / "m"), "--config", config]) == 0
    assert "read 24 documents, 48 sentences, 12 spans" in capsys.readouterr().err
    det = propdetect.Detector.load(tmp_path / "m")
    assert det.metadata["training_data"]["source"]["format"] == "label-studio"
    docs, _ = read_label_studio(export)
    lines = [json.dumps({"id": d.id, "text": d.text, "label": [[a, b, t] for t, a, b in d.technique_spans]})
             for d in docs]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--doccano", str(tmp_path / "d.jsonl"),
                 "--format", "json", "--no-baselines"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["micro_f1"] > 0.9  # its own training data, one clear technique
    assert main(["train", "--label-studio", str(export), "--doccano", str(export), "--out",
                 str(tmp_path / "m2")]) == 2
    assert "give one kind of data, not --label-studio and --doccano" in capsys.readouterr().err


def test_the_docs_section_runs_as_written(tmp_path, monkeypatch, capsys):
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "guides" / "annotation.md").read_text(encoding="utf-8")
    start = page.index("## Label Studio and doccano, in and out")
    end = page.find("\n## ", start + 10)
    section = page[start:end if end != -1 else len(page)]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    export = _training_export(tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "docs/guides/annotation.md", "exec"), namespace)
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 2 and tasks[0]["predictions"][0]["result"] and not tasks[1]["predictions"][0]["result"]
    assert export.name == "export.json" and capsys.readouterr().out.startswith("read 24 documents")
    assert namespace["det"].techniques == ("loaded_language",)
    # every command of the section's shell block is one the CLI has
    (sh,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    for line in sh.splitlines():
        if line.startswith("propdetect "):
            args = line.split("#")[0].split()[1:]
            with pytest.raises(SystemExit) as exc:
                main([args[0], "--help"])
            assert exc.value.code == 0


def test_a_label_studio_json_is_known_by_its_content_and_a_doccano_jsonl_gets_a_hint(tmp_path):
    export = _training_export(tmp_path)
    docs, _ = load_documents(export)
    assert len(docs) == 24 and docs[1].technique_spans
    p = tmp_path / "admin.jsonl"
    p.write_text('{"id": 1, "text": "Traitors!", "label": [[0, 8, "Name calling"]]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"looks like a doccano export: read it with format=\"doccano\""):
        load_documents(p)
    assert load_documents(p, format="doccano")[0][0].labels == (frozenset({"name_calling_labeling"}),)


def test_an_export_written_by_label_studio_itself(tmp_path):
    """tests/data/label_studio_export.json: Label Studio 1.23.2's own JSON export of our
    tasks after four annotators' actions (tests/make_label_studio_export.py)."""
    from tests.conftest import ROOT
    from tests.test_label_studio_server import TEXTS

    path = ROOT / "tests" / "data" / "label_studio_export.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    # the export names a task's predictions by id; an annotation holds the one it started from
    assert len(raw) == 4 and all(isinstance(p, int) for t in raw for p in t["predictions"])
    docs, report = read_label_studio(path)
    assert [d.text for d in docs] == TEXTS[:3]
    assert report.unannotated == 1 and report.several_annotations == 1 and report.dropped_labels == {}
    # doc0 and doc2 accepted the prediction: their spans are those of the prediction Label Studio kept
    names = {t.name: t.id for t in propdetect.TECHNIQUES}
    for doc, task in zip(docs, raw):
        if doc.id in (str(raw[0]["id"]), str(raw[2]["id"])):
            pred = {(names[r["value"]["labels"][0]], r["value"]["start"], r["value"]["end"])
                    for r in task["annotations"][0]["prediction"]["result"]}
            assert set(doc.technique_spans) == pred and pred
    a = TEXTS[1].index("We must act now")
    assert ("doubt", a, a + len("We must act now")) in docs[1].technique_spans
    assert len(docs[1].technique_spans) == 2  # the later annotation, not the earlier one
