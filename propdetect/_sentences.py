"""Text -> sentence spans with exact character offsets into the caller's text.

Newlines are hard boundaries (news text, and PTC in particular, puts one sentence
per line). Inside a line, a cheap scan looks for places that *could* end a sentence
(``.``, ``!``, ``?`` or ``…`` followed by space and a plausible sentence start, not
after a known abbreviation). Only lines that have one are handed to pysbd, the
rule-based splitter measured best on tricky cases in ``shared/docs/ECOSYSTEM.md``
(22/25 tricky cases, boundary F1 0.968), so most lines cost one regex search.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

__all__ = ["split_sentences", "iter_lines"]

# Line breaks that end a sentence: CRLF, LF, lone CR and the Unicode line and
# paragraph separators. Vertical tab / form feed / NEL stay inside a line; they are
# rare in news text and Python's str.splitlines() disagreeing on them is not worth
# an extra rule.
_LINE = re.compile(r"[^\r\n\u2028\u2029]+")

# A candidate boundary: terminal punctuation, optional closing quotes/brackets,
# whitespace, then something that can open a sentence.
# Possessive quantifiers and the look-behind keep the scan linear on hostile input
# (a line of 100,000 dots).
_CANDIDATE = re.compile(
    r"(?<![.!?…])(?P<punct>[.!?…]++)[\"'”’»)\]]*+\s++[\"'“‘«(\[]*+[A-Z0-9À-ÖØ-Þ]"
)
_WORD_BEFORE = re.compile(r"[\w.'’-]{1,20}$")

# Words after which a period does not end a sentence. Titles and frequent news
# abbreviations; single capitals (initials: "John F. Kennedy") are handled by rule.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st sen rep gov gen col lt sgt capt cmdr adm maj pres
    rev hon messrs mt ft no nos vs etc inc ltd co corp jan feb mar apr jun jul aug
    sep sept oct nov dec u.s u.k u.n e.u d.c a.m p.m i.e e.g al approx dept est fig
    vol op cit ca""".split()
)

# pysbd is slow on very long lines; beyond this many characters a line is cut at
# candidate boundaries by the rule above instead (linear time on hostile input).
_PYSBD_MAX_CHARS = 5_000

# The longest sentence in the PTC articles has 817 characters. A run of more than
# this many characters with no sentence end (pages of unpunctuated text, a minified
# blob) is cut at its last whitespace before the limit (or hard, if it has none), so
# that the memory one sentence takes to score stays bounded whatever the input: a
# 5 MB line scored as one sentence took 900 MB; cut, a few tens of MB.
MAX_SENTENCE_CHARS = 100_000
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)


# One pysbd Segmenter per thread: segment() keeps the line it works on in the
# instance (``self.original_text``) and reads it back to find the sentences' offsets,
# so one Segmenter shared by threads gave a line the spans of another thread's line
# (16 threads over the 75 PTC dev articles: 4-5 of 600-1,200 results with a sentence
# too few or too many).
_local = threading.local()


def _segmenter():  # noqa: ANN202 - pysbd has no type hints
    seg = getattr(_local, "segmenter", None)
    if seg is None:
        import pysbd  # imported on first use: keeps `import propdetect` fast

        seg = _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return seg


def iter_lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each line of ``text`` with its surrounding
    whitespace removed; blank lines are skipped."""
    for m in _LINE.finditer(text):
        start, end = m.span()
        line = m.group()
        stripped = line.strip()
        if not stripped:
            continue
        start += len(line) - len(line.lstrip())
        end = start + len(stripped)
        yield start, end


def _has_real_candidate(line: str) -> list[int]:
    """Return the positions just after candidate boundaries not explained by an
    abbreviation or an initial."""
    cuts = []
    for m in _CANDIDATE.finditer(line):
        if m.group("punct") == ".":
            w = _WORD_BEFORE.search(line, max(0, m.start() - 20), m.start())
            word = w.group().lower().strip(".'’-") if w else ""
            if word in _ABBREVIATIONS:
                continue
            if len(word) == 1 and word.isalpha():  # an initial: "John F. Kennedy"
                continue
        cuts.append(m.end("punct"))
    return cuts


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _capped(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a trimmed span into pieces of at most ``MAX_SENTENCE_CHARS``, at whitespace
    where the second half of the window has some."""
    out = []
    while end - start > MAX_SENTENCE_CHARS:
        half = start + MAX_SENTENCE_CHARS // 2
        m = _LAST_SPACE.match(text, half, start + MAX_SENTENCE_CHARS)
        cut = m.end() - 1 if m else start + MAX_SENTENCE_CHARS
        t = _trimmed(text, start, cut)
        if t is not None:
            out.append(t)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    out.append((start, end))
    return out


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = _split_line_uncapped(text, start, end)
    if any(b - a > MAX_SENTENCE_CHARS for a, b in spans):
        spans = [piece for a, b in spans for piece in _capped(text, a, b)]
    return spans


def _split_line_uncapped(text: str, start: int, end: int) -> list[tuple[int, int]]:
    line = text[start:end]
    cuts = _has_real_candidate(line)
    if not cuts:
        return [(start, end)]
    if len(line) > _PYSBD_MAX_CHARS:
        bounds = [0, *cuts, len(line)]
    else:
        bounds = [0]
        for seg in _segmenter().segment(line):
            # Trust pysbd's boundaries only where they are real, increasing
            # positions inside the line; anything else falls back to one span.
            if seg.start > bounds[-1] and seg.start < len(line):
                bounds.append(seg.start)
        bounds.append(len(line))
    spans = []
    for a, b in zip(bounds, bounds[1:]):
        t = _trimmed(text, start + a, start + b)
        if t is not None:
            spans.append(t)
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences.

    Parameters
    ----------
    text : str
        Any text. Offsets are Python string indices (code points).

    Returns
    -------
    list of (int, int)
        ``(start, end)`` of each sentence, in order, end exclusive. Leading and
        trailing whitespace is never part of a sentence, spans never overlap, no
        sentence crosses a line break and none is longer than
        ``MAX_SENTENCE_CHARS`` (100,000; a longer run without a sentence end is
        cut at whitespace).

    Examples
    --------
    >>> text = "Dr. Smith arrived. He left!\\r\\nAnother line"
    >>> [text[a:b] for a, b in split_sentences(text)]
    ['Dr. Smith arrived.', 'He left!', 'Another line']
    """
    spans: list[tuple[int, int]] = []
    search = _CANDIDATE.search
    for start, end in iter_lines(text):
        # Most lines are one sentence with no candidate boundary at all: one regex
        # search on the text itself, no slice. (The look-behind may see the character
        # before the line, which is whitespace or a line break, as at a slice's start.)
        if end - start <= MAX_SENTENCE_CHARS and search(text, start, end) is None:
            spans.append((start, end))
        else:
            spans.extend(_split_line(text, start, end))
    return spans
