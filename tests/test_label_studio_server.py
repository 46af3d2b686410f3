"""The Label Studio format against the real thing: a Label Studio server (SQLite, on
localhost) accepts our labelling config and our pre-annotated tasks through its API,
annotators' work is made through the same API, and propdetect reads the export.

Slow (a minute or two: the server migrates a fresh database). Needs the
``label-studio`` command, which pins many libraries: install it in a venv of its own
(``.ci/run`` does) and name it with ``PROPDETECT_LABEL_STUDIO=/path/to/label-studio``;
otherwise the test looks on PATH, and skips when it finds none.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import propdetect
from propdetect._annotation import label_studio_config, label_studio_task

TOKEN = "propdetect-test-token-0123456789"
DATA = Path(__file__).parent / "data"
TEXTS = [
    "These traitors and thugs lie to you every single day. The museum opens at nine.",
    "Our glorious nation will never bow to these cowards! We must act now or lose everything.",
    "Rain is expected on Tuesday. 🌧 The corrupt regime's puppets are panicking.",
    "Stocks rose slightly on Monday.",
]


def _label_studio() -> str | None:
    return os.environ.get("PROPDETECT_LABEL_STUDIO") or shutil.which("label-studio")


pytestmark = pytest.mark.skipif(
    _label_studio() is None,
    reason="label-studio is not installed: pip install label-studio in a venv of its own and set "
           "PROPDETECT_LABEL_STUDIO=/path/to/that/venv/bin/label-studio (.ci/run does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"Token {TOKEN}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:2000]!r}") from None
        return json.loads(raw) if raw else None


@contextlib.contextmanager
def running_label_studio(exe: str, home: Path) -> Iterator[Server]:
    """A Label Studio server on localhost with its SQLite database in ``home``;
    stopped (its whole process group) on exit."""
    port = _free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(home / "data"), "HOME": str(home),
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "PYTHONWARNINGS": "ignore"}
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [exe, "start", "--no-browser", "--data-dir", str(home / "data"), "--internal-host", "127.0.0.1",
         "--port", str(port), "--username", "annotator@example.com", "--password", "not-a-secret-1",
         "--user-token", TOKEN, "--enable-legacy-api-token", "--log-level", "WARNING"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"label-studio exited ({proc.returncode}): "
                                     f"{(home / 'server.log').read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("label-studio did not answer /health in 10 minutes")
            time.sleep(2)
        yield Server(url)
    finally:
        # Its own process group: the server and the workers it started, nothing else.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_label_studio(_label_studio(), tmp_path_factory.mktemp("label-studio")) as srv:
        yield srv


def annotate_and_export(server: Server) -> dict:
    """Make a project with our config, import our tasks, annotate them through the API
    as annotators would, and export: ``{"tasks", "predicted", "analyses", "doubt",
    "export"}``.

    Annotators: doc0 accepts the prediction as it is; doc1 has an earlier annotation
    and a later correction that keeps only the first span and adds a Doubt span (the
    later one counts); doc2 (with an emoji) accepts the prediction; doc3 is skipped
    (cancelled), so it is not labelled yet.
    """
    det = propdetect.Detector.load()
    analyses = det.detect_many(TEXTS)
    tasks = [label_studio_task(t, a, model_version="propdetect-test", data={"source": f"doc{i}"})
             for i, (t, a) in enumerate(zip(TEXTS, analyses))]
    predicted = [[(r["value"]["labels"][0], r["value"]["start"], r["value"]["end"])
                  for r in t["predictions"][0]["result"]] for t in tasks]
    project = server.call("POST", "/api/projects/", {"title": "propdetect test",
                                                      "label_config": label_studio_config()})
    pid = project["id"]
    server.call("POST", f"/api/projects/{pid}/import", tasks)
    stored = server.call("GET", f"/api/tasks/?project={pid}&fields=all")
    stored = stored["tasks"] if isinstance(stored, dict) else stored
    assert len(stored) == len(TEXTS)
    by_source = {t["data"]["source"]: t for t in stored}
    # Label Studio kept each prediction, with its model version and scores.
    for i, t in enumerate(tasks):
        preds = server.call("GET", f"/api/predictions/?task={by_source[f'doc{i}']['id']}")
        assert len(preds) == 1 and preds[0]["model_version"] == "propdetect-test"
        assert [r["value"] for r in preds[0]["result"]] == [r["value"] for r in t["predictions"][0]["result"]]

    def annotate(i: int, result: list, **extra: object) -> None:
        server.call("POST", f"/api/tasks/{by_source[f'doc{i}']['id']}/annotations/", {"result": result, **extra})

    annotate(0, tasks[0]["predictions"][0]["result"])
    annotate(1, tasks[1]["predictions"][0]["result"])
    time.sleep(1.1)  # a later updated_at
    a = TEXTS[1].index("We must act now")
    b = a + len("We must act now")
    doubt = {"from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": a, "end": b, "text": TEXTS[1][a:b], "labels": ["Doubt"]}}
    annotate(1, [tasks[1]["predictions"][0]["result"][0], doubt])
    annotate(2, tasks[2]["predictions"][0]["result"])
    annotate(3, [], was_cancelled=True)
    export = server.call("GET", f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true")
    return {"tasks": tasks, "predicted": predicted, "analyses": analyses, "doubt": (a, b), "export": export}


def test_label_studio_accepts_our_config_and_tasks_and_we_read_its_export(server, tmp_path):
    made = annotate_and_export(server)
    predicted, analyses, (a, b) = made["predicted"], made["analyses"], made["doubt"]
    assert all(predicted[:3]), "the model should find something in the first three texts"
    # a span after the emoji: Label Studio must keep code-point offsets (older versions counted UTF-16)
    assert any(x > TEXTS[2].index("🌧") for _, x, _ in predicted[2])
    export = tmp_path / "export.json"
    export.write_text(json.dumps(made["export"]), encoding="utf-8")

    docs, report = propdetect.load_documents(export, format="label-studio")
    assert [d.text for d in docs] == TEXTS[:3]
    assert report.unannotated == 1 and report.several_annotations == 1
    ids = {t.name: t.id for t in propdetect.TECHNIQUES}
    # doc0, doc2: the model's own spans back (the round trip of the issue)
    for i in (0, 2):
        assert set(docs[i].technique_spans) == {(ids[n], x, y) for n, x, y in predicted[i]}
    # doc1: the later annotation
    first = predicted[1][0]
    assert set(docs[1].technique_spans) == {(ids[first[0]], first[1], first[2]), ("doubt", a, b)}
    # sentences as detect() splits them, labelled by overlap
    assert docs[0].spans == tuple((s.start, s.end) for s in analyses[0].sentences)
    assert docs[1].labels[1] >= {"doubt"}

    # The export committed for the tests that run without a server has the shape of
    # this one (regenerate it with `python -m tests.make_label_studio_export`).
    committed = json.loads((DATA / "label_studio_export.json").read_text(encoding="utf-8"))
    assert [sorted(t) for t in committed] == [sorted(t) for t in made["export"]]
    assert [[sorted(x) for x in t["annotations"]] for t in committed] == \
        [[sorted(x) for x in t["annotations"]] for t in made["export"]]
    assert [t["data"] for t in committed] == [t["data"] for t in made["export"]]
