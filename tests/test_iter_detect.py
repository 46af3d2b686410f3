"""Detector.iter_detect: the lazy detect_many, for inputs that do not fit in memory."""

from __future__ import annotations

import itertools

import pytest

TEXTS = ["These traitors and thugs are destroying our great nation!\nThe council meets on Tuesday.",
         "", "Is this so-called expert really telling the truth?"]


def _counted(texts, seen: list[int]):
    for i, t in enumerate(texts):
        seen.append(i)
        yield t


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_same_results_as_detect_in_order(tiny_detector, n_jobs):
    got = list(tiny_detector.iter_detect(iter(TEXTS * 3), n_jobs=n_jobs, batch_size=2))
    assert [a.to_dict() for a in got] == [tiny_detector.detect(t).to_dict() for t in TEXTS * 3]


def test_reads_the_input_lazily(tiny_detector):
    seen: list[int] = []
    endless = _counted(itertools.cycle(TEXTS), seen)
    analyses = tiny_detector.iter_detect(endless)
    assert seen == []  # nothing read before the first result is asked for
    first = list(itertools.islice(analyses, 4))
    assert len(first) == 4 and len(seen) == 4
    assert first[3].to_dict() == tiny_detector.detect(TEXTS[0]).to_dict()


def test_refuses_one_string_at_once_and_non_text_when_reached(tiny_detector):
    with pytest.raises(TypeError, match="for one text use detect"):
        tiny_detector.iter_detect("one text")
    analyses = tiny_detector.iter_detect(["fine", b"bytes"])
    assert len(next(analyses).sentences) == 1
    with pytest.raises(TypeError, match=r"iter_detect\(\): item 1 is bytes, not str: decode it"):
        next(analyses)
