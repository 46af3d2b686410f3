"""Property-based tests (hypothesis): offsets, splitting invariants, determinism and
round trips hold for arbitrary text, including the awkward characters of real input.

Examples are bounded and derandomised so that the suite stays fast and every run
checks the same cases.
"""

from __future__ import annotations

import json
import math
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdetect import Analysis, Detector, Sentence
from propdetect import _sentences
from propdetect._sentences import MAX_SENTENCE_CHARS, split_sentences

LINE_BREAKS = "\r\n\u2028\u2029"

# Pieces real text is made of, and the ones that break naive code: line breaks of
# every kind, NUL and controls, zero-width and bidi marks, combining marks, astral
# characters and emoji sequences, lone surrogates, exotic spaces, sentence-final
# punctuation, quotes, abbreviations and initials.
PIECES = [
    " ", "  ", "\t", "\n", "\r", "\r\n", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x00", "\x1b",
    "\x7f", "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u202e", "\u202c", "\u00a0", "\u3000",
    "\u0301", "\u0338", "\U0001f600", "\U0001f1fa\U0001f1e6", "\U0001f468\u200d\U0001f469", "\U0001d57f",
    "\ud800", "\udfff", ".", "!", "?", "\u2026", "...", "!!", "?!", ".\"", "\u201d", "\u201c", "\u00ab",
    "\u00bb", "'", "(", ")", "Mr.", "Dr.", "U.S.", "a.m.", "J.", "e.g.", "No.", "1.5", "2024.",
    "They", "are", "cruel", "traitors", "The", "council", "meets", "Our", "flag", "nation", "really",
    "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "\u4e2d\u6587", "caf\u00e9", "A", "x",
]

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=60).map("".join)

BOUNDED = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(BOUNDED, max_examples=60)


def _detector() -> Detector:
    return Detector.load()


# -- sentence splitting ----------------------------------------------------------------
def _check_split(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> None:
    spans = split_sentences(text)
    prev = 0
    for a, b in spans:
        assert prev <= a < b <= len(text)  # sorted, non-overlapping, non-empty
        sentence = text[a:b]
        assert not sentence[0].isspace() and not sentence[-1].isspace()
        assert not any(c in sentence for c in LINE_BREAKS)  # never crosses a line break
        assert len(sentence) <= max_chars
        assert not text[prev:a].strip()  # nothing but whitespace is left out ...
        prev = b
    assert not text[prev:].strip()  # ... anywhere


@BOUNDED
@given(texts)
def test_split_invariants(text):
    _check_split(text)


@settings(BOUNDED, max_examples=60)
@given(texts, st.integers(1, 40))
def test_split_invariants_with_a_small_sentence_cap(text, cap):
    """The cutting of over-long runs, exercised with a cap short enough to matter."""
    with mock.patch.object(_sentences, "MAX_SENTENCE_CHARS", cap):
        _check_split(text, cap)


@BOUNDED
@given(texts, texts)
def test_split_is_local_to_lines(first, second):
    """A line break separates: splitting two texts joined by one equals splitting each."""
    joined = first + "\n" + second
    shift = len(first) + 1
    expected = split_sentences(first) + [(a + shift, b + shift) for a, b in split_sentences(second)]
    assert split_sentences(joined) == expected


# -- detection ---------------------------------------------------------------------------
def _check_offsets(text: str, analysis: Analysis, det: Detector) -> None:
    assert [(s.start, s.end) for s in analysis.sentences] == split_sentences(text)
    for s in analysis.sentences:
        assert text[s.start : s.end] == s.text
        assert list(s.scores) == list(det.techniques)
        assert all(0.0 <= v <= 1.0 and math.isfinite(v) for v in s.scores.values())
        above = {t for t in det.techniques if s.scores[t] >= det.thresholds[t]}
        if det.propaganda_threshold is None:
            assert set(s.techniques) == above
        elif s.propaganda_score >= det.propaganda_threshold:  # flagged: all above, and at least one
            assert above <= set(s.techniques) and len(set(s.techniques) - above) <= 1 and s.techniques
        else:
            assert s.techniques == ()
        assert set(s.evidence) <= set(s.techniques)
        for spans in s.evidence.values():
            prev = s.start
            for a, b in spans:
                assert prev <= a < b <= s.end  # inside the sentence, sorted, disjoint
                assert text[a:b].strip() == text[a:b]
                prev = b


@SLOW
@given(texts)
def test_detect_offsets_and_determinism(text):
    det = _detector()
    a = det.detect(text)
    _check_offsets(text, a, det)
    assert det.detect(text) == a  # same input, same output
    assert det.detect_many([text, text]) == [a, a]


@SLOW
@given(texts)
def test_to_dict_and_json_round_trips(text):
    a = _detector().detect(text)
    d = a.to_dict()
    assert Analysis.from_dict(d) == a
    again = Analysis.from_dict(json.loads(json.dumps(d)))
    assert again == a and again.to_dict() == d
    for s in a.sentences:
        assert Sentence.from_dict(json.loads(json.dumps(s.to_dict()))) == s


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def sentences(draw):
    text = draw(st.text(min_size=1, max_size=20))
    start = draw(st.integers(0, 10_000))
    scores = draw(st.dictionaries(ids, probabilities, max_size=14))
    techniques = draw(st.lists(st.sampled_from(sorted(scores)), unique=True)) if scores else []
    evidence = {t: sorted(draw(st.lists(st.tuples(st.integers(0, 50), st.integers(51, 99)), max_size=3)))
                for t in techniques}
    return Sentence(text, start, start + len(text), tuple(techniques), scores, evidence)


@BOUNDED
@given(st.lists(sentences(), max_size=5))
def test_arbitrary_results_round_trip(sents):
    a = Analysis(tuple(sents))
    assert Analysis.from_dict(json.loads(json.dumps(a.to_dict()))) == a
    for s in sents:
        assert dict(s.scores) == s.to_dict()["scores"]
        assert list(s.scores) == list(s.to_dict()["scores"])  # order kept
