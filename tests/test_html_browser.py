"""The HTML report in a real browser: headless Chromium renders it, we read back the DOM and a screenshot.

Skips (with the reason) where no Chromium is installed: ``apt-get install chromium`` on
Debian, or point ``PROPDETECT_CHROMIUM`` at a Chromium/Chrome binary. ``.ci/run``
installs it when it can.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

import propdetect
from propdetect import Analysis, Sentence, render_html

SEED = Path(__file__).resolve().parents[1] / "seeds" / "kursk-region.txt"
HOSTILE = (
    "Quiet opening line.\n"
    "Traitors wrote <script>document.title='pwned';alert(1)</script> here!\n"
    "A caption \"><img src=x onerror=alert(2)> ends.\n"
)
# Headless, offline, no profile state: nothing may reach the network while the page loads.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)
TIMEOUT = 90  # seconds per browser run; a cold start takes ~2 s here


def find_chromium() -> str | None:
    env = os.environ.get("PROPDETECT_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, exe: str, workdir: Path) -> None:
        self.exe, self.workdir, self.runs = exe, workdir, 0
        self.blank_png = b""

    def run(self, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        profile = self.workdir / f"profile{self.runs}"
        cmd = [self.exe, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)

    def dump_dom(self, page: Path) -> str:
        proc = self.run(page, "--dump-dom")
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Browser:
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium not found (apt-get install chromium, or set PROPDETECT_CHROMIUM); "
                    "the browser test of the HTML report did not run")
    work = tmp_path_factory.mktemp("chromium")
    b = Browser(exe, work)
    # Probe: screenshot an empty page. It tells whether this Chromium runs at all (if not,
    # skip: that is the machine, not the report) and calibrates the "blank" measure below.
    probe, shot = work / "blank.html", work / "blank.png"
    probe.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    try:
        proc = b.run(probe, f"--screenshot={shot}", "--window-size=1000,1800")
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{exe} cannot run here ({exc}); the browser test of the HTML report did not run")
    if proc.returncode != 0 or not shot.exists():
        pytest.skip(f"{exe} cannot render a page here (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    b.blank_png = shot.read_bytes()
    return b


def hostile_analysis() -> Analysis:
    a = HOSTILE.index("Traitors")
    b = HOSTILE.index("\n", a)
    c = HOSTILE.index("A caption")
    d = HOSTILE.index("\n", c)
    script = HOSTILE.index("<script>")
    return Analysis((
        Sentence(HOSTILE[:a - 1], 0, a - 1),
        Sentence(HOSTILE[a:b], a, b, ("name_calling_labeling",), {"name_calling_labeling": 0.8},
                 {"name_calling_labeling": [(a, a + 8), (script, script + 8)]}),
        Sentence(HOSTILE[c:d], c, d, ("doubt",), {"doubt": 0.6}, {"doubt": [(c + 10, c + 16)]}),
    ))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[Analysis], list[str]]:
    seed = SEED.read_text(encoding="utf-8")
    analyses = [propdetect.detect(seed), hostile_analysis()]
    texts = [seed, HOSTILE]
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(analyses, texts, ["kursk-region.txt", "hostile.txt"]), encoding="utf-8")
    return path, analyses, texts


@pytest.fixture(scope="module")
def dom(browser, report) -> DomReader:
    """The report's DOM as Chromium built it (one browser run for the tests that read it)."""
    return read_dom(browser.dump_dom(report[0]))


class DomReader(HTMLParser):
    """Collects every element name, the page's text, and the text of each ``span.sent``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.sentences: list[str] = []
        self._stack: list[str] = []  # tag names, to know when a sentence span closes
        self._open: list[int] = []  # stack depths at which sentence spans opened

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.tags.append(tag)
        if tag in ("meta", "link", "br", "img", "input", "hr"):
            return
        self._stack.append(tag)
        if tag == "span" and "sent" in (dict(attrs).get("class") or "").split():
            self._open.append(len(self._stack))
            self.sentences.append("")

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        if self._open and self._open[-1] == len(self._stack):
            self._open.pop()
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):  # noqa: ANN001, ANN201
        if "style" in self._stack or "title" in self._stack[-1:]:
            return
        self.text.append(data)
        if self._open:
            self.sentences[-1] += data


def read_dom(dom: str) -> DomReader:
    r = DomReader()
    r.feed(dom)
    r.close()
    return r


def test_page_is_not_blank_and_every_flagged_sentence_is_rendered(dom, report):
    _, analyses, _ = report
    body = " ".join("".join(dom.text).split())
    assert "propdetect report" in body and "The techniques" in body
    assert len(body) > 3000
    flagged = [s.text for a in analyses for s in a.flagged]
    assert len(flagged) >= 2  # at least the two of the hostile article
    assert dom.sentences == flagged
    assert dom.tags.count("svg") == 2  # one chart per document
    assert dom.tags.count("section") == 3  # two documents and the legend


def test_script_in_an_article_is_text_not_code(dom):
    assert "script" not in dom.tags and "img" not in dom.tags
    text = "".join(dom.text)
    assert "Traitors wrote <script>document.title='pwned';alert(1)</script> here!" in text
    assert "\"><img src=x onerror=alert(2)> ends." in text
    assert "pwned" not in "".join(dom.tags)


def png_size_and_ink(png: bytes) -> tuple[int, int, float]:
    """Width, height and the share of filtered pixel bytes that are neither 0 nor 255.

    A blank page filters to (almost) only 0 and 255 bytes; anti-aliased text and
    coloured highlights give many other values.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    ink = sum(1 for b in raw if b not in (0, 255)) / max(len(raw), 1)
    return width, height, ink


def test_screenshot_shows_the_report(browser, report, tmp_path):
    path, _, _ = report
    shot = tmp_path / "report.png"
    proc = browser.run(path, f"--screenshot={shot}", "--window-size=1000,1800")
    assert proc.returncode == 0, proc.stderr[-2000:]
    width, height, ink = png_size_and_ink(shot.read_bytes())
    assert (width, height) == (1000, 1800)
    blank_ink = png_size_and_ink(browser.blank_png)[2]
    # measured here: 5% for the seed report, 0.03% for an empty page
    assert blank_ink < 0.01 < ink, f"the screenshot looks blank ({ink:.2%} ink; empty page {blank_ink:.2%})"
