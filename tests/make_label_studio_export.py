"""Write ``tests/data/label_studio_export.json``: the JSON export of a real Label
Studio server, made by the steps of ``tests/test_label_studio_server.py`` (our config,
our tasks with predictions, four annotators' actions), for the tests that read a
Label Studio export without a server (``tests/test_annotation.py``).

Run with a ``label-studio`` command (in a venv of its own)::

    PROPDETECT_LABEL_STUDIO=.venv-ls/bin/label-studio python -m tests.make_label_studio_export

The server test checks that a live export still has this file's shape.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.test_label_studio_server import DATA, _label_studio, annotate_and_export, running_label_studio


def main() -> None:
    exe = _label_studio()
    if exe is None:
        raise SystemExit("no label-studio: set PROPDETECT_LABEL_STUDIO=/path/to/label-studio")
    with tempfile.TemporaryDirectory() as home, running_label_studio(exe, Path(home)) as server:
        export = annotate_and_export(server)["export"]
    out = DATA / "label_studio_export.json"
    out.write_text(json.dumps(export, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(export)} tasks)")


if __name__ == "__main__":
    main()
