"""HTML report: analyses and their texts -> one self-contained page.

The page carries its CSS and its charts (SVG) inline, loads nothing from the
network and needs no JavaScript; a Content-Security-Policy in the page forbids
scripts and remote resources, and every piece of text is escaped, so an article
containing HTML shows that HTML as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from . import __version__
from ._results import Analysis, Sentence
from ._taxonomy import TECHNIQUES

__all__ = ["render_html"]

# One colour per technique, in TECHNIQUES order: Tableau-10 hues first, then hues picked by
# eye (screenshots of the seed article) so that no two techniques share a hue family and each
# 28% tint stays light enough for black text. Colour is never the only carrier: every
# highlight also names its techniques in text.
_PALETTE = (
    "#4e79a7", "#e15759", "#f28e2b", "#76b7b2", "#59a14f", "#d4a718", "#b07aa1",
    "#ff9da7", "#9c755f", "#6b6ecf", "#17becf", "#bcbd22", "#8f2d56", "#393b79",
)
_UNKNOWN_COLOUR = "#888888"
# Sentence highlight = technique colour mixed with white: light enough for black text.
_TINT = 0.28

_INDEX = {t.id: i for i, t in enumerate(TECHNIQUES)}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _name(tid: str) -> str:
    i = _INDEX.get(tid)
    return TECHNIQUES[i].name if i is not None else tid


def _cls(tid: str) -> str:
    i = _INDEX.get(tid)
    return f"t{i}" if i is not None else "tx"


def _tint(colour: str, amount: float = _TINT) -> str:
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    mix = [round(255 - amount * (255 - c)) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _palette_css() -> str:
    rules = [
        f".{c}{{--c:{colour};--tint:{_tint(colour)}}}"
        for c, colour in [*((f"t{i}", _PALETTE[i % len(_PALETTE)]) for i in range(len(TECHNIQUES))),
                          ("tx", _UNKNOWN_COLOUR)]
    ]
    return "\n".join(rules)


_CSS = """
:root{color-scheme:light;--ink:#1d1d1f;--muted:#5f6368;--rule:#d0d4d9}
*{box-sizing:border-box}
body{margin:0 auto;max-width:52rem;padding:1.5rem 1.25rem 3rem;color:var(--ink);background:#fff;
 font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.3rem;margin:2.5rem 0 .25rem;padding-top:.75rem;border-top:2px solid var(--rule);
 overflow-wrap:anywhere}
h3{font-size:1rem;margin:1.25rem 0 .4rem}
a{color:#1a56a8}
.lede,.summary{margin:.25rem 0 .75rem}
.muted,figcaption,footer{color:var(--muted);font-size:.875rem}
table.index{border-collapse:collapse;width:100%;font-size:.9rem}
table.index th,table.index td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--rule);
 vertical-align:top}
