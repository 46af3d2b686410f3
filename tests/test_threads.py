"""One Detector shared by many threads gives what it gives one thread (issue 21).

A web service calls one detector from many threads at once. Anything shared and
mutable on the detect path (the sentence splitter, the featuriser's caches, the token
table, the encoder's session and tokeniser) must give each call the result it gives
alone. The switch interval is cut to a microsecond so that the threads interleave
inside every call, not once per 5 ms.
"""

from __future__ import annotations

import random
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from propdetect import Detector
from propdetect._sentences import split_sentences

THREADS = 16
ROUNDS = 4


def _lines(n: int, seed: int = 21) -> list[str]:
    """Lines of several sentences each, of many lengths, that go to pysbd (each has
    a real sentence boundary inside it, and abbreviations the cheap scan leaves to it)."""
    rng = random.Random(seed)
    words = ("the council said Dr. Brown and Mrs. Green would meet in Washington on Monday to talk "
             "about the bridge the report and the budget while U.S. officials waited").split()
    out = []
    for _ in range(n):
        sents = []
        for _ in range(rng.randint(2, 9)):
            body = " ".join(rng.choice(words) for _ in range(rng.randint(3, 30)))
            sents.append(body[0].upper() + body[1:] + rng.choice(".!?"))
        out.append(" ".join(sents))
    return out


@pytest.fixture
def fine_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _shared_by_threads(fn, items, rounds=ROUNDS, threads=THREADS):
    with ThreadPoolExecutor(threads) as ex:
        return list(ex.map(fn, list(items) * rounds))


def test_the_sentence_splitter_is_safe_to_share(fine_switching):
    """pysbd's Segmenter keeps the line it works on in the instance; one shared by
    threads gave lines each other's sentence ends (a sentence too few or too many)."""
    lines = _lines(150)
    serial = [split_sentences(t) for t in lines]
    assert sum(len(s) for s in serial) > 2 * len(lines)  # the lines really are split
    got = _shared_by_threads(split_sentences, lines)
    wrong = [i for i, spans in enumerate(got) if spans != serial[i % len(lines)]]
    assert not wrong, f"{len(wrong)} of {len(got)} lines split differently under {THREADS} threads"


def _articles() -> list[str]:
    """News-like articles (one or more sentences a line), many of whose lines need pysbd."""
    lines = _lines(240, seed=7)
    return ["\n".join(lines[i : i + 12]) for i in range(0, len(lines), 12)]


@pytest.mark.parametrize("model", ["fast", "accurate"])
def test_one_detector_shared_by_many_threads_gives_the_serial_results(model, fine_switching):
    det = Detector.load(model)
    texts = _articles() if model == "fast" else _articles()[:6]  # the encoder costs 20x
    serial = [det.detect(t).to_dict() for t in texts]
    got = _shared_by_threads(lambda t: det.detect(t).to_dict(), texts)
    wrong = [i % len(texts) for i, r in enumerate(got) if r != serial[i % len(texts)]]
    assert not wrong, f"{len(wrong)} of {len(got)} results differ from one thread's (texts {sorted(set(wrong))})"


def test_ptc_dev_articles_under_threads(fine_switching):
    """The issue's own case: 16 threads over the 75 PTC dev articles."""
    from tests.conftest import shared_data

    folder = shared_data("ptc", "dev-articles")
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("article*.txt"))]
    det = Detector.load()
    serial = [det.detect(t).to_dict() for t in texts]
    got = _shared_by_threads(lambda t: det.detect(t).to_dict(), texts, rounds=4)
    wrong = sorted({i % len(texts) for i, r in enumerate(got) if r != serial[i % len(texts)]})
    assert not wrong, f"articles {wrong} differ from one thread's results"
