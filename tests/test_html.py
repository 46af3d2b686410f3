"""The HTML report: structure, escaping, offsets, self-containment and the CLI's --format html."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import propdetect
from propdetect import TECHNIQUES, Analysis, Sentence, render_html
from propdetect.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "kursk-region.txt"

VOID = {"meta", "link", "br", "img", "input", "hr", "wbr", "source", "col", "area", "base", "embed"}
# Every element the report may contain: anything else came from an article and was not escaped.
ALLOWED = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "a", "nav",
    "table", "thead", "tbody", "tr", "th", "td", "section", "figure", "figcaption", "svg", "g", "text",
    "rect", "div", "span", "mark", "dl", "dt", "dd", "code", "footer",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)
    start: int = -1  # offset of the node's first character in the article text (inside .article only)
    end: int = -1

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, skip_class: str | None = None) -> str:
        out = []
        for c in self.children:
            if isinstance(c, str):
                out.append(c)
            elif skip_class is None or skip_class not in c.classes:
                out.append(c.text(skip_class))
        return "".join(out)

    def iter(self):  # noqa: ANN201
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def ancestors(self):  # noqa: ANN201
        n = self.parent
        while n is not None:
            yield n
            n = n.parent


class TreeBuilder(HTMLParser):
    """A strict little DOM: fails on unbalanced tags, records article-text offsets.

    Offsets count the characters of the ``.article`` div, leaving out the ``.tags``
    labels inserted after flagged sentences, so they index the original text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.cur = self.root
        self.pos = -1  # -1 outside the article

    def _in(self, cls: str) -> bool:
        return any(cls in a.classes for a in [self.cur, *self.cur.ancestors()])

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        node = Node(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if "article" in node.classes:
            self.pos = 0
        node.start = self.pos
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.cur.end = self.pos
            self.cur = self.cur.parent

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        assert self.cur.tag == tag, f"</{tag}> closes <{self.cur.tag}>"
        self.cur.end = self.pos
        if "article" in self.cur.classes:
            self.pos = -1
        self.cur = self.cur.parent

    def handle_data(self, data):  # noqa: ANN001, ANN201
        self.cur.children.append(data)
        if self.pos >= 0 and not self._in("tags"):
            self.pos += len(data)


def parse(page: str) -> Node:
    b = TreeBuilder()
    b.feed(page)
    b.close()
    assert b.cur is b.root, f"unclosed <{b.cur.tag}>"
    return b.root


def check_page(page: str, texts: list[str], analyses: list[Analysis]) -> Node:
    """Assertions every report must pass; returns the parsed tree."""
    assert page.startswith("<!doctype html>")
    root = parse(page)
    tags = {n.tag for n in root.iter()} - {"#root"}
    assert tags <= ALLOWED, f"unexpected elements {tags - ALLOWED}"
    for n in root.iter():
        assert not any(k.startswith("on") for k in n.attrs), n.attrs
        for k in ("href", "src", "xlink:href", "action"):
            if k in n.attrs:
                assert n.attrs[k].startswith("#"), f"{k}={n.attrs[k]!r} leaves the page"
    assert "<script" not in page.lower()
    assert not re.search(r"https?:", page.replace("&lt;", "<")) or any("http" in t for t in texts)
    assert "default-src 'none'" in page  # the CSP forbids any remote resource or script

    articles = root.find_all("div", "article")
    assert len(articles) == len(texts)
    for art, text, analysis in zip(articles, texts, analyses, strict=True):
        # the text as written: the article minus the inserted labels is exactly the input
        assert art.text(skip_class="tags") == text
        spans = {(int(n.attrs["data-start"]), int(n.attrs["data-end"])): n for n in art.find_all("span", "sent")}
        assert set(spans) == {(s.start, s.end) for s in analysis.flagged}
        for s in analysis.flagged:
            node = spans[(s.start, s.end)]
            assert (node.start, node.end) == (s.start, s.end)
            assert node.text() == s.text
            assert node.attrs["data-techniques"].split() == list(s.techniques)
            label = node.parent.children[node.parent.children.index(node) + 1]
            assert isinstance(label, Node) and "tags" in label.classes
            for t in s.techniques:
                shown = f"{propdetect.technique(t).name} {s.scores[t]:.2f}"
                assert shown in node.attrs["title"]  # on hover
                assert shown in label.text()  # and visible, in print too
            # evidence: marked characters == the union of the evidence spans, all inside the sentence
            want = {i for t in s.techniques for a, b in s.evidence.get(t, ()) for i in range(a, b)}
            got = set()
            for m in node.find_all("mark", "ev"):
                assert s.start <= m.start < m.end <= s.end
                assert m.text() == text[m.start : m.end]
                got.update(range(m.start, m.end))
            assert got == want
        marks = art.find_all("mark")
        assert all(any("sent" in a.classes for a in m.ancestors()) for m in marks)
    return root


def sent(text: str, start: int, end: int, techs: dict[str, float], evidence: dict | None = None) -> Sentence:
    assert text[start:end]
    return Sentence(text[start:end], start, end, tuple(techs), techs, evidence or {})


HOSTILE = (
    "Traitors <script>alert(1)</script> rule us!\n"
    "Calm weather & \"quiet\" 'days'.\n\n"
    "They hide \"><img src=x onerror=alert(1)> here & <!-- there -->.\n"
)


def hostile_analysis() -> Analysis:
    t = HOSTILE
    a0, b0 = 0, t.index("\n")
    a1 = t.index("Calm")
    b1 = t.index("\n", a1)
    a2 = t.index("They")
    b2 = len(t) - 1
    script = t.index("<script>")
    img = t.index("\"><img")
    return Analysis((
        sent(t, a0, b0, {"name_calling_labeling": 0.91, "loaded_language": 0.4},
             {"name_calling_labeling": [(0, 8)], "loaded_language": [(0, 8), (script, script + 8)]}),
        sent(t, a1, b1, {}),
        sent(t, a2, b2, {"doubt": 0.55}, {"doubt": [(img, img + 10), (a2, a2 + 4)]}),
    ))


def test_hostile_article_renders_as_text():
    page = render_html(hostile_analysis(), HOSTILE, '<script>x</script>"src.txt')
    root = check_page(page, [HOSTILE], [hostile_analysis()])
    assert "&lt;script&gt;" in page and "alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img" in page and "=x onerror=alert(1)&gt;" in page
    assert not root.find_all("img") and not root.find_all("script")
    h2 = root.find_all("h2")[0]
    assert h2.text() == '<script>x</script>"src.txt'


def test_overlapping_evidence_is_flat_and_names_every_technique():
    page = render_html(hostile_analysis(), HOSTILE)
    root = parse(page)
    first = root.find_all("span", "sent")[0]
    marks = first.find_all("mark")
    assert marks[0].text() == "Traitors"
    assert "Name calling, labeling" in marks[0].attrs["title"] and "Loaded language" in marks[0].attrs["title"]
    assert not any(m.find_all("mark")[1:] for m in marks)  # no mark nested in a mark


def test_unflagged_text_is_plain_and_line_breaks_survive():
    page = render_html(hostile_analysis(), HOSTILE)
    art = parse(page).find_all("div", "article")[0]
    assert "\n\n" in art.text()
    assert "white-space:pre-wrap" in page
    calm = [n for n in art.find_all("span", "sent") if "Calm" in n.text()]
    assert not calm


def test_legend_chart_and_summary():
    analysis = hostile_analysis()
    page = render_html(analysis, HOSTILE, "a.txt")
    root = parse(page)
    legend = root.find_all("dl", "legend")[0]
    assert [n.attrs["id"] for n in legend.find_all("dt")] == [f"tech-{t.id}" for t in TECHNIQUES]
    dds = [n.text() for n in legend.find_all("dd")]
    assert dds == [t.definition for t in TECHNIQUES]
    # every label links to its legend entry
    ids = {n.attrs["id"] for n in root.iter() if "id" in n.attrs}
    assert all(a.attrs["href"][1:] in ids for a in root.find_all("a"))
    # chart: one row per technique, one bar per technique found, counts as text
    svg = root.find_all("svg")[0]
    rows = svg.find_all("g")
    assert len(rows) == len(TECHNIQUES)
    assert len(svg.find_all("rect")) == len(analysis.technique_counts()) == 3
    doubt = next(g for g in rows if g.find_all("title")[0].text().startswith("Doubt:"))
    assert doubt.find_all("title")[0].text() == "Doubt: 1 of 3 sentences"
    assert "1 (33%)" in doubt.text()
    summary = root.find_all("p", "summary")[0].text()
    assert summary.startswith("3 sentences, 2 flagged (67%). Top techniques: ")
    assert "Doubt (1)" in summary
    assert root.find_all("title")[0].text() == "propdetect report: a.txt"


def test_several_documents_get_sections_and_an_index(tiny_detector, tiny_docs):
    texts = [d.text for d in tiny_docs[:3]]
    analyses = tiny_detector.detect_many(texts)
    names = ["one.txt", "two.txt", "three <3>.txt"]
    page = render_html(analyses, texts, names)
    root = check_page(page, texts, analyses)
    sections = root.find_all("section", "doc")
    assert [s.find_all("h2")[0].text() for s in sections] == names
    links = root.find_all("nav")[0].find_all("a")
    assert [a.attrs["href"] for a in links] == [f"#{s.attrs['id']}" for s in sections]
    assert [a.text() for a in links] == names
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    assert sum(len(a.flagged) for a in analyses) > 0  # the tiny model does flag its own training text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*"ab <>&\"'\n.!?", "traitors ", "flag ", "évil ", "🙂", "\r\n"]),
                max_size=60).map("".join))
