"""Bad input types, awkward text, long and hostile documents: a clear error or exact
offsets, never a crash, a lost character or a quadratic step."""

from __future__ import annotations

import gc
import json
import pickle
import random
import string
import subprocess
import sys
import time
import tracemalloc

import pytest

import propdetect
from propdetect import Analysis, Detector, Sentence
from propdetect import _detector
from propdetect._features import doc_stats
from propdetect._tokens import tokenize
from propdetect._sentences import MAX_SENTENCE_CHARS, split_sentences

LINE_BREAKS = "\r\n\u2028\u2029"


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector.load()


def synthetic_text(n_chars: int, seed: int = 0, newline: float = 0.3) -> str:
    """Deterministic news-like text: capitalised sentences of invented words, one to
    a few to a line (a line break after a sentence with probability ``newline``),
    with the punctuation, quotes and abbreviations the splitter looks at."""
    rng = random.Random(seed)
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    words += ["Mr.", "U.S.", "traitors", "evil", "our", "nation", "flag", "really", "\u201cterrible\u201d"]
    parts: list[str] = []
    size = 0
    while size < n_chars:
        s = " ".join(rng.choice(words) for _ in range(rng.randint(4, 25))).capitalize()
        s += rng.choice([".", ".", ".", "!", "?", "...", "!!"])
        s += "\n" if rng.random() < newline else " "
        parts.append(s)
        size += len(s)
    return "".join(parts)[:n_chars]


def assert_exact(text: str, analysis: Analysis) -> None:
    """Offsets index the input; sentences are ordered, disjoint, trimmed, within one
    line; evidence lies inside its sentence; nothing but whitespace is left out."""
    covered = 0
    prev_end = 0
    for s in analysis.sentences:
        assert text[s.start : s.end] == s.text
        assert prev_end <= s.start < s.end <= len(text)
        assert not s.text[0].isspace() and not s.text[-1].isspace()
        assert not any(c in s.text for c in LINE_BREAKS)
        assert len(s.text) <= MAX_SENTENCE_CHARS
        assert text[prev_end : s.start].isspace() or prev_end == s.start
        for tech, spans in s.evidence.items():
            assert tech in s.techniques
            for a, b in spans:
                assert s.start <= a < b <= s.end
        prev_end = s.end
        covered += 1
    assert not text[prev_end:].strip()


# -- input types -----------------------------------------------------------------------
@pytest.mark.parametrize("bad,needle", [
    (None, "NoneType"), (b"They are cruel.", "decode"), (bytearray(b"x"), "decode"), (42, "int"),
    (["They are cruel."], "list"), (3.5, "float"),
])
@pytest.mark.parametrize("call", ["module", "method"])
def test_detect_refuses_non_str(det, bad, needle, call):
    fn = propdetect.detect if call == "module" else det.detect
    with pytest.raises(TypeError, match=needle) as info:
        fn(bad)
    assert "str" in str(info.value)


@pytest.mark.parametrize("bad", ["a string", b"bytes"])
def test_detect_many_refuses_a_single_text(det, bad):
    with pytest.raises(TypeError, match="iterable of texts"):
        det.detect_many(bad)


def test_detect_many_refuses_non_str_items(det):
    with pytest.raises(TypeError, match="str"):
        det.detect_many(["fine.", None])


def test_str_subclass_is_accepted(det):
    class Text(str):
        pass

    text = Text("They are cruel.\nAnother line.")
    assert [s.text for s in det.detect(text).sentences] == ["They are cruel.", "Another line."]


@pytest.mark.parametrize("blank", ["", " ", "\n", "\r\n\r\n", "\t \u00a0\u3000", "\u2028\u2029", "\x0b\x0c\x1c\x85"])
def test_blank_text_gives_an_empty_analysis(det, blank):
    a = det.detect(blank)
    assert a == Analysis(()) and a.sentences == () and a.flagged == ()
    assert a.to_dict() == {"sentences": [], "warnings": []} and a.technique_counts() == {}


