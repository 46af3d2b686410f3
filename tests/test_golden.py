"""Outputs of ``detect`` with the bundled model are those saved in
``tests/data/golden_detect.json``, bit for bit (scores included).

Speed work on splitting, features, evidence and result building must not move
any output; this is what says so. See ``tests/make_golden.py`` for what the file
holds and how to regenerate it after a deliberate change (e.g. a retrained model).
"""

from __future__ import annotations

import json

import pytest

from . import make_golden as mg

REGENERATE = "regenerate it with `python tests/make_golden.py` (and say why in the commit)"


@pytest.fixture(scope="module")
def golden() -> dict:
    if not mg.GOLDEN.is_file():
        pytest.fail(f"{mg.GOLDEN} is missing: {REGENERATE}")
    data = json.loads(mg.GOLDEN.read_text(encoding="utf-8"))
    key = mg.model_key()
    if data["model_digest"] != key["model_digest"]:
        pytest.fail(f"the golden outputs were made with model {data['model_version']} "
                    f"({data['model_digest']}) but the bundled model is {key['model_version']} "
                    f"({key['model_digest']}): if the model changed on purpose, {REGENERATE}")
    return data["outputs"]


@pytest.fixture(scope="module")
def runs() -> dict:
    return mg.variants()


def _mismatch(where: str, variant: str) -> str:
    return f"{where} [{variant}]: detect's output differs from the golden file"


def test_hand_written(golden: dict, runs: dict) -> None:
    texts = mg.hand_written()
    assert sorted(texts) == sorted(golden["hand_written"]), f"the set of texts changed: {REGENERATE}"
    for name, text in texts.items():
        for variant, detect in runs.items():
            want = golden["hand_written"][name][variant]
            got = mg.canonical(detect(text))
            if mg.digest(got) != want["sha256"]:
                # the readable difference first, then the bit-level one
                assert json.loads(got) == want["output"], _mismatch(name, variant)
                pytest.fail(_mismatch(name, variant) + " in the last bits of a float")


def test_generated(golden: dict, runs: dict) -> None:
    texts = mg.generated()
    assert sorted(texts) == sorted(golden["generated"]), f"the set of texts changed: {REGENERATE}"
    bad = [f"{name} [{v}]" for name, text in texts.items() for v, detect in runs.items()
           if mg.digest(mg.canonical(detect(text))) != golden["generated"][name][v]]
    assert not bad, f"detect's output differs from the golden file for {bad}"


def test_corpus(golden: dict, runs: dict) -> None:
    files = list(mg.corpus_files())
    if not files:
        pytest.skip(f"corpus not available: {mg.SHARED_DATA}")
    if not golden["corpus"]:
        pytest.skip("the golden file was made without the corpus")
    assert sorted(n for n, _ in files) == sorted(golden["corpus"]), \
        f"the corpus files read differ from the golden file's: {REGENERATE}"
    bad = []
    for name, path in files:
        text = path.read_bytes().decode("utf-8")
        for v, detect in runs.items():
            if mg.digest(mg.canonical(detect(text))) != golden["corpus"][name][v]:
                bad.append(f"{name} [{v}]")
    assert not bad, f"detect's output differs from the golden file for {len(bad)} article runs: {bad[:10]}"