def test_any_text_round_trips(tiny_detector, text):
    analysis = tiny_detector.detect(text)
    check_page(render_html(analysis, text), [text], [analysis])


def test_seed_article_with_the_bundled_model():
    text = SEED.read_text(encoding="utf-8")
    analysis = propdetect.detect(text)
    page = render_html(analysis, text, "kursk-region.txt")
    check_page(page, [text], [analysis])


def test_no_documents_is_still_a_page():
    page = render_html([], [])
    assert "No documents." in page and page.rstrip().endswith("</html>")
    parse(page)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((hostile_analysis(), [HOSTILE]), TypeError, "one str"),
        (([hostile_analysis()], HOSTILE), TypeError, "list of texts"),
        (([hostile_analysis()], [HOSTILE], "a.txt"), TypeError, "list of sources"),
        (([hostile_analysis()], [HOSTILE, HOSTILE]), ValueError, "1 analyses but 2 texts"),
        (([hostile_analysis()], [HOSTILE], ["a", "b"]), ValueError, "1 analyses but 2 sources"),
        ((hostile_analysis(), HOSTILE.upper(), "up.txt"), ValueError, "up.txt: sentence .0:"),
        (([HOSTILE], [HOSTILE]), TypeError, "expected an Analysis"),
    ],
)
def test_bad_arguments_say_what_to_pass(args, error, match):
    with pytest.raises(error, match=match):
        render_html(*args)


