"""propdetect.suggest and `propdetect suggest`: uncertainty ranking, spread, records."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import propdetect
from propdetect._suggest import PROPAGANDA, uncertainty
from propdetect.cli import main

from .conftest import shared_data

TEXTS = {
    "a1": "The council met on Tuesday. These corrupt traitors will destroy us all! "
          "Is this really what the so-called experts want?",
    "a2": "Rain is expected tomorrow. Our great nation will never surrender to these thugs. "
          "The library opens at nine.",
    "a3": "Vicious liars spread their evil lies every day. The bridge reopens on Monday.",
}


def _all_uncertainties(det, analyses):
    """Per sentence, its most uncertain decision's uncertainty, computed here independently."""
    out = []
    for a in analyses:
        for s in a.sentences:
            u = [float(uncertainty(s.scores[t], det.thresholds[t])) for t in det.techniques]
            if det.propaganda_threshold is not None:
                u.append(float(uncertainty(s.propaganda_score, det.propaganda_threshold)))
            out.append(max(u))
    return out


def test_uncertainty_is_one_at_the_threshold_and_falls_either_side():
    u = uncertainty(np.array([0.0, 0.1, 0.3, 0.5, 0.9, 1.0]), 0.3)
    assert u[2] == 1.0 and u[0] == 0.0 and u[-1] == 0.0
    assert u[1] < u[2] > u[3] > u[4]


def test_suggestions_point_into_their_documents_best_first():
    picks = propdetect.suggest(TEXTS, n=4)
    assert [p.rank for p in picks] == [1, 2, 3, 4]
    for p in picks:
        assert TEXTS[p.doc_id][p.start:p.end] == p.text
        assert p.sentence is not None and p.sentence.text == p.text
        assert 0.0 <= p.priority <= p.uncertainty <= 1.0
    assert [p.priority for p in picks] == sorted((p.priority for p in picks), reverse=True)


def test_the_first_suggestion_is_the_most_uncertain_sentence():
    det = propdetect.Detector.load()
    analyses = det.detect_many(list(TEXTS.values()))
    first = propdetect.suggest(TEXTS, n=1, model=det)[0]
    assert first.uncertainty == pytest.approx(max(_all_uncertainties(det, analyses)))
    # and its "why" names a decision whose probability and threshold give that uncertainty
    assert float(uncertainty(first.probability, first.threshold)) == pytest.approx(first.uncertainty)
    expected = (det.propaganda_threshold if first.decision == PROPAGANDA
                else det.thresholds[first.decision])
    assert first.threshold == pytest.approx(expected)


def test_thresholds_move_the_ranking():
    det = propdetect.Detector.load()
    s = det.detect(TEXTS["a2"]).sentences[1]  # "Our great nation ..."
    # Put every threshold far from this sentence's scores except flag_waving's, set at its score.
    moved = det.with_thresholds(0.999).with_thresholds({"flag_waving": s.scores["flag_waving"]})
    first = propdetect.suggest(TEXTS, n=1, model=moved)[0]
    assert (first.doc_id, first.start, first.decision) == ("a2", s.start, "flag_waving")
    assert first.uncertainty == pytest.approx(1.0)


def test_n_caps_and_every_sentence_at_most_once():
    picks = propdetect.suggest(TEXTS, n=1000)
    n_sentences = sum(len(propdetect.detect(t).sentences) for t in TEXTS.values())
    keys = [(p.doc_id, p.start) for p in picks]
    assert len(keys) == len(set(keys)) == n_sentences


def test_near_copies_are_left_out():
    same = "These corrupt traitors will destroy us all!"
    texts = [f"Report {i}. {same}" if i % 2 else f"{same} Weather {i}." for i in range(6)]
    picks = propdetect.suggest(texts, n=20)
    assert sum(p.text == same for p in picks) == 1
    assert len(picks) == 7  # the six "Report i." / "Weather i." sentences and one copy of the slogan


def test_skip_leaves_out_labelled_sentences():
    first = propdetect.suggest(TEXTS, n=2)
    again = propdetect.suggest(TEXTS, n=2, skip=[(p.doc_id, p.start, p.end) for p in first])
    assert not {(p.doc_id, p.start) for p in first} & {(p.doc_id, p.start) for p in again}


def test_strings_get_index_ids_or_the_ids_given():
    texts = list(TEXTS.values())
    assert {p.doc_id for p in propdetect.suggest(texts, n=8)} <= {"0", "1", "2"}
    assert {p.doc_id for p in propdetect.suggest(texts, n=8, ids=["x", "y", "z"])} <= {"x", "y", "z"}


