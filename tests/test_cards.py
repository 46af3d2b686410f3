"""The model cards of the bundled models: their sections, the command that prints them, and their figures."""

from __future__ import annotations

import json
import re

import pytest

import propdetect
from propdetect._cards import model_card
from propdetect.cli import main
from tests.conftest import ROOT, shared_data


MITCHELL = ("## Model details", "## Intended use", "## Training data", "## Evaluation data and metrics",
            "## Quantitative analyses", "## Known failure modes", "## Ethical considerations",
            "## Caveats and recommendations")


@pytest.mark.parametrize("name,version", [("fast", "ptc2020-2026-11-30"), ("accurate", "accurate-2026-12-04")])
def test_each_bundled_model_has_a_card(name, version, capsys):
    card = model_card(name)
    assert [h for h in MITCHELL if h in card] == list(MITCHELL)
    assert "Not fit for" in card and "ban" in card and "not English news" in card
    det = propdetect.Detector.load(name)
    assert det.metadata["model_version"] == version and f"`{version}`" in card  # the card names the model it describes
    assert main(["techniques", "--card", "--model", name]) == 0
    assert capsys.readouterr().out == card
    # the documentation site shows the same file
    assert (ROOT / "docs" / "models" / f"{name}.md").read_text(encoding="utf-8").strip() == \
        f'--8<-- "propdetect/cards/{name}.md"'


def test_card_of_the_default_model_and_of_a_model_folder(tiny_detector, tmp_path, capsys):
    assert main(["techniques", "--card"]) == 0
    assert capsys.readouterr().out == model_card("fast")
    tiny_detector.save(tmp_path / "m")
    assert main(["techniques", "--card", "--model", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    meta = json.loads((tmp_path / "m" / "metadata.json").read_text(encoding="utf-8"))
    assert "No written card" in out and meta["training_data"]["digest"] in out
    assert ", ".join(tiny_detector.techniques) in out


def test_card_errors_are_one_line(tmp_path, capsys):
    assert main(["techniques", "--card", "--model", str(tmp_path / "nothing")]) == 2
    assert "no such model folder" in capsys.readouterr().err
    assert main(["techniques", "--card", "--thresholds"]) == 2
    assert "one of them" in capsys.readouterr().err


def test_the_cards_ship_in_the_wheel_list():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"cards/*.md"' in pyproject
    assert sorted(p.name for p in (ROOT / "propdetect" / "cards").glob("*.md")) == ["accurate.md", "fast.md"]


def _table_rows(text: str, first: str) -> dict[str, list[float]]:
    """Rows of the Markdown table whose header starts with ``| first |``: first cell -> the numbers."""
    start = text.index(f"| {first} |")
    rows = {}
    for line in text[start:].split("\n")[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = [float(c) for c in cells[1:] if re.fullmatch(r"[\d.]+", c)]
    return rows


@pytest.mark.parametrize("name", ["fast", "accurate"])
def test_the_cards_dev_figures_are_what_the_model_scores(name):
    """The card's PTC-2020 dev tables against a fresh evaluation (what `propdetect evaluate` computes)."""
    from propdetect._corpus import read_ptc
    from propdetect._evaluate import evaluate_detector

    ptc = shared_data("ptc")
    docs, _ = read_ptc(ptc / "dev-articles", ptc / "dev-task-flc-tc.labels")
    result = evaluate_detector(propdetect.Detector.load(name), docs)
    card = model_card(name)
    summary = next(v for k, v in _table_rows(card, "system").items() if k.startswith(f"propdetect ({name}")
                   or (name == "fast" and k == "propdetect (ptc2020)"))
    want = [result[k] for k in ("micro_f1", "macro_f1", "binary_precision", "binary_recall", "binary_f1")]
    assert summary == pytest.approx(want, abs=0.0006)
    per = _table_rows(card, "technique")
    assert len(per) == 14
    for tech, (p, r, f1, support) in per.items():
        got = result["per_technique"][tech]
        assert [p, r, f1, support] == pytest.approx([got["precision"], got["recall"], got["f1"], got["support"]],
                                                    abs=0.0006), tech
    inside = re.search(r"([\d.]+) of the evidence characters lie inside a\s+gold span", card)
    assert float(inside.group(1)) == pytest.approx(result["evidence"]["inside_gold"], abs=0.0006)
