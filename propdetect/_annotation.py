"""Analyses -> Label Studio tasks with the model's spans as pre-annotations, and the
Label Studio labelling config of the 14 techniques.

The way back in, Label Studio's and doccano's exports -> labelled documents, is with
the other readers in ``_corpus`` (``read_label_studio``, ``read_doccano``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from ._taxonomy import TECHNIQUES

if TYPE_CHECKING:  # pragma: no cover
    from ._results import Analysis

__all__ = ["label_studio_config", "label_studio_task", "label_studio_tasks", "write_label_studio_tasks",
           "iter_tasks_json", "FROM_NAME", "TO_NAME"]

#: The names of the ``<Labels>`` control and the ``<Text>`` object in
#: :func:`label_studio_config`: those of Label Studio's own NER template, so that a
#: project made from that template with our labels reads the same.
FROM_NAME = "label"
TO_NAME = "text"

# One colour per technique, in TECHNIQUES order: 14 distinguishable colours
# (the Tableau 10 and 4 of its light variants), so that spans tell apart on screen.
_COLOURS = ("#e15759", "#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac", "#8cd17d", "#86bcb6", "#a0cbe8", "#ffbe7d")


# -- the labelling config -----------------------------------------------------------
def label_studio_config() -> str:
    """The Label Studio labelling config for the 14 techniques.

    Paste it into a project's *Settings > Labeling Interface > Code*, or pass it as
    ``label_config`` when creating a project through the API. Annotators mark spans
    of text with the techniques' names (``Technique.name``), which the readers
    resolve back to ids.

    Examples
    --------
    >>> config = label_studio_config()
    >>> config.startswith("<View>"), config.count("<Label value="), '<Label value="Doubt"' in config
    (True, 14, True)
    """
    labels = "\n".join(
        f'    <Label value={quoteattr(t.name)} background="{c}" hint={quoteattr(t.definition)}/>'
        for t, c in zip(TECHNIQUES, _COLOURS)
    )
    return (f'<View>\n  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n  </Labels>\n'
            f'  <Text name="{TO_NAME}" value="${TO_NAME}" granularity="word"/>\n</View>\n')


# -- writing tasks ------------------------------------------------------------------
def _span_result(i: int, text: str, start: int, end: int, name: str, score: float) -> dict[str, Any]:
    return {"id": f"p{i}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [name]},
            "score": round(float(score), 4)}


def label_studio_task(text: str, analysis: Analysis | None = None, *, model_version: str | None = None,
                      data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One Label Studio task: the text, and the model's spans as a prediction.

    Parameters
    ----------
    text : str
        The text, as it was analysed (``data.text`` of the task).
    analysis : Analysis, optional
        What the model found in ``text``. Each technique of each flagged sentence
        becomes span labels on its evidence (the words that carry it), or on the
        whole sentence when the model gives no evidence for it, scored with the
        sentence's probability for the technique. Without one, the task has no
        prediction (annotators start from the bare text).
    model_version : str, optional
        The prediction's ``model_version`` (Label Studio shows it and can filter on it).
    data : mapping, optional
        More fields for the task's ``data`` (e.g. ``{"source": "a.txt"}``); Label
        Studio keeps them and exports them back.

    Returns
    -------
    dict
        ``{"data": {"text": ..., ...}, "predictions": [{"model_version", "score",
        "result": [...]}]}``; the prediction's ``score`` is its highest span score
        (0 when the model found nothing), which Label Studio can sort tasks by.

    Examples
    --------
    >>> import propdetect
    >>> text = "They are traitors and thugs. It rained."
    >>> task = label_studio_task(text, propdetect.detect(text), model_version="fast")
    >>> task["data"]["text"] == text, task["predictions"][0]["model_version"]
    (True, 'fast')
    >>> v = task["predictions"][0]["result"][0]["value"]
    >>> text[v["start"]:v["end"]] == v["text"], v["labels"]
    (True, ['Name calling, labeling'])
    """
    task: dict[str, Any] = {"data": {TO_NAME: text, **{k: v for k, v in (data or {}).items() if k != TO_NAME}}}
    if analysis is None:
        return task
    names = {t.id: t.name for t in TECHNIQUES}
    result: list[dict[str, Any]] = []
    for s in analysis.sentences:
        for tid in s.techniques:
            score = s.scores.get(tid, 0.0)
            for start, end in (s.evidence.get(tid) or ((s.start, s.end),)):
                result.append(_span_result(len(result), text, start, end, names.get(tid, tid), score))
    prediction: dict[str, Any] = {"result": result, "score": max((r["score"] for r in result), default=0.0)}
    if model_version:
        prediction["model_version"] = model_version
    task["predictions"] = [prediction]
    return task


def label_studio_tasks(analyses: Analysis | Sequence[Analysis], texts: str | Sequence[str], *,
                       model_version: str | None = None,
                       data: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks for several texts (see :func:`label_studio_task`).

    ``analyses`` and ``texts`` are parallel, as for :func:`propdetect.render_html`;
    ``data``, if given, holds one mapping of extra task fields per text. Write the
    list with :func:`json.dump` (or :func:`write_label_studio_tasks`) and import the
    file into a project made with :func:`label_studio_config`.

    Examples
    --------
    >>> import propdetect
    >>> texts = ["Traitors! Cowards!", "The museum opens at nine."]
    >>> tasks = label_studio_tasks(propdetect.Detector.load().detect_many(texts), texts)
    >>> [len(t["predictions"][0]["result"]) > 0 for t in tasks]
    [True, False]
    """
    if isinstance(texts, str):
        texts, analyses = [texts], [analyses]  # type: ignore[list-item]
    analyses = list(analyses)  # type: ignore[arg-type]
    if len(analyses) != len(texts):
        raise ValueError(f"{len(analyses)} analyses for {len(texts)} texts: give one analysis per text")
    if data is not None and len(data) != len(texts):
        raise ValueError(f"{len(data)} data mappings for {len(texts)} texts: give one per text")
    return [label_studio_task(t, a, model_version=model_version, data=None if data is None else data[i])
            for i, (t, a) in enumerate(zip(texts, analyses))]


def iter_tasks_json(tasks: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The pieces of a JSON array of ``tasks``, one task per line: written as they come."""
    yield "["
    first = True
    for task in tasks:
        yield ("\n" if first else ",\n") + json.dumps(task, ensure_ascii=False)
        first = False
    yield "\n]\n"


def write_label_studio_tasks(tasks: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write ``tasks`` as the JSON array Label Studio imports; return the path.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = write_label_studio_tasks([label_studio_task("Hello.")], pathlib.Path(tempfile.mkdtemp()) / "t.json")
    >>> json.loads(p.read_text())
    [{'data': {'text': 'Hello.'}}]
    """
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for piece in iter_tasks_json(tasks):
            f.write(piece)
    return path