# -- awkward text -------------------------------------------------------------------------
AWKWARD = {
    "crlf": "They are cruel traitors.\r\nThe council meets on Tuesday.\r\n",
    "lone_cr": "They are cruel traitors.\rThe council meets on Tuesday.\rEnd",
    "mixed_breaks": "One.\n\rTwo.\r\n\nThree.\u2028Four.\u2029Five.",
    "nul_and_controls": "They\x00 are\x01 cruel\x7f traitors!\x1b[31m The council\x08 meets.\x00",
    "zero_width": "\u200bThey\u200c are\u200d cruel\ufeff traitors. \u2060The council meets.\u200b",
    "rtl": "\u05d4\u05dd \u05d1\u05d5\u05d2\u05d3\u05d9\u05dd. \u0647\u0630\u0627 \u0646\u0635 \u0639\u0631\u0628\u064a. "
           "\u202eThey are cruel traitors.\u202c Done.",
    "emoji_astral": "\U0001f600 They are cruel \U0001f1fa\U0001f1e6 traitors! \U0001d57f\U0001d58d\U0001d58a end. "
                    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family. \U00010348 gothic.",
    "combining": "Cafe\u0301 owners are cruel. Z\u0337\u0322a\u0338l\u0334g\u0335o\u0336 is here! "
                 "\u0301 starts with a mark.",
    "lone_surrogate": "They are \ud800 cruel. And \udfff this.",
    "nbsp_and_wide_spaces": "\u00a0They are cruel.\u3000\u2003The council meets.\u00a0",
    "tabs_and_vt": "\tThey are cruel.\x0bThe council\x0cmeets.\t",
    "quotes_everywhere": "\u201cThey are cruel!\u201d he said. \u00abTraitors.\u00bb \"Yes.\" 'No.'",
    "abbreviations": "Mr. Smith met Dr. Jones at 10 a.m. in the U.S. on Jan. 5. They left.",
    "only_punctuation": ".!?\u2026 ... !!! ??? \u2026\u2026",
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_text_keeps_exact_offsets(det, name):
    text = AWKWARD[name]
    a = det.detect(text)
    assert a.sentences
    assert_exact(text, a)
    json.loads(json.dumps(a.to_dict()))  # serialisable, whatever the characters


def test_crlf_and_lone_cr_are_line_breaks(det):
    for text in (AWKWARD["crlf"], AWKWARD["lone_cr"]):
        assert [s.text for s in det.detect(text).sentences][:2] == [
            "They are cruel traitors.", "The council meets on Tuesday."]


def test_zero_width_characters_are_kept_inside_sentences(det):
    text = AWKWARD["zero_width"]
    joined = "".join(s.text for s in det.detect(text).sentences)
    assert joined.count("\u200b") == 2 and "\ufeff" in joined


HOSTILE = {
    "no_punctuation": lambda n: ("word " * (n // 5)).strip(),
    "one_long_token": lambda n: "a" * n,
    "dots": lambda n: "." * n,
    "bangs": lambda n: "!" * n,
    "dot_space_capital": lambda n: ". A" * (n // 3),
    "initials": lambda n: "J. " * (n // 3),
    "quotes_and_dots": lambda n: '." "' * (n // 4),
    "ellipses": lambda n: "\u2026 X" * (n // 3),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_100k_character_hostile_line(det, name):
    text = HOSTILE[name](100_000)
    t = time.process_time()
    a = det.detect(text)
    assert time.process_time() - t < 10  # the slowest shape takes ~1 s on a laptop core
    assert_exact(text, a)


def _cpu(fn, *args) -> float:
    best = float("inf")
    for _ in range(2):
        t = time.process_time()
        fn(*args)
        best = min(best, time.process_time() - t)
    return best


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_splitting_hostile_lines_is_linear(name):
    small, large = HOSTILE[name](20_000), HOSTILE[name](200_000)
    t_small, t_large = _cpu(split_sentences, small), _cpu(split_sentences, large)
    # 10x the text: ~10x the time when linear, ~100x when quadratic. The floor
    # keeps timer noise on tiny durations from failing the test.
    assert t_large < 25 * max(t_small, 0.005), (t_small, t_large)


def test_detect_is_linear_in_document_size(det):
    small, large = synthetic_text(30_000, newline=0.7), synthetic_text(300_000, newline=0.7)
    det.detect(small)
    t_small = _cpu(det.detect, small)
    t = time.process_time()
    a = det.detect(large)
    t_large = time.process_time() - t
    assert len(a.sentences) > _detector._CHUNK  # the long-document path is exercised
    assert t_large < 25 * t_small, (t_small, t_large)


def test_many_short_lines(det):
    text = "a\r" * 5_000
    a = det.detect(text)
    assert len(a.sentences) == 5_000
    assert_exact(text, a)


# -- long documents ----------------------------------------------------------------------
def test_long_document_scores_match_unblocked_scoring(det, monkeypatch):
    text = synthetic_text(220_000, seed=1, newline=1.0)
    blocked = det.detect(text)
    assert len(blocked.sentences) > _detector._CHUNK
    monkeypatch.setattr(_detector, "_CHUNK", 10**9)
    whole = det.detect(text)
    assert blocked == whole


def test_chunked_document_counts_equal_whole_document_counts():
    text = synthetic_text(450_000, seed=2, newline=1.0)
    sents = [text[a:b] for a, b in split_sentences(text)]
    assert len(sents) > 2 * _detector._CHUNK
    whole = doc_stats([tokenize(s) for s in sents])
    chunked = _detector._doc_stats_chunked(sents)
    assert chunked.n_sentences == whole.n_sentences
    assert chunked.word_df == whole.word_df and chunked.bigram_df == whole.bigram_df


def test_results_memory_per_sentence(det):
    """Each sentence's scores are a view of a shared row, not a dict of 14 floats:
    what propdetect allocates for the results stays within a few hundred bytes per
    sentence beyond the text itself (measured 624 bytes with 0.68 evidence entries a
    sentence, including pysbd's and the re module's caches; with a dict of scores
    per sentence it was 1,340)."""
    text = synthetic_text(50_000, seed=3)
    det.detect(text)  # warm caches (inverse vocabulary, regexes)
    tracemalloc.start()
    try:
        a = det.detect(text)
        gc.collect()  # count what the results keep, not garbage awaiting the cycle collector
        snap = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Leave out caches that do not grow with the text: NumPy's small-buffer cache
    # and the compiled regexes pysbd adds to the re module's cache.
    ours = snap.filter_traces([tracemalloc.Filter(False, "*/numpy/*"), tracemalloc.Filter(False, "*/re/*"),
                               tracemalloc.Filter(False, "<frozen *>"), tracemalloc.Filter(False, __file__)])
    allocated = sum(st.size for st in ours.statistics("filename"))
    n = len(a.sentences)
    text_bytes = sum(sys.getsizeof(s.text) for s in a.sentences)
    evidence = sum(len(s.evidence) for s in a.sentences) / n
    per_sentence = (allocated - text_bytes) / n
    assert per_sentence < 500 + 400 * evidence, (per_sentence, evidence)


# Growth of peak RSS (MB) while detect() runs on the file argv[1], in a fresh process.
_RSS_CODE = (
    "import resource, sys, propdetect\n"
    "det = propdetect.Detector.load(); det.detect('They are cruel traitors!')\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "a = det.detect(text)\n"
    "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(len(a.sentences), (peak - base) / 1024)\n"
)


def test_peak_memory_of_a_long_document_is_bounded(tmp_path):
    """Peak RSS of detect() on a 1 MB document, measured in a fresh process."""
    doc = tmp_path / "doc.txt"
    doc.write_text(synthetic_text(1_000_000, seed=4, newline=1.0), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _RSS_CODE, str(doc)], capture_output=True, text=True,
                         check=True, timeout=300)
    n, grown_mb = out.stdout.split()
    # ~10k sentences: measured growth 33 MB (results, the document's counts and
    # one block's working set). A dense feature matrix or per-sentence copies of
    # the model's columns would take gigabytes.
    assert int(n) > 8_000
    assert float(grown_mb) < 100, grown_mb


def test_runs_without_sentence_end_are_cut_at_whitespace(det):
    text = ("word " * 50_000).strip()  # 250,000 characters, no punctuation
    a = det.detect(text)
    assert [len(s.text) for s in a.sentences] == [99_999, 99_999, 49_999]
    assert all(s.text.startswith("word") and s.text.endswith("word") for s in a.sentences)
    assert_exact(text, a)
    blob = "x" * 250_001  # no whitespace either: hard cuts
    assert [b - a for a, b in split_sentences(blob)] == [100_000, 100_000, 50_001]


def test_peak_memory_of_one_huge_unpunctuated_line(tmp_path):
    """1 MB of words with no sentence end on one line: capped sentences keep the
    working set small (measured 28 MB; scored as one sentence it took 89 MB)."""
    doc = tmp_path / "blob.txt"
    words = synthetic_text(1_000_000, seed=5)
    doc.write_text("".join(" " if c in ".!?\n" else c for c in words), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _RSS_CODE, str(doc)], capture_output=True, text=True,
                         check=True, timeout=300)
    n, grown_mb = out.stdout.split()
    assert int(n) >= 10
    assert float(grown_mb) < 60, grown_mb


# -- the result types --------------------------------------------------------------------
def test_scores_mapping_contract(det):
    a = det.detect("They are cruel traitors!\nThe council meets on Tuesday.")
    s = a.sentences[0]
    assert list(s.scores) == list(det.techniques) and len(s.scores) == len(det.techniques)
    plain = dict(s.scores)
    assert all(type(v) is float for v in plain.values())
    assert s.scores == plain and plain == s.scores and s.scores != {}
    assert s.to_dict()["scores"] == plain
    assert "doubt" in s.scores and "nope" not in s.scores
    with pytest.raises(KeyError):
        s.scores["nope"]
    with pytest.raises(TypeError):
        s.scores["doubt"] = 1.0  # type: ignore[index]
    with pytest.raises(ValueError):
        s.scores._block[0, 0] = 2.0  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        s.text = "x"  # type: ignore[misc]
    assert a.sentences[1].scores["doubt"] == dict(a.sentences[1].scores)["doubt"]
    assert repr(s.scores) == repr(plain)


def test_sentence_from_plain_values_equals_detected(det):
    s = det.detect("They are cruel traitors!").sentences[0]
    again = Sentence(s.text, s.start, s.end, s.techniques, dict(s.scores),
                     {k: [list(x) for x in v] for k, v in s.evidence.items()}, s.propaganda_score)
    assert again == s and Sentence.from_dict(s.to_dict()) == s


def test_evidence_mapping_contract(det):
    s = det.detect("They are cruel traitors and evil thugs!").sentences[0]
    assert s.techniques and list(s.evidence) == [t for t in s.techniques if t in s.evidence]
    plain = {k: v for k, v in s.evidence.items()}
    assert all(isinstance(v, tuple) and all(type(x) is tuple and len(x) == 2 for x in v)
               for v in plain.values())
    assert s.evidence == plain and plain == dict(s.evidence)
    assert "nope" not in s.evidence and s.evidence.get("nope") is None
    with pytest.raises(KeyError):
        s.evidence["nope"]
    with pytest.raises(TypeError):
        s.evidence["doubt"] = ()  # type: ignore[index]
    assert repr(s.evidence) == repr(plain)
    news = det.detect("The council meets on Tuesday at the town hall.\nThe report was published in March.")
    for other in news.sentences:
        if not other.techniques:
            assert other.evidence == {} and len(other.evidence) == 0


def test_results_pickle(det):
    a = det.detect("They are cruel traitors!\nThe council meets on Tuesday.")
    b = pickle.loads(pickle.dumps(a))
    assert b == a and b.to_dict() == a.to_dict()
    # one sentence pickles its own row, not the block it was scored in
    assert len(pickle.dumps(a.sentences[1])) < 2000
