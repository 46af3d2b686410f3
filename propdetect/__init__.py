"""propdetect: find propaganda techniques in news text, sentence by sentence.

>>> import propdetect
>>> analysis = propdetect.detect("They are very cruel, they don't spare anyone.")
>>> sorted(analysis.sentences[0].scores) == sorted(propdetect.TECHNIQUE_IDS)
True
"""

__version__ = "0.2.0"

from ._corpus import (
    CorpusReport,
    DataError,
    LabelledDocument,
    load_documents,
    read_csv,
    read_jsonl,
    read_ptc,
    read_semeval2021,
)
from ._detector import Detector, detect
from ._frame import to_frame
from ._html import render_html
from ._persist import ModelError, ModelFormatError, ModelVersionError
from ._results import Analysis, Sentence
from ._taxonomy import TECHNIQUE_IDS, TECHNIQUES, Technique, UnknownTechniqueError, technique
from ._train import train


def __getattr__(name: str) -> object:
    # SentenceClassifier subclasses scikit-learn's BaseEstimator: importing it at
    # `import propdetect` would import scikit-learn for every user (PEP 562).
    if name == "SentenceClassifier":
        from ._estimator import SentenceClassifier

        return SentenceClassifier
    raise AttributeError(f"module 'propdetect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"SentenceClassifier"})


__all__ = [
    "Analysis",
    "CorpusReport",
    "DataError",
    "Detector",
    "LabelledDocument",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "Sentence",
    "SentenceClassifier",
    "TECHNIQUES",
    "TECHNIQUE_IDS",
    "Technique",
    "UnknownTechniqueError",
    "__version__",
    "detect",
    "load_documents",
    "read_csv",
    "read_jsonl",
    "read_ptc",
    "read_semeval2021",
    "render_html",
    "technique",
    "to_frame",
    "train",
]
