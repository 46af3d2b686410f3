"""The spaCy pipeline component ``"propdetect"``: ``nlp.add_pipe("propdetect")``.

Installed with ``pip install 'propdetect[spacy]'``; spaCy finds the factory through the
``spacy_factories`` entry point, so nothing needs importing first. The component runs a
:class:`~propdetect.Detector` on ``doc.text`` and sets

* ``doc.spans["propaganda"]``: one span per evidence fragment of every technique the
  model names, labelled with the technique id (the whole sentence when a model gives
  no evidence); the fragments' character offsets are widened to whole spaCy tokens
  (``doc.char_span(..., alignment_mode="expand")``), so spaCy's own tokenisation is
  never changed. ``doc.spans["propaganda"].attrs["scores"]`` holds each span's
  probability, in the same order.
* ``doc._.propaganda``: the :class:`~propdetect.Analysis` (offsets index ``doc.text``).

The analysis travels with the Doc as plain data (``doc.user_data``), so docs made in
worker processes (``nlp.pipe(texts, n_process=2)``) and docs saved with
``DocBin`` or ``doc.to_bytes()`` keep it; ``doc._.propaganda`` rebuilds the Analysis from
it on access.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from ._detector import Detector
from ._results import Analysis

__all__ = ["PropagandaDetector", "make_propdetect", "SPANS_KEY", "USER_DATA_KEY"]

#: The default ``doc.spans`` key (config ``spans_key``).
SPANS_KEY = "propaganda"

#: Where the analysis is kept, as :meth:`Analysis.to_dict` data, in ``doc.user_data``.
USER_DATA_KEY = "propdetect.analysis"


def _analysis_of(doc: Doc) -> Analysis | None:
    data = doc.user_data.get(USER_DATA_KEY)
    return None if data is None else Analysis.from_dict(data)


if not Doc.has_extension("propaganda"):
    Doc.set_extension("propaganda", getter=_analysis_of)


class PropagandaDetector:
    """The pipeline component; make it with ``nlp.add_pipe("propdetect", config={...})``.

    Parameters
    ----------
    nlp : Language
        The pipeline (unused: the component needs only ``doc.text``).
    name : str
        The component's name in the pipeline.
    model : str
        ``"fast"``, ``"accurate"`` or a model folder, as for :meth:`Detector.load`.
    thresholds : float or mapping of str to float, optional
        Passed to :meth:`Detector.with_thresholds` (``"propaganda"`` sets the flag's).
    spans_key : str
        The ``doc.spans`` key to write.

    Examples
    --------
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> _ = nlp.add_pipe("propdetect", config={"model": "fast"})
    >>> doc = nlp("The museum opens at nine. These corrupt traitors are destroying our great nation!")
    >>> [(span.text, span.label_) for span in doc.spans["propaganda"]][:2]
    [('corrupt traitors', 'name_calling_labeling'), ('destroying', 'loaded_language')]
    >>> doc._.propaganda.flagged[0].techniques
    ('name_calling_labeling', 'loaded_language', 'flag_waving')
    """

    def __init__(self, nlp: Language | None, name: str = "propdetect", model: str = "fast",
                 thresholds: float | Mapping[str, float] | None = None, spans_key: str = SPANS_KEY) -> None:
        self.name = name
        self.model = model
        if isinstance(thresholds, (int, float)) and not isinstance(thresholds, bool):
            thresholds = float(thresholds)
        elif thresholds is not None:
            thresholds = dict(thresholds)
        self.thresholds = thresholds
        self.spans_key = spans_key
        det = Detector.load(model)
        self.detector = det if thresholds is None else det.with_thresholds(thresholds)

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes (nlp.pipe(n_process=N) under "spawn") load the model again
        # from its name or folder instead of receiving it.
        return (type(self), (None, self.name, self.model, self.thresholds, self.spans_key))

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self.detector.detect(doc.text))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._batch(batch)
                batch = []
        yield from self._batch(batch)

    def _batch(self, docs: list[Doc]) -> Iterator[Doc]:
        for doc, analysis in zip(docs, self.detector.detect_many([d.text for d in docs])):
            yield self._set(doc, analysis)

    def _set(self, doc: Doc, analysis: Analysis) -> Doc:
        spans, scores = [], []
        for s in analysis.flagged:
            for t in s.techniques:
                fragments = s.evidence.get(t) or ((s.start, s.end),)
                for a, b in fragments:
                    span = doc.char_span(a, b, label=t, alignment_mode="expand")
                    if span is not None and len(span):
                        spans.append(span)
                        scores.append(s.scores[t])
        group = SpanGroup(doc, name=self.spans_key, spans=spans, attrs={"scores": scores})
        doc.spans[self.spans_key] = group
        doc.user_data[USER_DATA_KEY] = analysis.to_dict()
        return doc


@Language.factory(
    "propdetect",
    default_config={"model": "fast", "thresholds": None, "spans_key": SPANS_KEY},
    assigns=["doc.spans", "doc._.propaganda"],
)
def make_propdetect(nlp: Language, name: str, model: str,
                    thresholds: Optional[Union[float, dict[str, float]]],  # noqa: UP007 -- spaCy's config reads these
                    spans_key: str) -> PropagandaDetector:
    """The ``"propdetect"`` factory (entry point ``spacy_factories``)."""
    return PropagandaDetector(nlp, name, model, thresholds, spans_key)
