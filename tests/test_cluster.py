"""detect_many on a Dask cluster through joblib's "dask" backend (the ``cluster`` extra)."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed", reason="needs the cluster extra: pip install '.[cluster]'")
joblib = pytest.importorskip("joblib")

TEXTS = [
    "These traitors and thugs are destroying our great nation! The council meets on Tuesday.",
    "",
    "Is this so-called expert really telling the truth?\nThe bridge will be closed for repairs.",
    "Corrupt thugs and criminals run this disgusting regime. " * 30,
] * 6


@pytest.fixture(autouse=True)
def _workers_even_for_small_inputs(monkeypatch):
    """These inputs are tiny: without this they would be detected in process."""
    from propdetect import _pool

    monkeypatch.setattr(_pool, "COLD_CHARS", 0)
    monkeypatch.setattr(_pool, "WARM_CHARS", 0)
    monkeypatch.setattr(_pool, "FORK_CHARS", 0)
    monkeypatch.setattr(_pool, "OVERLAP_CHARS", 0)


def _cached_models() -> list[str]:
    from propdetect import _pool

    return _pool.cached_digests()


@pytest.fixture(scope="module")
def client():
    # Two single-threaded worker processes: the model really has to travel.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_detect_many_on_a_local_cluster_matches_detect(client, tiny_detector):
    from propdetect._detector import CODEC
    from propdetect._pool import model_payload

    from propdetect import _pool

    expected = [tiny_detector.detect(t).to_dict() for t in TEXTS]
    with joblib.parallel_backend("dask"):
        assert _pool._batch_chars() == _pool._REMOTE_BATCH_CHARS  # a Dask task costs more: longer ones
        got = tiny_detector.detect_many(TEXTS, batch_size=2)  # n_jobs=None: the backend decides
        again = tiny_detector.detect_many(TEXTS, n_jobs=-1, batch_size=5)
    assert [a.to_dict() for a in got] == expected
    assert [a.to_dict() for a in again] == expected
    # The work ran on the workers, each of which decoded the model once and kept it.
    digest, _ = model_payload(tiny_detector, CODEC)
    per_worker = client.run(_cached_models)
    assert len(per_worker) == 2
    assert any(digest in models for models in per_worker.values())


def test_bundled_model_on_a_local_cluster(client):
    from propdetect import Detector

    det = Detector.load()
    with joblib.parallel_backend("dask"):
        got = det.detect_many(TEXTS[:8], batch_size=3)
    assert [a.to_dict() for a in got] == [det.detect(t).to_dict() for t in TEXTS[:8]]


def test_iter_detect_windows_on_a_local_cluster(client, tiny_detector):
    """Several windows (joblib calls, one after the other) on the dask backend."""
    texts = TEXTS * 2
    with joblib.parallel_backend("dask"):
        got = list(tiny_detector.iter_detect(iter(texts), batch_size=2))
        small = list(_stream_iter(tiny_detector, texts))
    expected = [tiny_detector.detect(t) for t in texts]
    assert got == expected and small == expected


def _stream_iter(det, texts):
    from propdetect._stream import iter_detect

    return iter_detect(det, iter(texts), batch_size=1, max_in_flight=2)


def test_accurate_model_on_a_local_cluster(client, tiny_accurate):
    """The accurate model travels to Dask workers (its encoder files inside the payload)
    and gives what detect gives."""
    expected = [tiny_accurate.detect(t).to_dict() for t in TEXTS[:8]]
    with joblib.parallel_backend("dask"):
        got = tiny_accurate.detect_many(TEXTS[:8], batch_size=3)
    assert [a.to_dict() for a in got] == expected
