"""The documentation site's generated parts (CLI and API references), its navigation, and the README's figures."""

from __future__ import annotations

import importlib.util
import re

import pytest

from propdetect._cards import model_card
from propdetect.cli import build_parser
from tests.conftest import ROOT


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_names_every_command_and_option():
    text = _hooks().cli_reference()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(sub.choices) >= {"analyze", "train", "evaluate", "techniques", "label-studio-config", "suggest"}
    for name, p in sub.choices.items():
        assert f"## propdetect {name}" in text
        for action in p._actions:
            for option in action.option_strings if action.dest != "help" else ():
                assert f"`{option}`" in text, option
    assert "`--card`" in text and "`--version`" in text


def test_the_api_page_documents_every_public_name():
    hooks = _hooks()
    page = (ROOT / "docs" / "reference" / "api.md").read_text(encoding="utf-8")
    assert hooks.undocumented(page) == []
    assert hooks.undocumented(page.replace("::: propdetect.read_csv\n", "")) == ["read_csv"]  # the check can fail


def test_every_public_name_has_a_docstring():
    pytest.importorskip("griffe", reason="griffe comes with the docs extra: pip install '.[docs]'")
    assert _hooks().without_docstring(str(ROOT)) == []


def test_the_nav_and_the_pages_agree():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def paths(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from paths(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from paths(value)

    nav = list(paths(config["nav"]))
    pages = sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(nav) == pages
    # the stubs the lead fills at merge time (issues 21, 22, 24)
    assert {"guides/faults.md", "guides/annotation.md", "reference/versions.md"} <= set(nav)


def test_the_readme_accuracy_table_agrees_with_the_model_cards():
    from tests.test_cards import _table_rows

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = _table_rows(readme, "model (measured)")
    for name in ("fast", "accurate"):
        row = next(v for k, v in rows.items() if k.startswith(f"{name}`"))
        card = model_card(name)
        summary = next(v for k, v in _table_rows(card, "system").items()
                       if k in (f"propdetect ({name})", "propdetect (ptc2020)" if name == "fast" else ""))
        inside = re.search(r"([\d.]+) of the evidence characters lie inside a\s+gold span", card)
        assert row == summary + [float(inside.group(1))], name
