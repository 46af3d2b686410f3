"""The public API stays one screen long: everything public is in __all__, and shown at work."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import propdetect
from tests.conftest import ROOT

PUBLIC = {
    # detect
    "detect", "Detector", "Analysis", "Sentence", "to_frame", "render_html",
    # techniques
    "TECHNIQUES", "TECHNIQUE_IDS", "Technique", "technique",
    # train
    "train", "SentenceClassifier",
    # label next
    "suggest", "Suggestion",
    # labelled data
    "load_documents", "read_ptc", "read_jsonl", "read_csv", "read_semeval2021", "LabelledDocument", "CorpusReport",
    # annotation tools
    "read_label_studio", "read_doccano", "label_studio_tasks", "label_studio_config",
    # errors and version
    "DataError", "UnknownTechniqueError", "ModelError", "ModelFormatError", "ModelVersionError", "__version__",
}

# The additions of 0.2.0 each carry a runnable example of their own.
NEW_IN_0_2 = [
    propdetect.SentenceClassifier, propdetect.SentenceClassifier.from_detector, propdetect.to_frame,
    propdetect.Analysis.to_frame, propdetect.load_documents, propdetect.read_ptc, propdetect.read_jsonl,
    propdetect.read_csv, propdetect.read_semeval2021, propdetect.Detector.iter_detect,
    propdetect.read_label_studio, propdetect.read_doccano, propdetect.label_studio_tasks,
    propdetect.label_studio_config, propdetect.suggest,
]


def test_all_is_the_public_api_and_nothing_else():
    assert set(propdetect.__all__) == PUBLIC
    assert len(propdetect.__all__) == len(PUBLIC)  # no duplicates
    for name in propdetect.__all__:
        assert getattr(propdetect, name) is not None
    # no stray public name outside __all__ (submodules such as propdetect.cli, once imported, are not names)
    names = {n for n, v in vars(propdetect).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert names | {"SentenceClassifier"} == PUBLIC - {"__version__"}


def test_star_import_gives_all():
    namespace: dict = {}
    exec("from propdetect import *", namespace)
    assert PUBLIC <= set(namespace)


def test_the_package_docstring_lists_and_runs_every_name():
    doc = propdetect.__doc__
    listing, _, examples = doc.partition(">>>")
    code = ">>>" + examples
    for name in PUBLIC:
        assert f"``{name}" in listing or f"``{name}(" in listing or f", ``{name}``" in listing, name
        assert re.search(rf"propdetect\.{re.escape(name)}\b", code), name
    assert len(listing.strip().splitlines()) <= 30  # one screen


def test_every_public_callable_is_documented():
    for name in PUBLIC - {"TECHNIQUES", "TECHNIQUE_IDS", "__version__"}:
        obj = getattr(propdetect, name)
        assert inspect.getdoc(obj), name


def test_new_names_carry_their_own_runnable_example():
    for obj in NEW_IN_0_2:
        doc = inspect.getdoc(obj) or ""
        assert "Examples\n--------" in doc and ">>>" in doc, obj.__qualname__


def test_import_stays_light():
    code = ("import sys, propdetect; "
            "print(sorted(m for m in ('sklearn', 'scipy', 'pandas', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
