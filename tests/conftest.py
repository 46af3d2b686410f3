"""Shared fixtures: paths to the corpora (skip when absent) and a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from propdetect._config import TrainingConfig
from propdetect._corpus import LabelledDocument

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"corpus not available: {p} (tests that need the corpora run where ../shared/data exists)")
    return p


# Hand-written fixture: each document mixes propaganda sentences with neutral ones.
_DOCS = [
    [
        ("These traitors and thugs are destroying our great nation!", {"loaded_language", "name_calling_labeling"}),
        ("The council meets on Tuesday at the town hall.", set()),
        ("Patriots must stand up for our flag and our country.", {"flag_waving"}),
        ("The report was published in March.", set()),
    ],
    [
        ("Is this so-called expert really telling the truth?", {"doubt"}),
        ("The bridge will be closed for repairs next week.", set()),
        ("Corrupt thugs and criminals run this disgusting regime.", {"loaded_language", "name_calling_labeling"}),
        ("Rainfall was slightly above average this year.", set()),
    ],
    [
        ("Can we really trust what these so-called experts claim?", {"doubt"}),
        ("Our proud nation and our flag will never bow.", {"flag_waving"}),
        ("The museum opens at nine in the morning.", set()),
        ("Shocking, horrific and evil crimes by these monsters.", {"loaded_language"}),
    ],
    [
        ("The train timetable changes in December.", set()),
        ("Vicious traitors and liars spread their evil lies.", {"loaded_language", "name_calling_labeling"}),
        ("Why should anyone believe this doubtful claim?", {"doubt"}),
        ("The library added two new reading rooms.", set()),
    ],
    [
        ("Stand with our country, our flag and our patriots.", {"flag_waving"}),
        ("The committee will publish its minutes online.", set()),
        ("Horrific evil thugs are destroying everything.", {"loaded_language", "name_calling_labeling"}),
        ("Questions remain over whether the claim is really true?", {"doubt"}),
    ],
    [
        ("The school term starts in September.", set()),
        ("Disgusting, shocking lies from corrupt criminals.", {"loaded_language", "name_calling_labeling"}),
        ("Our great nation and our flag come first.", {"flag_waving"}),
        ("Is the expert really honest about the claim?", {"doubt"}),
    ],
]


def make_document(doc_id: str, sentences: list[tuple[str, set[str]]]) -> LabelledDocument:
    """One sentence per line, labels per line."""
    text = "\n".join(s for s, _ in sentences) + "\n"
    spans, pos = [], 0
    for s, _ in sentences:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    return LabelledDocument(doc_id, text, tuple(spans), tuple(frozenset(l) for _, l in sentences))


@pytest.fixture(scope="session")
def tiny_docs() -> list[LabelledDocument]:
    return [make_document(f"doc{i}", d) for i, d in enumerate(_DOCS)]


TINY_CONFIG = TrainingConfig(min_df=1, cv_folds=3, C_grid=(4.0,))


@pytest.fixture(scope="session")
def tiny_detector(tiny_docs):
    """A model trained in a fixture, independent of the bundled one."""
    from propdetect._train import fit_detector

    return fit_detector(tiny_docs, TINY_CONFIG, name="tiny")


TINY_ENCODER = Path(__file__).resolve().parent / "data" / "tiny_encoder"


@pytest.fixture(scope="session")
def tiny_accurate(tiny_docs, tiny_detector):
    """An accurate model made in a fixture: the tiny linear model and the tiny encoder
    of tests/data/tiny_encoder (tests/make_tiny_encoder.py), the combination chosen
    by the real training code (no torch needed)."""
    from propdetect._accurate_train import fit_accurate

    return fit_accurate(tiny_docs, None, linear_config=TINY_CONFIG, encoder_folder=TINY_ENCODER,
                        final_linear=tiny_detector, name="tiny-accurate")


@pytest.fixture
def force_workers(monkeypatch):
    """Send every input to worker processes, however small."""
    from propdetect import _pool

    monkeypatch.setattr(_pool, "COLD_CHARS", 0)
    monkeypatch.setattr(_pool, "WARM_CHARS", 0)
    monkeypatch.setattr(_pool, "FORK_CHARS", 0)
    monkeypatch.setattr(_pool, "OVERLAP_CHARS", 0)
