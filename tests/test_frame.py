"""Results as pandas DataFrames: one row per sentence, offsets into the input, one score column per technique."""

from __future__ import annotations

import math

import pytest

import propdetect
from propdetect import Analysis, Detector

pd = pytest.importorskip("pandas")

TEXTS = [
    "They are very cruel, they don't spare anyone.\nThe bridge reopens on Monday.",
    "",
    "Traitors and thugs! Is this so-called expert honest?",
]
BASE = ["source", "start", "end", "text", "techniques", "propaganda_score"]
TAIL = ["warnings"]  # the text's warnings


@pytest.fixture(scope="module")
def analyses() -> list[Analysis]:
    return Detector.load().detect_many(TEXTS)


def test_one_row_per_sentence_with_offsets_into_the_input(analyses):
    df = propdetect.to_frame(analyses)
    assert list(df.columns) == BASE + list(propdetect.TECHNIQUE_IDS) + TAIL
    sentences = [(i, s) for i, a in enumerate(analyses) for s in a.sentences]
    assert len(df) == len(sentences) == 4
    for row, (i, s) in zip(df.itertuples(index=False), sentences):
        assert row.source == i  # the position of the analysis, by default
        assert TEXTS[i][row.start:row.end] == row.text == s.text
        assert row.techniques == list(s.techniques)
        assert {t: getattr(row, t) for t in propdetect.TECHNIQUE_IDS} == dict(s.scores)
    assert df["start"].dtype == "int64" and df["doubt"].dtype == "float64"
    assert df["techniques"].explode().dropna().isin(propdetect.TECHNIQUE_IDS).all()
    cruel = df[df["text"].str.contains("very cruel")]
    assert len(cruel) == 1 and cruel["techniques"].iloc[0]  # the bundled model flags it


def test_sources_name_the_documents(analyses):
    df = propdetect.to_frame(analyses, sources=["a.txt", "empty.txt", "c.txt"])
    assert df["source"].tolist() == ["a.txt", "a.txt", "c.txt", "c.txt"]
    with pytest.raises(ValueError, match="sources has 2 items for 3 analyses"):
        propdetect.to_frame(analyses, sources=["a", "b"])
    with pytest.raises(TypeError, match="item 1 is str"):
        propdetect.to_frame([analyses[0], "text"])


def test_analysis_to_frame_is_to_frame_of_one(analyses):
    a = analyses[2]
    pd.testing.assert_frame_equal(a.to_frame(), propdetect.to_frame([a]))
    pd.testing.assert_frame_equal(a.to_frame("c"), propdetect.to_frame(a, sources=["c"]))
    # a generator works as well as a list
    pd.testing.assert_frame_equal(propdetect.to_frame(iter(analyses)), propdetect.to_frame(analyses))


def test_no_sentence_gives_an_empty_frame_with_the_usual_columns():
    df = propdetect.to_frame([Analysis(), Analysis()])
    assert len(df) == 0 and list(df.columns) == BASE + list(propdetect.TECHNIQUE_IDS) + TAIL
    assert df["start"].dtype == "int64"


def test_score_columns_follow_the_model(tiny_detector):
    tiny = tiny_detector.detect("Traitors and thugs!")
    df = propdetect.to_frame([tiny])
    assert list(df.columns) == BASE + list(tiny_detector.techniques) + TAIL
    assert "repetition" not in df.columns  # left out of the tiny model: no column, not a column of NaN
    # analyses of two models side by side: the union of their techniques, NaN where one has none
    both = propdetect.to_frame([tiny, propdetect.detect("Traitors and thugs!")])
    assert math.isnan(both.loc[0, "repetition"]) and not math.isnan(both.loc[1, "repetition"])


def test_frame_feeds_back_into_the_readers(analyses):
    # text and techniques are the columns load_documents and train read
    docs, report = propdetect.load_documents(propdetect.to_frame(analyses))
    assert report.sentences == 4
    assert [d.labels[0] for d in docs] == [frozenset(s.techniques) for a in analyses for s in a.sentences]
