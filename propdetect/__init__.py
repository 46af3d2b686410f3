"""propdetect: find propaganda techniques in news text, sentence by sentence.

>>> import propdetect
>>> analysis = propdetect.detect("They are very cruel, they don't spare anyone.")
>>> sorted(analysis.sentences[0].scores) == sorted(propdetect.TECHNIQUE_IDS)
True
"""

__version__ = "0.2.0"

from ._detector import Detector, detect
from ._html import render_html
from ._persist import ModelError, ModelFormatError, ModelVersionError
from ._results import Analysis, Sentence
from ._taxonomy import TECHNIQUE_IDS, TECHNIQUES, Technique, UnknownTechniqueError, technique
from ._train import train

__all__ = [
    "Analysis",
    "Detector",
    "ModelError",
    "ModelFormatError",
    "ModelVersionError",
    "Sentence",
    "TECHNIQUES",
    "TECHNIQUE_IDS",
    "Technique",
    "UnknownTechniqueError",
    "__version__",
    "detect",
    "render_html",
    "technique",
    "train",
]