table.index td.num,table.index th.num{text-align:right;font-variant-numeric:tabular-nums}
table.index td:first-child{overflow-wrap:anywhere}
figure{margin:.5rem 0 1rem}
svg.chart{width:100%;max-width:44rem;height:auto;display:block}
svg.chart text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink)}
svg.chart text.zero{fill:#9aa0a6}
svg.chart rect{fill:var(--c)}
.article{white-space:pre-wrap;overflow-wrap:anywhere;font:17px/1.65 Georgia,"Times New Roman",serif;
 padding:1rem 1.25rem;border:1px solid var(--rule);border-radius:6px;background:#fcfcfd}
.sent.flagged{background:var(--tint);border-bottom:2px solid var(--c);padding:.1em 0;
 -webkit-box-decoration-break:clone;box-decoration-break:clone}
mark.ev{background:none;color:inherit;font-weight:700;text-decoration:underline;
 text-decoration-color:var(--c);text-decoration-thickness:2px;text-underline-offset:2px}
.tags{font:600 11px/1 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;white-space:normal;
 -webkit-user-select:none;user-select:none}
.tag{display:inline-block;margin:0 0 0 .3em;padding:.2em .45em;border-radius:3px;vertical-align:.15em;
 color:var(--ink);text-decoration:none;background:#fff;border:1px solid var(--c);
 border-left:6px solid var(--c)}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;background:var(--c);
 vertical-align:-.1em;margin-right:.4em}
dl.legend{margin:0}
dl.legend dt{font-weight:600;margin-top:.6rem}
dl.legend dt code{font-weight:400;color:var(--muted);font-size:.8rem;margin-left:.4em}
dl.legend dd{margin:.1rem 0 0 1.3rem}
footer{margin-top:2.5rem;border-top:1px solid var(--rule);padding-top:.75rem}
.unread{border-left:6px solid #c5221f;padding:.1rem 0 .1rem 1rem}
p.warning{border-left:6px solid #e37400;background:#fef7e0;padding:.4rem .75rem;margin:.5rem 0}
.unread td.err{color:#a50e0e}
@page{margin:1.6cm 1.4cm}
@media print{
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 body{max-width:none;padding:0;font-size:10.5pt}
 .article{font-size:11pt;border:none;padding:0;background:none}
 section.doc+section.doc{break-before:page}
 h2,h3{break-after:avoid}
 figure,dl.legend dt,dl.legend dd,table.index tr{break-inside:avoid}
 a{color:inherit;text-decoration:none}
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class _Doc:
    number: int
    source: str
    text: str
    analysis: Analysis

    @property
    def anchor(self) -> str:
        return f"doc-{self.number}"


def _as_docs(analyses: Analysis | Sequence[Analysis], texts: str | Sequence[str],
             sources: str | Sequence[str] | None) -> list[_Doc]:
    if isinstance(analyses, Analysis):
        if not isinstance(texts, str):
            raise TypeError("with one Analysis, pass its text as one str (a list of analyses takes a list of texts)")
        if sources is not None and not isinstance(sources, str):
            raise TypeError("with one Analysis, pass its source as one str or None")
        analyses, texts = [analyses], [texts]
        sources = None if sources is None else [sources]
    else:
        if isinstance(texts, str):
            raise TypeError("with a list of analyses, pass a list of texts (one per analysis), not one str")
        if isinstance(sources, str):
            raise TypeError("with a list of analyses, pass a list of sources (one per analysis), not one str")
        analyses, texts = list(analyses), list(texts)
    if len(texts) != len(analyses):
        raise ValueError(f"got {len(analyses)} analyses but {len(texts)} texts; pass one text per analysis")
    if sources is None:
        sources = ["text"] if len(analyses) == 1 else [f"document {i}" for i in range(1, len(analyses) + 1)]
    sources = list(sources)
    if len(sources) != len(analyses):
        raise ValueError(f"got {len(analyses)} analyses but {len(sources)} sources; pass one source per analysis")
    docs = []
    for i, (a, t, src) in enumerate(zip(analyses, texts, sources, strict=True), start=1):
        if not isinstance(a, Analysis):
            raise TypeError(f"document {i}: expected an Analysis, not {type(a).__name__}")
        if not isinstance(t, str):
            raise TypeError(f"document {i}: expected the text as str, not {type(t).__name__}")
        _check_offsets(a, t, str(src))
        docs.append(_Doc(i, str(src), t, a))
    return docs


def _check_offsets(analysis: Analysis, text: str, source: str) -> None:
    """Refuse an analysis that was not made from ``text``: highlights would land on the wrong words."""
    prev_end = 0
    for s in analysis.sentences:
        if not (prev_end <= s.start <= s.end <= len(text)) or text[s.start : s.end] != s.text:
            raise ValueError(
                f"{source}: sentence [{s.start}:{s.end}] {s.text[:40]!r} does not match the text at those "
                "offsets (or overlaps the previous one); pass the same text that was analysed"
            )
        prev_end = s.end
        for tid, spans in s.evidence.items():
            for a, b in spans:
                if not s.start <= a < b <= s.end:
                    raise ValueError(
                        f"{source}: evidence [{a}:{b}] of {tid} lies outside its sentence [{s.start}:{s.end}]"
                    )


# -- summaries -------------------------------------------------------------------
def _counts(analyses: Sequence[Analysis]) -> dict[str, int]:
    total: dict[str, int] = {}
    for a in analyses:
        for tid, n in a.technique_counts().items():
            total[tid] = total.get(tid, 0) + n
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], _INDEX.get(kv[0], len(_INDEX)), kv[0])))


def _summary(analyses: Sequence[Analysis]) -> str:
    n = sum(len(a.sentences) for a in analyses)
    flagged = sum(len(a.flagged) for a in analyses)
    share = f" ({100 * flagged / n:.0f}%)" if n else ""
    top = list(_counts(analyses).items())[:3]
    line = f"{n} sentence{'s' * (n != 1)}, {flagged} flagged{share}."
    if top:
        # "; " because technique names hold commas ("Name calling, labeling")
        line += " Top techniques: " + "; ".join(f"{_name(t)} ({c})" for t, c in top) + "."
    return _esc(line)


# -- chart -----------------------------------------------------------------------
_ROW, _LABEL_W, _BAR_W, _PAD = 20, 250, 330, 8


def _chart(analysis: Analysis, caption: str) -> str:
    counts = analysis.technique_counts()
    ids = [t.id for t in TECHNIQUES] + sorted(set(counts) - set(_INDEX))
    n_sent = len(analysis.sentences)
    top = max(counts.values(), default=0)
    height = _ROW * len(ids) + 2 * _PAD
    width = _LABEL_W + _BAR_W + 90
    rows = []
    for r, tid in enumerate(ids):
        c = counts.get(tid, 0)
        y = _PAD + r * _ROW
        w = round(_BAR_W * c / top, 1) if top else 0
        share = f" ({100 * c / n_sent:.0f}%)" if c and n_sent else ""
        tip = _esc(f"{_name(tid)}: {c} of {n_sent} sentences")
        zero = ' class="zero"' if not c else ""
        bar = f'<rect x="{_LABEL_W + 8}" y="{y + 3}" width="{w}" height="{_ROW - 6}" rx="2"/>' if c else ""
        rows.append(
            f'<g class="{_cls(tid)}"><title>{tip}</title>'
            f'<text x="{_LABEL_W}" y="{y + 14}" text-anchor="end">{_esc(_name(tid))}</text>{bar}'
            f'<text x="{_LABEL_W + 14 + w}" y="{y + 14}"{zero}>{c}{share}</text></g>'
        )
    return (
        f'<figure><svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(caption)}">'
        + "".join(rows)
        + f"</svg><figcaption>{_esc(caption)}</figcaption></figure>"
    )


# -- article ---------------------------------------------------------------------
def _evidence_runs(s: Sentence) -> list[tuple[int, int, tuple[str, ...]]]:
    """Split the sentence into runs of characters that are evidence for the same techniques.

    Evidence spans of different techniques may overlap; cutting at every span edge
    gives flat, non-nested marks.
    """
    spans = [(a, b, tid) for tid in s.techniques for a, b in s.evidence.get(tid, ())]
    cuts = sorted({s.start, s.end, *(a for a, _, _ in spans), *(b for _, b, _ in spans)})
    runs = []
    for a, b in zip(cuts, cuts[1:]):
        tids = tuple(t for t in s.techniques if any(x <= a and b <= y for x, y, tt in spans if tt == t))
        runs.append((a, b, tids))
    return runs


def _sentence(doc: _Doc, j: int, s: Sentence) -> str:
    label = "; ".join(f"{_name(t)} {s.scores.get(t, float('nan')):.2f}" for t in s.techniques)
    inner = []
    for a, b, tids in _evidence_runs(s):
        piece = _esc(doc.text[a:b])
        if tids:
            title = _esc("evidence for " + ", ".join(_name(t) for t in tids))
            piece = f'<mark class="ev {_cls(tids[0])}" title="{title}">{piece}</mark>'
        inner.append(piece)
    tags = "".join(
        f'<a class="tag {_cls(t)}" href="#tech-{_esc(t)}">{_esc(_name(t))} {s.scores.get(t, float("nan")):.2f}</a>'
        for t in s.techniques
    )
    return (
        f'<span class="sent flagged {_cls(s.techniques[0])}" id="{doc.anchor}-s{j}" '
        f'data-start="{s.start}" data-end="{s.end}" data-techniques="{_esc(" ".join(s.techniques))}" '
        f'title="{_esc(label)}">{"".join(inner)}</span><span class="tags">{tags}</span>'
    )


def _article(doc: _Doc) -> str:
    out, pos = [], 0
    for j, s in enumerate(doc.analysis.sentences, start=1):
        if not s.techniques:
            continue
        out.append(_esc(doc.text[pos : s.start]))
        out.append(_sentence(doc, j, s))
        pos = s.end
    out.append(_esc(doc.text[pos:]))
    return f'<div class="article" lang="">{"".join(out)}</div>'


def _section(doc: _Doc) -> str:
    return (
        f'<section class="doc" id="{doc.anchor}" aria-labelledby="{doc.anchor}-h">\n'
        f'<h2 id="{doc.anchor}-h">{_esc(doc.source)}</h2>\n'
        + "".join(f'<p class="warning">Warning: {_esc(w)}.</p>\n' for w in doc.analysis.warnings)
        + f'<p class="summary">{_summary([doc.analysis])}</p>\n'
        f'<h3>Sentences per technique</h3>\n'
        f'{_chart(doc.analysis, f"Number of sentences of {doc.source} flagged with each technique")}\n'
        f'<h3>The text</h3>\n'
        f'<p class="muted">Flagged sentences are shaded, followed by their techniques and scores (the '
        f'probability the model gives each); the words that weighed most are <mark class="ev tx">underlined'
        f'</mark>. Hover for details.</p>\n'
        f"{_article(doc)}\n</section>"
    )


def _index(docs: Sequence[_Doc]) -> str:
    rows = []
    for d in docs:
        n = len(d.analysis.sentences)
        f = len(d.analysis.flagged)
        share = f"{100 * f / n:.0f}%" if n else "–"
        top = "; ".join(_name(t) for t in list(d.analysis.technique_counts())[:2]) or "–"
        rows.append(
            f'<tr><td><a href="#{d.anchor}">{_esc(d.source)}</a></td><td class="num">{n}</td>'
            f'<td class="num">{f}</td><td class="num">{share}</td><td>{_esc(top)}</td></tr>'
        )
    return (
        '<nav aria-label="Documents"><h2>Documents</h2><table class="index"><thead><tr><th>document</th>'
        '<th class="num">sentences</th><th class="num">flagged</th><th class="num">share</th>'
        "<th>top techniques</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></nav>"
    )


def _as_errors(errors: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(errors, (str, bytes)):
        raise TypeError("errors takes (source, message) pairs, not one string")
    out = []
    for i, item in enumerate(errors, start=1):
        if not (isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise TypeError(f"errors item {i}: expected a (source, message) pair of str, got {item!r}")
        out.append(item)
    return out


def _unread(errors: Sequence[tuple[str, str]]) -> str:
    """The inputs that could not be read, each with its error: a run's report leaves
    nothing out."""
    rows = "".join(
        f'<tr id="unread-{i}"><td>{_esc(src)}</td><td class="err">{_esc(msg)}</td></tr>'
        for i, (src, msg) in enumerate(errors, start=1)
    )
    n = len(errors)
    return (
        f'<section class="unread" id="unread" aria-labelledby="unread-h"><h2 id="unread-h">'
        f'{n} input{"s" * (n != 1)} could not be read</h2>'
        '<p class="muted">They are not analysed below; the error says why and how to read them.</p>'
        '<table class="index"><thead><tr><th>input</th><th>error</th></tr></thead><tbody>'
        f"{rows}</tbody></table></section>"
    )


def _legend() -> str:
    items = "".join(
        f'<dt id="tech-{_esc(t.id)}" class="{_cls(t.id)}"><span class="swatch"></span>{_esc(t.name)}'
        f"<code>{_esc(t.id)}</code></dt><dd>{_esc(t.definition)}</dd>"
        for t in TECHNIQUES
    )
    return f'<section id="techniques"><h2>The techniques</h2><dl class="legend">{items}</dl></section>'


def render_html(
    analyses: Analysis | Sequence[Analysis],
    texts: str | Sequence[str],
    sources: str | Sequence[str] | None = None,
    *,
    title: str | None = None,
    model: str | None = None,
    errors: Sequence[tuple[str, str]] = (),
) -> str:
    """Render analyses as one self-contained HTML page.

    The page shows each text as written with its flagged sentences highlighted,
    their techniques and scores beside them and their evidence words underlined;
    a chart of how many sentences use each technique; a summary line; an index
    when there are several documents; and the techniques' definitions. It has
    inline CSS and SVG only: no script, no remote font or image, readable printed.

    Parameters
    ----------
    analyses : Analysis or sequence of Analysis
        What :func:`propdetect.detect` (or ``Detector.detect_many``) returned.
    texts : str or sequence of str
        The text each analysis was made from (an :class:`Analysis` holds offsets,
        not the text); one str for one analysis, a list for a list.
    sources : str or sequence of str, optional
        A name per text shown as its heading, e.g. the file name. Default:
        ``"text"``, or ``"document 1"``, ``"document 2"``, ...
    title : str, optional
        The page's heading and title. Default: ``"propdetect report"`` (the title
        adds the source when there is one text).
    model : str, optional
        The model that made the analyses, shown in the header and the footer (e.g.
        its version).
    errors : sequence of (str, str), optional
        Inputs that could not be read, as ``(source, error message)`` pairs: the
        page lists each with its error, before the documents, and counts them in
        its summary, so that nothing given to the run goes missing from it.

    Returns
    -------
    str
        A complete HTML document; write it to a ``.html`` file as UTF-8.

    Raises
    ------
    ValueError
        If the numbers of analyses, texts and sources differ, or a sentence's
        offsets do not match its text (the analysis was made from another text).
    TypeError
        If one analysis is given with a list of texts, or the reverse.

    Examples
    --------
    >>> from propdetect import Analysis, Sentence
    >>> text = "Traitors! <b>Rain</b> tomorrow."
    >>> s = Sentence("Traitors!", 0, 9, ("name_calling_labeling",),
    ...              {"name_calling_labeling": 0.9}, {"name_calling_labeling": [(0, 8)]})
    >>> page = render_html(Analysis((s,)), text, "doc.txt")
    >>> page.startswith("<!doctype html>")
    True
    >>> "&lt;b&gt;Rain&lt;/b&gt;" in page and "<script" not in page
    True
    >>> page = render_html(Analysis((s,)), text, "doc.txt", errors=[("gone.txt", "no such file")])
    >>> "1 input could not be read" in page and "no such file" in page
    True
    """
    docs = _as_docs(analyses, texts, sources)
    errors = _as_errors(errors)
    heading = title or "propdetect report"
    if title is None and len(docs) == 1:
        title = f"propdetect report: {docs[0].source}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="propdetect {_esc(__version__)}">',
        f"<title>{_esc(title or heading)}</title>",
        f"<style>{_CSS}{_palette_css()}\n</style></head><body>",
        f"<header><h1>{_esc(heading)}</h1>",
    ]
    if len(docs) != 1 or errors:
        unread = f' (and {len(errors)} input{"s" * (len(errors) != 1)} that could not be read)' if errors else ""
        parts.append(f'<p class="lede">{len(docs)} document{"s" * (len(docs) != 1)}{unread}: '
                     f'{_summary([d.analysis for d in docs])}</p>')
    made_with = f" Model: {_esc(model)}." if model else ""
    parts.append('<p class="muted">Propaganda techniques found sentence by sentence. A highlight is a lead '
                 'for a reader to check, not a verdict. <a href="#techniques">What the techniques are</a>.'
                 f"{made_with}</p></header>")
    if len(docs) > 1:
        parts.append(_index(docs))
    elif not docs:
        parts.append(f'<p class="summary">No documents{" could be read" if errors else ""}.</p>')
    if errors:
        parts.append(_unread(errors))
    parts.extend(_section(d) for d in docs)
    parts.append(_legend())
    made_by = f"propdetect {__version__}" + (f", model {model}" if model else "")
    parts.append(f"<footer>Made by {_esc(made_by)}. Scores are the model's calibrated probabilities "
                 "for each technique.</footer>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
