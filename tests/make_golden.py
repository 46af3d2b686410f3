"""Golden outputs of ``Detector.detect`` with the bundled model, to check that
speed work leaves every output bit for bit as it was.

``tests/data/golden_detect.json`` holds, for each text and each of three ways
of running the bundled model (see :func:`variants`), the SHA-256 of the
canonical JSON of ``Analysis.to_dict()`` (floats written by ``repr``, so a
score that moves by one ulp changes the hash), and for the short hand-written
texts the JSON itself, so that a failure shows what changed. Corpus articles
(PTC-2020 and NLP4IF-2019 under ``../shared/data``, which may not be
redistributed) are stored as a hash per article and file name, never as text.

The file is keyed to the bundled model's digest. After a change of the bundled
model (retraining), or a deliberate change of the outputs, regenerate it with
the code whose outputs are the reference::

    python tests/make_golden.py            # writes tests/data/golden_detect.json

and commit it with the change, saying why the outputs moved.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden_detect.json"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT / "seeds" / "kursk-region.txt"

#: Corpus folders read, relative to ``../shared/data``, and which of their files:
#: every article (``step`` 1) or every ``step``-th one in name order.
CORPUS = (("ptc/dev-articles", 1), ("ptc/test-articles", 1), ("ptc/train-articles", 8),
          ("nlp4if2019/dev-articles", 4))


def _seed() -> str:
    return SEED.read_bytes().decode("utf-8")


def hand_written() -> dict[str, str]:
    """Short texts for the edge cases of splitting, tokenising and evidence."""
    return {
        "empty": "",
        "whitespace": " \t\n\r\n  \u2028 \n",
        "one_word": "Traitors",
        "no_punctuation": "they are very cruel they don't spare anyone and the regime lies every day",
        "cruel": "They are very cruel, they don't spare anyone.",
        "abbreviations": ("Dr. Smith met Mr. J. F. Kennedy Jr. at 5 p.m. in Washington, D.C. on Jan. 3. "
                          "The U.S. Sen. said no. 4 was e.g. fine, i.e. not a disaster."),
        "quotes": ('"These traitors are destroying our great nation!" he shouted. \u201cWhy?\u201d '
                   "she asked. \u00abNever!\u00bb 'Is it true?' Well\u2026 They said: \"It is what it is.\""),
        "crlf": "Breaking news.\r\nThey are very cruel!\r\n\r\nThe evil regime lies.\rA lone CR line.\r\n",
        "unicode": ("Der Hund ist nicht auf dem Dach. \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440! "
                    "Caf\u00e9 na\u00efve \u00fcber \u2014 they\u2019re CRUEL!! In 2024? \u4e2d\u6587\u6587\u672c\u3002 "
                    "\U0001f600 emoji \u2028 line sep \u2029 para sep \u00a0non-breaking space."),
        "digits_caps": "THE CORRUPT ELITE stole 1,000,000 dollars in 2019!!! WAKE UP, AMERICA?!",
        "function_words": "It is what it is, and that is that, as it was and will be.",
        "repetition": ("Stop the steal. Stop the steal! We will stop the steal, stop the steal.\n"
                       "Stop the steal and stop the lies."),
        "long_sentence": ("The corrupt and evil regime " + "and its shameless lying puppets " * 60
                          + "will destroy everything we love."),
        "ellipsis_and_brackets": "He paused... (Then he left.) [It was over.] And yet? No! Yes?! Fine\u2026 Done.",
    }


def generated() -> dict[str, str]:
    """Longer texts built from the seed, stored by hash only: the paths for long
    documents (more than 2,048 sentences, scored in blocks), long lines (more than
    5,000 characters, split without pysbd) and over-long runs (cut at 100,000
    characters)."""
    seed = _seed()
    lines = [ln for ln in seed.splitlines() if ln.strip()]
    return {
        "seed": seed,
        "seed_one_line": " ".join(lines),
        "seed_x80": "\n".join(f"{i}. {ln}" for i in range(80) for ln in lines),
        "unpunctuated_run": ("word " * 30_000 + "evil traitors " * 5_000).strip(),
    }


def corpus_files() -> Iterator[tuple[str, Path]]:
    """``(name, path)`` of the corpus articles that exist (none without ``../shared``)."""
    for folder, step in CORPUS:
        d = SHARED_DATA / folder
        if d.is_dir():
            for p in sorted(d.glob("*.txt"))[::step]:
                yield f"{folder}/{p.name}", p


def variants() -> dict[str, Callable[[str], object]]:
    """The ways of running the bundled model, each a ``detect`` function:

    * ``bundled``: as shipped (token-model evidence);
    * ``low_thresholds``: every threshold at 0.05, so that nearly every sentence
      is flagged with several techniques and evidence runs everywhere;
    * ``linear_evidence``: the same weights without the token model, so that
      evidence comes from the sentence model's word contributions.
    """
    from propdetect import Detector

    det = Detector.load()
    low = det.with_thresholds(0.05)
    arrays = {k: v for k, v in det._arrays.items() if not k.startswith("tok_")}
    linear = type(det)(det._featurizer, arrays, det.metadata).with_thresholds(0.05)
    return {"bundled": det.detect, "low_thresholds": low.detect, "linear_evidence": linear.detect}


def canonical(analysis: object) -> str:
    """The JSON of ``analysis.to_dict()``: keys in their order, floats by ``repr``
    (exact), non-ASCII kept."""
    return json.dumps(analysis.to_dict(), ensure_ascii=False, separators=(",", ":"))  # type: ignore[attr-defined]


def digest(text: str) -> str:
    """``sha256:`` and the hex digest of the UTF-8 of ``text``."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def model_key() -> dict[str, str]:
    """What the golden file is keyed to: the bundled model's version and digest."""
    from propdetect import Detector
    from propdetect._report import model_fields

    f = model_fields(Detector.load())
    return {"model_version": str(f["model_version"]), "model_digest": str(f["model_digest"])}


def outputs(with_corpus: bool = True) -> dict[str, dict[str, dict[str, object]]]:
    """Per group (``hand_written``, ``generated``, ``corpus``), text name ->
    variant -> its :func:`digest`, and for the hand-written texts variant ->
    ``{"sha256": ..., "output": ...}`` (the ``to_dict()`` itself, for readable diffs)."""
    runs = variants()
    out: dict[str, dict[str, dict[str, object]]] = {"hand_written": {}, "generated": {}, "corpus": {}}
    for name, text in hand_written().items():
        out["hand_written"][name] = {}
        for v, detect in runs.items():
            js = canonical(detect(text))
            out["hand_written"][name][v] = {"sha256": digest(js), "output": json.loads(js)}
    for name, text in generated().items():
        out["generated"][name] = {v: digest(canonical(detect(text))) for v, detect in runs.items()}
    if with_corpus:
        for name, path in corpus_files():
            text = path.read_bytes().decode("utf-8")
            out["corpus"][name] = {v: digest(canonical(detect(text))) for v, detect in runs.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    """Write ``tests/data/golden_detect.json`` from the code as it is now."""
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else GOLDEN
    data = {**model_key(), "outputs": outputs()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    n = sum(len(g) for g in data["outputs"].values())
    print(f"{path}: {n} texts x {len(variants())} variants, model {data['model_digest']}", file=sys.stderr)
    if not data["outputs"]["corpus"]:
        print(f"warning: no corpus under {SHARED_DATA}: the golden file has no corpus articles",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
