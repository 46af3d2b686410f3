"""The benchmark corpus: PTC-2020 dev articles, or a synthetic stand-in when the corpus is absent.

The corpora carry no licence to redistribute, so a clean clone without ``../shared``
still runs the whole suite on generated news-like articles; the report then says
``synthetic`` and its figures are not comparable with the PTC ones.

Where the data is looked for:

* ``$PROPDETECT_SHARED_DATA`` if set, else ``../shared/data`` beside the checkout
  (as in ``tests/conftest.py``);
* ``PROPDETECT_BENCH_SYNTHETIC=1`` forces the synthetic corpus (to check the fallback).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from propdetect._corpus import LabelledDocument, read_ptc
from propdetect._sentences import iter_lines

__all__ = ["BenchCorpus", "load_corpus", "synthetic_documents", "ptc_dir"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchCorpus:
    """What every benchmark runs on.

    Attributes
    ----------
    name : str
        Human-readable description, copied into the report.
    texts : list of str
        Whole articles, as ``detect`` sees them.
    sentences : list of list of str
        The same articles pre-split into their gold sentences (non-empty lines),
        as the peer's ``predict`` sees them.
    train_docs : list of LabelledDocument
        Training data for the peer and for the training benchmark.
    train_name : str
        Human-readable description of ``train_docs``.
    """

    name: str
    texts: list[str]
    sentences: list[list[str]]
    train_docs: list[LabelledDocument]
    train_name: str

    @property
    def n_sentences(self) -> int:
        """Gold sentences (non-empty lines) over all articles: the unit of every rate."""
        return sum(len(s) for s in self.sentences)

    @property
    def flat_sentences(self) -> list[str]:
        """All gold sentences, in article order."""
        return [s for doc in self.sentences for s in doc]


def ptc_dir() -> Path | None:
    """The PTC-2020 folder, or ``None`` when it is absent or the synthetic corpus is forced."""
    if os.environ.get("PROPDETECT_BENCH_SYNTHETIC", "") not in ("", "0"):
        return None
    base = Path(os.environ.get("PROPDETECT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    ptc = base / "ptc"
    needed = ["dev-articles", "dev-task-flc-tc.labels", "train-articles", "train-task-flc-tc.labels"]
    return ptc if all((ptc / n).exists() for n in needed) else None


# -- synthetic fallback -------------------------------------------------------------
_SUBJECTS = ["The council", "The minister", "A spokesman", "The committee", "Local officials",
             "The agency", "Residents", "The company", "Investigators", "The mayor"]
_VERBS = ["announced", "reviewed", "discussed", "published", "postponed", "approved",
          "questioned", "described", "reported", "confirmed"]
_OBJECTS = ["the new budget", "a plan for the bridge", "the quarterly figures", "the school timetable",
            "a report on rainfall", "changes to the bus routes", "the museum's opening hours",
            "an audit of the hospital", "the housing survey", "the trade agreement"]
_TAILS = ["on Tuesday", "in March", "after a long meeting", "at the town hall", "in a statement",
          "last week", "for the second time", "without comment", "before the vote", "in 2024"]
# (phrase, technique ids): the signal the synthetic labels follow.
_PROPAGANDA = [
    ("These corrupt thugs are destroying everything we love!", {"loaded_language", "name_calling_labeling"}),
    ("Only traitors would support such a disgusting scheme.", {"name_calling_labeling", "loaded_language"}),
    ("Can anyone really trust these so-called experts?", {"doubt"}),
    ("Our proud nation and our flag will never bow to them.", {"flag_waving"}),
    ("If we do nothing, our children will pay a terrible price.", {"appeal_to_fear_prejudice"}),
    ("This is the worst disaster in the history of mankind.", {"exaggeration_minimisation"}),
    ("Everyone already knows the truth about this.", {"bandwagon_reductio_ad_hitlerum"}),
    ("It is what it is.", {"thought_terminating_cliches"}),
    ("Make our country strong again!", {"slogans", "flag_waving"}),
    ("Either you are with us or you are against us.", {"black_and_white_fallacy"}),
]


def _neutral(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."


def synthetic_documents(n_docs: int, seed: int = 0) -> list[LabelledDocument]:
    """Deterministic news-like articles: a title, a blank line, 30-50 lines.

    About one line in five is propaganda-like (labelled) and one in twenty holds
    two sentences: in PTC-2020 dev, 74 of 3,177 lines give the splitter's slow path
    (pysbd) something to do, and a corpus with many more would only measure pysbd.

    Examples
    --------
    >>> docs = synthetic_documents(2)
    >>> len(docs), all(len(d.spans) >= 31 for d in docs)
    (2, True)
    >>> synthetic_documents(2) == docs
    True
    """
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        lines: list[tuple[str, frozenset[str]]] = [(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} "
                                                    f"{rng.choice(_OBJECTS)}", frozenset())]
        for _ in range(rng.randint(30, 50)):
            r = rng.random()
            if r < 0.2:
                phrase, labels = rng.choice(_PROPAGANDA)
                line = f"{_neutral(rng)} {phrase}" if rng.random() < 0.1 else phrase
                lines.append((line, frozenset(labels)))
            elif r < 0.23:
                lines.append((f"{_neutral(rng)} {_neutral(rng)}", frozenset()))
            else:
                lines.append((_neutral(rng), frozenset()))
        text = lines[0][0] + "\n\n" + "\n".join(s for s, _ in lines[1:]) + "\n"
        spans = tuple(iter_lines(text))
        docs.append(LabelledDocument(f"synthetic{i:04d}", text, spans, tuple(l for _, l in lines)))
    return docs


def load_corpus() -> BenchCorpus:
    """PTC-2020 dev articles (and train, for the peer and training), else the synthetic corpus."""
    ptc = ptc_dir()
    if ptc is None:
        dev = synthetic_documents(75, seed=1)
        train = synthetic_documents(370, seed=2)
        name = f"synthetic ({len(dev)} generated articles; PTC-2020 not found)"
        train_name = f"synthetic ({len(train)} generated articles)"
    else:
        dev, _ = read_ptc(ptc / "dev-articles", ptc / "dev-task-flc-tc.labels")
        train, _ = read_ptc(ptc / "train-articles", ptc / "train-task-flc-tc.labels")
        name = f"PTC-2020 dev articles ({len(dev)} articles)"
        train_name = f"PTC-2020 train ({len(train)} articles)"
    return BenchCorpus(
        name=name,
        texts=[d.text for d in dev],
        sentences=[d.sentences for d in dev],
        train_docs=train,
        train_name=train_name,
    )