def test_evidence_outside_its_sentence_is_refused():
    t = "One two. Three four."
    bad = Analysis((sent(t, 0, 8, {"doubt": 0.9}, {"doubt": [(9, 14)]}),))
    with pytest.raises(ValueError, match=r"evidence \[9:14\] of doubt lies outside"):
        render_html(bad, t)


# -- the command line ------------------------------------------------------------
def test_cli_writes_one_page_for_all_inputs(tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("Traitors <b>and</b> thugs!\nThe council meets on Tuesday.\n", encoding="utf-8")
    out = tmp_path / "report.html"
    status = main(["analyze", str(SEED), str(other), "--format", "html", "-o", str(out)])
    assert status == 0
    page = out.read_text(encoding="utf-8")
    root = parse(page)
    assert [s.find_all("h2")[0].text() for s in root.find_all("section", "doc")] == [str(SEED), str(other)]
    assert page.count("<!doctype html>") == 1
    assert not root.find_all("b")
    assert root.find_all("div", "article")[1].text(skip_class="tags").startswith("Traitors <b>and</b> thugs!\n")
    assert "model " in root.find_all("footer")[0].text()
    assert capsys.readouterr().out == ""


def test_cli_html_to_stdout_and_a_missing_input(tmp_path, capsys):
    status = main(["analyze", str(SEED), str(tmp_path / "missing.txt"), "--format", "html"])
    captured = capsys.readouterr()
    assert status == 1
    assert "missing.txt: no such file" in captured.err
    assert captured.out.startswith("<!doctype html>")
    assert len(parse(captured.out).find_all("section", "doc")) == 1


# -- inputs that could not be read (issue 12) --------------------------------------
def test_inputs_that_could_not_be_read_are_on_the_page(tmp_path, capsys, tiny_detector):
    model = str(tiny_detector.save(tmp_path / "m"))
    good = tmp_path / "good.txt"
    good.write_text("Traitors and thugs!\nThe council meets on Tuesday.\n", encoding="utf-8")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 <b>cr\xe8me</b>.".encode("latin-1"))
    status = main(["analyze", "--model", model, "--format", "html", str(tmp_path / "missing.txt"), str(good),
                   str(latin), "-o", str(tmp_path / "r.html")])
    assert status == 1
    root = parse((tmp_path / "r.html").read_text(encoding="utf-8"))
    unread = root.find_all("section", "unread")[0]
    assert unread.find_all("h2")[0].text() == "2 inputs could not be read"
    rows = [[td.text() for td in tr.find_all("td")] for tr in unread.find_all("tbody")[0].find_all("tr")]
    assert rows[0] == [str(tmp_path / "missing.txt"), "no such file"]
    assert rows[1][0] == f"{latin}:1" and "not valid utf-8" in rows[1][1] and "--encoding" in rows[1][1]
    assert [s.find_all("h2")[0].text() for s in root.find_all("section", "doc")] == [str(good)]
    assert "1 document (and 2 inputs that could not be read)" in root.find_all("p", "lede")[0].text()
    capsys.readouterr()


def test_a_run_where_nothing_could_be_read_says_so():
    page = render_html([], [], errors=[("a.txt", "no such file")])
    root = parse(page)
    assert "No documents could be read." in page
    assert root.find_all("section", "unread")[0].find_all("td")[1].text() == "no such file"
    with pytest.raises(TypeError, match="errors item 1"):
        render_html([], [], errors=["a.txt: no such file"])
