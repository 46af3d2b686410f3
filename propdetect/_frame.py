"""Tables: results as one row per sentence (pandas or CSV), and the DataFrame helpers
that the readers of labelled data use (:func:`is_frame`, :func:`_plain`).

pandas is optional (``pip install 'propdetect[pandas]'``) and imported only when a
DataFrame is asked for; the rows themselves are plain tuples, which is what
``propdetect analyze --format csv`` writes.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._taxonomy import TECHNIQUE_IDS

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["COLUMNS", "TAIL_COLUMNS", "to_frame", "sentence_rows", "score_columns", "is_frame"]

#: The columns before the scores: where the sentence is, what was found in it and
#: its propaganda probability (empty for models without an "any technique" head).
#: One probability column per technique (named by its id) follows them, then
#: TAIL_COLUMNS.
COLUMNS = ("source", "start", "end", "text", "techniques", "propaganda_score")
#: After the scores: the warnings of the sentence's text (Analysis.warnings).
TAIL_COLUMNS = ("warnings",)

PANDAS_HINT = "pip install 'propdetect[pandas]'"


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(f"this needs pandas, an optional dependency of propdetect: {PANDAS_HINT}") from None
    return pandas


def is_frame(obj: object) -> bool:
    """True for a pandas DataFrame (never imports pandas: if obj is one, pandas is imported already)."""
    mod = sys.modules.get("pandas")
    return mod is not None and isinstance(obj, mod.DataFrame)


@runtime_checkable
class Analysis(Protocol):
    """What the tables read of a :class:`propdetect.Analysis`. This module does not
    import ``_results``: ``Analysis.to_frame`` there calls :func:`to_frame` here."""

    sentences: tuple[Any, ...]
    warnings: tuple[str, ...]

    def technique_counts(self) -> dict[str, int]: ...


def score_columns(analyses: Iterable[Analysis]) -> list[str]:
    """The technique ids the analyses score, in the model's order (the order of the
    first sentence's scores, then any others in order of appearance); the 14
    :data:`~propdetect.TECHNIQUE_IDS` when there is no sentence at all."""
    seen: dict[str, None] = {}
    for a in analyses:
        for s in a.sentences:
            if len(seen) == 0 or any(t not in seen for t in s.scores):
                seen.update(dict.fromkeys(s.scores))
    return list(seen) if seen else list(TECHNIQUE_IDS)


def sentence_rows(analysis: Analysis, source: Any, techniques: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """One row per sentence: ``source, start, end, text, techniques,
    propaganda_score`` (NaN when the model has no "any technique" head), then the
    score of each of ``techniques`` (NaN where the analysis has none), then the
    analysis's warnings (a tuple).

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> a = Analysis((Sentence("Traitors!", 0, 9, ("name_calling_labeling",), {"name_calling_labeling": 0.9}),))
    >>> list(sentence_rows(a, "doc.txt", ["name_calling_labeling", "doubt"]))
    [('doc.txt', 0, 9, 'Traitors!', ('name_calling_labeling',), nan, 0.9, nan, ())]
    """
    nan = math.nan
    warnings = analysis.warnings
    for s in analysis.sentences:
        scores = s.scores
        yield (source, s.start, s.end, s.text, s.techniques,
               nan if s.propaganda_score is None else s.propaganda_score,
               *[scores[t] if t in scores else nan for t in techniques], warnings)


def to_frame(analyses: Analysis | Iterable[Analysis], sources: Sequence[Any] | None = None) -> pandas.DataFrame:
    """Analyses as a pandas DataFrame with one row per sentence.

    Parameters
    ----------
    analyses : Analysis or iterable of Analysis
        For example the output of :meth:`Detector.detect_many`.
    sources : sequence, optional
        A name for each analysis (file names, ids); by default its position.

    Returns
    -------
    pandas.DataFrame
        Columns ``source`` (the name, or the position of the analysis), ``start``
        and ``end`` (offsets into that analysis's text), ``text`` (the sentence),
        ``techniques`` (a list of the technique ids found), ``propaganda_score``
        (the probability that the sentence uses any technique), then one column
        of probabilities per technique the model scores, named by its id, then
        ``warnings`` (a list: the warnings of that sentence's text, e.g. that it
        does not look like English).

    Raises
    ------
    ImportError
        pandas is not installed (``pip install 'propdetect[pandas]'``).
    ValueError
        ``sources`` does not have one item per analysis.

    Examples
    --------
    >>> import propdetect
    >>> texts = ["They are very cruel, they don't spare anyone.", "Rain. Sun."]
    >>> df = propdetect.to_frame(propdetect.Detector.load().detect_many(texts), sources=["a", "b"])
    >>> df[["source", "start", "end", "text"]]
      source  start  end                                           text
    0      a      0   45  They are very cruel, they don't spare anyone.
    1      b      0    5                                          Rain.
    2      b      6   10                                           Sun.
    >>> list(df.columns[6:-1]) == list(propdetect.TECHNIQUE_IDS)
    True
    >>> df["warnings"][0]
    []
    """
    pd = _pandas()
    if isinstance(analyses, Analysis):
        analyses = [analyses]
    analyses = list(analyses)
    for i, a in enumerate(analyses):
        if not isinstance(a, Analysis):
            raise TypeError(f"to_frame() takes Analysis objects; item {i} is {type(a).__name__}")
    if sources is None:
        names: Sequence[Any] = range(len(analyses))
    else:
        names = list(sources)
        if len(names) != len(analyses):
            raise ValueError(f"sources has {len(names)} items for {len(analyses)} analyses")
    techniques = score_columns(analyses)
    rows = [(*row[:4], list(row[4]), *row[5:-1], list(row[-1]))  # lists, as in to_dict()
            for a, name in zip(analyses, names) for row in sentence_rows(a, name, techniques)]
    df = pd.DataFrame.from_records(rows, columns=[*COLUMNS, *techniques, *TAIL_COLUMNS])
    return df.astype({"start": "int64", "end": "int64", "propaganda_score": "float64",
                      **{t: "float64" for t in techniques}})


# -- labelled data in ------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A DataFrame cell as the plain value the record readers expect: missing
    values (NaN, None, pd.NA) become None, arrays lists, NumPy scalars Python ones."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1:  # a NumPy array in a cell
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    pd = sys.modules.get("pandas")
    if pd is not None and (value is pd.NA or value is pd.NaT):
        return None
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a NumPy scalar
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value