def test_labelled_documents_keep_their_sentences(tiny_docs, tiny_detector):
    picks = propdetect.suggest(tiny_docs, n=5, model=tiny_detector)
    spans = {(d.id, a, b) for d in tiny_docs for a, b in d.spans}
    assert len(picks) == 5 and all((p.doc_id, p.start, p.end) in spans for p in picks)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="not one str"):
        propdetect.suggest("One text.", n=1)
    with pytest.raises(ValueError, match="positive"):
        propdetect.suggest(["One text."], n=0)
    with pytest.raises(ValueError, match="2 ids for 1 texts"):
        propdetect.suggest(["One text."], n=1, ids=["a", "b"])
    with pytest.raises(TypeError, match="item 1"):
        propdetect.suggest(["One text.", b"bytes"], n=1)
    assert propdetect.suggest(["", "   "], n=3) == []


def test_to_dict_is_an_analyze_sentence_with_why():
    p = propdetect.suggest(TEXTS, n=1)[0]
    d = json.loads(json.dumps(p.to_dict()))
    assert {"doc_id", "rank", "start", "end", "text", "techniques", "scores", "evidence", "propaganda_score",
            "priority", "why"} <= set(d)
    assert d["why"]["decision"] == p.decision and d["why"]["reason"] == p.reason
    assert d["scores"] == p.sentence.scores
    for spans in d["evidence"].values():  # evidence offsets index the document, inside the sentence
        assert all(p.start <= a < b <= p.end for a, b in spans)


def test_spread_over_documents_and_techniques_on_ptc_dev():
    """Without the spread, the 50 most uncertain sentences of PTC-2020 dev crowd into
    fewer articles and decisions than the 50 suggestions."""
    from propdetect._corpus import read_ptc

    ptc = shared_data("ptc")
    docs, _ = read_ptc(ptc / "dev-articles", ptc / "dev-task-flc-tc.labels")
    det = propdetect.Detector.load()
    picks = propdetect.suggest(docs, n=50, model=det)
    by_doc = Counter(p.doc_id for p in picks)
    by_decision = Counter(p.decision for p in picks)
    # the same ranking without the spread: raw uncertainty, top 50
    analyses = [propdetect.Analysis(tuple(det._sentences(d.text, list(d.spans)))) for d in docs]
    u = _all_uncertainties(det, analyses)
    owners = [d.id for d, a in zip(docs, analyses) for _ in a.sentences]
    raw_top = np.argsort(-np.array(u), kind="stable")[:50]
    raw_docs = Counter(owners[i] for i in raw_top)
    assert len(by_doc) > len(raw_docs)
    assert max(by_doc.values()) <= 2 < max(raw_docs.values())
    assert len(by_decision) >= 12  # of the 14 techniques and the propaganda flag


# -- command line ---------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in TEXTS.items():
        (d / f"{name}.txt").write_text(text, encoding="utf-8")
    return d


def test_cli_writes_json_lines_best_first(folder, tmp_path, capsys):
    out = tmp_path / "next.jsonl"
    assert main(["suggest", str(folder), "--n", "3", "-o", str(out)]) == 0
    assert "3 suggestions from 3 documents" in capsys.readouterr().err
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["rank"] for r in recs] == [1, 2, 3]
    for r in recs:
        text = (folder / f"{r['doc_id'].rsplit('/', 1)[-1]}").read_text(encoding="utf-8")
        assert text[r["start"]:r["end"]] == r["text"] and r["source"] == r["doc_id"]
        assert r["model"] == "ptc2020" and r["why"]["reason"]
    # --skip: the next batch leaves out what was suggested
    out2 = tmp_path / "next2.jsonl"
    assert main(["suggest", str(folder), "--n", "3", "--skip", str(out), "-o", str(out2)]) == 0
    again = [json.loads(line) for line in out2.read_text(encoding="utf-8").splitlines()]
    assert not {(r["doc_id"], r["start"]) for r in recs} & {(r["doc_id"], r["start"]) for r in again}


def test_cli_jsonl_ids_and_errors(tmp_path, capsys):
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps({"id": k, "text": v}) for k, v in TEXTS.items()) + "\nnot json\n",
                    encoding="utf-8")
    out = tmp_path / "next.jsonl"
    assert main(["suggest", str(data), "--n", "2", "-o", str(out)]) == 1  # one line was not JSON
    assert "invalid JSON" in capsys.readouterr().err
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["doc_id"] for r in recs} <= set(TEXTS) and all(r["line"] in (1, 2, 3) for r in recs)

    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps({"id": 1, "text": "A."}) + "\n" + json.dumps({"id": 1, "text": "B."}) + "\n")
    assert main(["suggest", str(dup)]) == 2
    assert "'1' is given to more than one document" in capsys.readouterr().err

    bad = tmp_path / "skip.jsonl"
    bad.write_text('{"doc_id": "a1"}\n')
    assert main(["suggest", str(data), "--skip", str(bad)]) == 2
    assert "skip.jsonl:1: not a record with doc_id, start and end" in capsys.readouterr().err
    assert main(["suggest", str(data), "--n", "0"]) == 2
