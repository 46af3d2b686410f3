"""propdetect: find propaganda techniques in news text, sentence by sentence.

The public API, all of ``propdetect.__all__``:

Detect
    ``detect(text)``                      the default bundled model -> :class:`Analysis`
    ``Detector``                          ``load("fast" | "accurate" | path)``, ``detect``, ``detect_many``,
                                          ``iter_detect``, ``with_thresholds``, ``save``
    ``Analysis``, ``Sentence``            frozen results: offsets into your text, scores, evidence
    ``to_frame(analyses)``                results as a pandas DataFrame, one row per sentence
    ``render_html(analyses, texts)``      results as one self-contained HTML page
Techniques
    ``TECHNIQUES``, ``TECHNIQUE_IDS``     the 14 techniques, as records and as ids
    ``technique(name)``, ``Technique``    any id, corpus label or common name -> its record
Train
    ``train(examples, config)``           labelled sentences -> :class:`Detector`
    ``SentenceClassifier``                the same training as a scikit-learn estimator
Labelled data
    ``load_documents(source, format)``    a file, PTC folder, DataFrame, dataset or dicts -> documents
    ``read_ptc``, ``read_jsonl``, ``read_csv``, ``read_semeval2021``    the readers it dispatches to
    ``LabelledDocument``, ``CorpusReport``   what they return
The annotation loop
    ``suggest(texts, n)``, ``Suggestion``          the sentences whose labels would teach the model most
    ``read_label_studio``, ``read_doccano``        annotation tools' exports -> labelled documents
    ``label_studio_tasks``, ``label_studio_config``   pre-annotations and the labelling config for Label Studio
Errors and version
    ``DataError``, ``UnknownTechniqueError``, ``ModelError`` (``ModelFormatError``, ``ModelVersionError``),
    ``__version__``

Every name at work (most also have an example in their own docstring):

>>> import propdetect
>>> text = "They are very cruel, they don't spare anyone."
>>> analysis = propdetect.detect(text)
>>> s = analysis.sentences[0]
>>> isinstance(analysis, propdetect.Analysis), isinstance(s, propdetect.Sentence), text[s.start:s.end] == s.text
(True, True, True)
>>> sorted(s.scores) == sorted(propdetect.TECHNIQUE_IDS) == sorted(t.id for t in propdetect.TECHNIQUES)
True
>>> t = propdetect.technique("appeal to threat")
>>> isinstance(t, propdetect.Technique), t.id
(True, 'appeal_to_fear_prejudice')
>>> det = propdetect.Detector.load()
>>> [len(a.sentences) for a in det.iter_detect(iter(["One. Two.", "Three."]))]
[2, 1]
>>> accurate = propdetect.Detector.load("accurate")  # the linear model + a fine-tuned encoder
>>> accurate.kind, accurate.techniques == det.techniques
('accurate', True)
>>> propdetect.to_frame([analysis])["text"].tolist() == [s.text]
True
>>> propdetect.render_html(analysis, text, "example").startswith("<!doctype html>")
True
>>> rows = [{"text": "Traitors and thugs run this evil regime!", "techniques": ["name calling"]},
...         {"text": "The museum opens at nine.", "techniques": []}] * 3
>>> docs, report = propdetect.load_documents(rows)
>>> isinstance(docs[0], propdetect.LabelledDocument), isinstance(report, propdetect.CorpusReport)
(True, True)
>>> propdetect.train(docs, {"min_df": 1, "cv_folds": 3}).techniques
('name_calling_labeling',)
>>> clf = propdetect.SentenceClassifier(min_df=1, cv_folds=3)
>>> list(clf.fit([r["text"] for r in rows], [r["techniques"] for r in rows]).classes_)
['name_calling_labeling']
>>> callable(propdetect.read_ptc) and callable(propdetect.read_jsonl) and callable(propdetect.read_csv)
True
>>> callable(propdetect.read_semeval2021) and callable(propdetect.read_label_studio)
True
>>> callable(propdetect.read_doccano) and propdetect.label_studio_config().startswith("<View>")
True
>>> propdetect.label_studio_tasks([analysis], [text])[0]["data"]["text"] == text
True
>>> [s.rank for s in propdetect.suggest(["Rain. These evil traitors lie!"], n=2)]
[1, 2]
>>> isinstance(propdetect.suggest(["Rain."], n=1)[0], propdetect.Suggestion)
True
>>> try:
...     propdetect.load_documents("corpus.xml")
... except propdetect.DataError as exc:
...     print(exc)
corpus.xml: no such file or folder
>>> try:
...     propdetect.technique("telepathy")
... except propdetect.UnknownTechniqueError:
...     print("not a technique")
not a technique
>>> try:
...     propdetect.Detector.load("no/such/model")
... except propdetect.ModelError as exc:  # a ModelFormatError or a ModelVersionError
...     print(type(exc) is propdetect.ModelFormatError, exc)
True no/such/model: no such model folder
>>> issubclass(propdetect.ModelVersionError, propdetect.ModelError)
True
>>> propdetect.__version__.count(".")
2
"""

__version__ = "0.2.0"

from ._annotation import label_studio_config, label_studio_tasks
from ._corpus import (
    CorpusReport,
    DataError,
    LabelledDocument,
    load_documents,
    read_csv,
    read_doccano,
    read_jsonl,
    read_label_studio,
    read_ptc,
    read_semeval2021,
)
from ._detector import Detector, detect
from ._frame import to_frame
from ._html import render_html
from ._persist import ModelError, ModelFormatError, ModelVersionError
from ._results import Analysis, Sentence
from ._suggest import Suggestion, suggest
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
    "Suggestion",
    "TECHNIQUES",
    "TECHNIQUE_IDS",
    "Technique",
    "UnknownTechniqueError",
    "__version__",
    "detect",
    "label_studio_config",
    "label_studio_tasks",
    "load_documents",
    "read_csv",
    "read_doccano",
    "read_jsonl",
    "read_label_studio",
    "read_ptc",
    "read_semeval2021",
    "render_html",
    "suggest",
    "technique",
    "to_frame",
    "train",
]
