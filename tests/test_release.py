"""The release: one version number, ``python -m propdetect``, ``--version``, licence and changelog."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import pytest

import propdetect
from propdetect.cli import main, version_text
from tests.conftest import ROOT

BUNDLED_VERSION = json.loads((ROOT / "propdetect" / "models" / "ptc2020" / "metadata.json")
                             .read_text(encoding="utf-8"))["model_version"]
ACCURATE_VERSION = json.loads((ROOT / "propdetect" / "models" / "accurate" / "metadata.json")
                              .read_text(encoding="utf-8"))["model_version"]


def _version_line() -> str:
    from propdetect._detector import DEFAULT_MODEL

    return (f"propdetect {propdetect.__version__} (models: fast {BUNDLED_VERSION}, accurate {ACCURATE_VERSION}; "
            f"default {DEFAULT_MODEL})")


def test_version_is_set_in_one_place():
    assert re.fullmatch(r"\d+\.\d+\.\d+", propdetect.__version__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "propdetect.__version__"}
    # no other file of the package spells the number out
    for path in (ROOT / "propdetect").rglob("*.py"):
        if path.name != "__init__.py":
            assert f'"{propdetect.__version__}"' not in path.read_text(encoding="utf-8"), path


def test_version_option_names_the_package_and_the_bundled_models(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == _version_line() + "\n"


def test_version_reads_the_metadata_not_the_weights(monkeypatch):
    import propdetect._detector as d
    import propdetect._persist as p

    def refuse(*_a, **_k):
        raise AssertionError("--version must not load the model")

    monkeypatch.setattr(d, "read_model", refuse)
    monkeypatch.setattr(p, "read_model", refuse)
    monkeypatch.setattr(d, "_cache", {})
    assert version_text() == _version_line()
    assert d._cache == {}


def test_python_dash_m_is_the_command_line():
    out = subprocess.run([sys.executable, "-m", "propdetect", "--version"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == _version_line()
    out = subprocess.run([sys.executable, "-m", "propdetect", "techniques"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.splitlines()[0].startswith("loaded_language\t")
    bad = subprocess.run([sys.executable, "-m", "propdetect", "no-such-command"], capture_output=True, text=True,
                         cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("usage: propdetect ")


def test_licence():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in licence
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"


def test_the_docs_say_what_the_bundled_model_was_trained_on_and_under_what_terms():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    short = " ".join(readme[readme.index("## Data and licences"):].split())
    for phrase in ("MIT", "PTC-2020", "states no licence", "do not redistribute", "Da San Martino"):
        assert phrase in short, phrase
    section = (ROOT / "docs" / "data-and-licences.md").read_text(encoding="utf-8")
    meta = json.loads((ROOT / "propdetect" / "models" / "ptc2020" / "metadata.json").read_text(encoding="utf-8"))
    assert f"{meta['training_data']['documents']} English news articles" in section
    assert f"{meta['training_data']['sentences']:,} sentences" in section
    for phrase in ("MIT", "PTC-2020", "states no licence", "do not redistribute", "Da San Martino"):
        assert phrase in section, phrase


def test_changelog_has_this_release_and_the_previous_one():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.M)
    assert [v for v, _ in releases[:1]] == [propdetect.__version__]  # the newest entry is this version
    assert "0.1.0" in [v for v, _ in releases]
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{propdetect.__version__}]")
