"""Model cards: the written card of each bundled model, and a short one from the metadata of any other.

The cards of the bundled models live in ``propdetect/cards/<name>.md`` (package data, so that
``propdetect techniques --card`` works offline) and are the pages of the documentation site's
"Models" section too (``docs/models/*.md`` include them). They cannot live in the model folders:
a model folder holds exactly its model files and ``Detector.load`` refuses anything else.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ._detector import BUNDLED_MODELS, DEFAULT_MODEL
from ._persist import ModelFormatError

__all__ = ["model_card"]

#: The written card of each bundled model folder, by folder name.
CARDS = {"ptc2020": "fast.md", "accurate": "accurate.md"}


def model_card(model: str | None = None) -> str:
    """The model card of a bundled model (by name), or a short card made from the
    ``metadata.json`` of a model folder.

    Examples
    --------
    >>> from propdetect._cards import model_card
    >>> model_card("fast").splitlines()[0]
    '# Model card: fast (ptc2020)'
    >>> model_card("ptc2020") == model_card() == model_card("fast")
    True
    """
    name = DEFAULT_MODEL if model is None else model
    if name in BUNDLED_MODELS:
        card = resources.files("propdetect") / "cards" / CARDS[BUNDLED_MODELS[name]]
        return card.read_text(encoding="utf-8")
    return _card_from_metadata(Path(name))


def _card_from_metadata(folder: Path) -> str:
    path = folder / "metadata.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFormatError(f"{folder}: no such model folder (or no metadata.json in it)") from None
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelFormatError(f"{path}: not a JSON object")
    data = meta.get("training_data") if isinstance(meta.get("training_data"), dict) else {}
    lines = [
        f"# Model card: {meta.get('name', folder.name)} ({meta.get('model_version', 'no version recorded')})",
        "",
        "No written card: this model is not one of the bundled models. What its metadata.json records:",
        "",
        f"- kind: {meta.get('kind', 'linear')}; created {meta.get('created', '?')}; "
        f"propdetect {meta.get('versions', {}).get('propdetect', '?')}",
        f"- training data: {data.get('description', '?')}; {data.get('documents', '?')} documents, "
        f"{data.get('sentences', '?')} sentences; digest {data.get('digest', '?')}",
        f"- techniques: {', '.join(meta.get('techniques', [])) or '?'}",
    ]
    if meta.get("left_out_techniques"):
        lines.append(f"- left out (no positive example): {', '.join(meta['left_out_techniques'])}")
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    for key, value in metrics.items():
        if isinstance(value, dict) and "micro_f1" in value:
            lines.append(f"- {key.replace('_', ' ')} on the training data (optimistic): micro-F1 "
                         f"{value['micro_f1']:.3f}, macro-F1 {value.get('macro_f1', float('nan')):.3f}, "
                         f"binary F1 {value.get('binary_f1', float('nan')):.3f}")
    lines += ["", "Measure it on data it was not trained on: propdetect evaluate --model "
              f"{folder} --articles DIR --labels PATH (or --jsonl / --csv)."]
    return "\n".join(lines) + "\n"
