"""The array-based hot path gives the numbers of the per-token reference, bit for bit.

``Featurizer.transform_doc`` works on token ids (``propdetect._tokens.TokenTable``);
training's ``Featurizer.fit`` still computes per token with :func:`tokenize`,
:func:`ngrams`, :func:`dense_features` and ``WordVectors.pool``. Features at
inference must be the ones the model was trained on, so here the fast path is
compared with a reference built from those functions, on hand-written text,
the seed article, text of every awkward kind (hypothesis), several featurizer
configurations and a document scored in chunks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdetect import Detector
from propdetect._features import Featurizer, dense_features, doc_stats, ngrams
from propdetect._tokens import tokenize
from propdetect._vectors import bundled_vectors

from .test_properties import texts as PROPERTY_TEXTS

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "seeds" / "kursk-region.txt").read_text(encoding="utf-8")
SEED_LINES = [ln.strip() for ln in SEED.splitlines() if ln.strip()]

# Words and marks that exercise tokenising and normalising: capitals, apostrophes of
# both kinds, digits (leading and inner), quotes of every kind, Greek final sigma,
# the dotted capital I (whose lower case is two characters), non-Latin scripts.
PIECES = [" ", "  ", "\t", ".", ",", "!", "?", "!!", "\"", "\u201c", "\u201d", "\u00ab", "\u00bb", "'",
          "\u2019", "they\u2019re", "don't", "THE", "EVIL", "Regime", "regime", "evil", "traitors",
          "Traitors", "2024", "1,000", "covid19", "9/11", "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
          "\u0130stanbul", "\u00e9t\u00e9", "na\u00efve", "\u4e2d\u6587", "\u043c\u0438\u0440", "Mr.",
          "U.S.", "\u00b2", "_", "a", "I", "stop", "the", "steal", "\U0001f600", "\u0301", "x'y", "'n'"]
sentence_st = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=25).map("".join)
doc_st = st.lists(sentence_st, min_size=1, max_size=8)
BOUNDED = settings(max_examples=120, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def reference(f: Featurizer, sentences: list[str], stats=None, offset: int = 0):  # noqa: ANN001, ANN201
    """The lexical rows, the raw shape/context block and the pooled vectors, per token."""
    toks = [tokenize(s) for s in sentences]
    row_ids: list[int] = []
    lengths = []
    use_chars = f.n_word_terms_ < len(f.vocabulary_)
    for t in toks:
        ids = [j for j in map(f.vocabulary_.get, ngrams(t, f.ngram_max)) if j is not None]
        if use_chars:
            for tok in t:
                if tok[0].isalpha():
                    ids.extend(f._char_ids(tok))
        row_ids.extend(ids)
        lengths.append(len(ids))
    rows = np.repeat(np.arange(len(sentences)), lengths)
    X = f._tfidf(np.asarray(row_ids, dtype=np.int64), rows, len(sentences))
    dense = dense_features(sentences, toks, stats, offset)
    V = f.vectors.pool(toks) if f.vectors is not None else None
    return X, dense, V


def check(f: Featurizer, sentences: list[str], stats=None, offset: int = 0) -> None:  # noqa: ANN001
    """Both ways of transform_doc (token by token for small blocks, from token ids
    for larger ones) against the reference."""
    from propdetect import _features

    saved = _features._SMALL_BLOCK_CHARS
    try:
        for small in (0, 10**9):
            _features._SMALL_BLOCK_CHARS = small
            _check(f, sentences, stats, offset)
    finally:
        _features._SMALL_BLOCK_CHARS = saved


def _check(f: Featurizer, sentences: list[str], stats=None, offset: int = 0) -> None:  # noqa: ANN001
    X_ref, dense_ref, V_ref = reference(f, sentences, stats, offset)
    X, D = f.transform_doc(sentences, stats, offset)
    for a in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(X, a), getattr(X_ref, a), err_msg=a)
        assert getattr(X, a).dtype == getattr(X_ref, a).dtype
    if f.dense:
        from propdetect._features import _DENSE_CLIP

        want = (dense_ref - f.dense_mean_) / f.dense_scale_
        if (stats.n_sentences if stats is not None else len(sentences)) == 1:
            want[:, [7, 8, 9, 10]] = 0.0
        np.clip(want, -_DENSE_CLIP, _DENSE_CLIP, out=want)
        assert np.array_equal(D[:, : want.shape[1]], want)
    if V_ref is not None:
        want_v = np.clip((V_ref - f.vec_mean_) / f.vec_scale_, -5.0, 5.0) * f.vector_weight
        assert np.array_equal(D[:, -V_ref.shape[1]:], want_v)


@pytest.fixture(scope="module")
def bundled() -> Featurizer:
    return Detector.load()._featurizer


@pytest.fixture(scope="module")
def featurizers(bundled: Featurizer) -> list[Featurizer]:
    """The bundled model's, and small ones of other shapes: trigrams and character
    2-4-grams with vectors; words only, no dense block, no vectors."""
    docs = [SEED_LINES[:12], SEED_LINES[12:], ["The EVIL regime lies!", "They\u2019re traitors, 2024."]]
    tri = Featurizer(ngram_max=3, min_df=1, char_ngrams=(2, 4), char_min_df=1,
                     vectors=bundled_vectors()).fit(docs)
    plain = Featurizer(ngram_max=2, min_df=1, dense=False).fit(docs)
    return [bundled, tri, plain]


def test_seed_and_edge_cases(featurizers: list[Featurizer]) -> None:
    cases = [SEED_LINES, SEED_LINES[:1], [], [""], ["!!!", "???", "\u201cquoted\u201d"],
             ["Stop the steal. Stop the steal!", "stop the steal", "The steal stops."],
             ["\u0130stanbul \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 they\u2019re 2024 covid19"],
             ["line\nbreak inside", "x"]]
    for f in featurizers:
        for sentences in cases:
            check(f, sentences)


def test_chunks_with_document_stats(featurizers: list[Featurizer]) -> None:
    doc = [f"{i}. {s}" for i in range(3) for s in SEED_LINES]
    stats = doc_stats([tokenize(s) for s in doc])
    for f in featurizers:
        for lo in (0, 7, 50):
            check(f, doc[lo : lo + 30], stats, lo)


@BOUNDED
@given(doc_st)
def test_any_text(featurizers: list[Featurizer], sentences: list[str]) -> None:
    stats = doc_stats([tokenize(s) for s in sentences])
    for f in featurizers:
        check(f, sentences)
        check(f, sentences[1:], stats, 1)  # a chunk of a longer document


def test_token_table_starts_afresh(bundled: Featurizer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its bound the table forgets every token, and the features do not change."""
    from propdetect import _tokens

    monkeypatch.setattr(_tokens, "_MAX_TOKENS", 5)
    f = Featurizer.from_state({"char_ngrams": [3, 5]}, bundled.terms(), bundled.idf_, bundled.dense_mean_,
                              bundled.dense_scale_, bundled.vectors, bundled.vec_mean_, bundled.vec_scale_)
    for lo in range(0, len(SEED_LINES), 6):
        check(f, SEED_LINES[lo : lo + 6])
    assert len(f._token_table()._words) < 100


def test_featurizer_pickles_without_its_table(bundled: Featurizer) -> None:
    import pickle

    bundled.transform_doc(SEED_LINES[:3])
    f = pickle.loads(pickle.dumps(bundled))
    assert not hasattr(f, "_tokens")
    check(f, SEED_LINES[:5])


# -- evidence ---------------------------------------------------------------------------
line_st = sentence_st.map(lambda s: s.replace("\n", " "))  # detect's sentences hold no line feed


def check_evidence(det: Detector, sentences: list[str], ks: list[list[int]]) -> None:
    """TokenModel.evidence_block gives, per sentence and technique, the spans of the
    per-sentence TokenModel.evidence (margin and top as the model's, and others)."""
    tm = det._token_model
    block = det._featurizer._token_table().spans(sentences)
    names = det.techniques
    for top, margin in ((det._evidence_top, det._evidence_margin), (1, float("inf")), (5, 0.25), (0, 1.0)):
        counts, starts, ends = tm.evidence_block(block, ks, top, margin)
        at = pair = 0
        for s, kl in zip(sentences, ks):
            want = tm.evidence(s, 0, kl, names, top, margin)
            got = {}
            for k in kl:
                c = int(counts[pair])
                got[names[k]] = list(zip(starts[at : at + c].tolist(), ends[at : at + c].tolist()))
                at += c
                pair += 1
            assert got == want, (s, kl, top, margin)


def test_evidence_block_seed() -> None:
    det = Detector.load()
    ks = [[i % 14, (i * 5) % 14] if i % 3 else [i % 14] for i in range(len(SEED_LINES))]
    check_evidence(det, SEED_LINES, ks)
    check_evidence(det, ["", "!!", SEED_LINES[0], "...", "They are VERY cruel , they don\u2019t spare anyone"],
                   [[0], [1, 2], list(range(14)), [], [3]])


@BOUNDED
@given(st.lists(line_st, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_evidence_block_any_text(sentences: list[str], rnd) -> None:  # noqa: ANN001
    det = Detector.load()
    ks = [rnd.sample(range(14), rnd.randint(1, 4)) for _ in sentences]
    check_evidence(det, sentences, ks)


# -- language ---------------------------------------------------------------------------
def _counts_reference(text: str) -> tuple[int, int, int, int, int]:
    """propdetect._language._counts as it was: the full pattern on every sample."""
    from collections import Counter

    from propdetect import _language as lang

    sample = lang._NOT_PROSE.sub(" ", lang._sample(text)).lower()
    words = lang._WORD.findall(sample)
    counts = Counter(words)
    en = sum(c for w, c in counts.items() if w in lang.ENGLISH)
    fx = sum(c for w, c in counts.items() if w in lang.FOREIGN)
    return len(words), en, fx, sum(map(len, words)), len(lang._NON_LATIN.findall(sample))


WEB = ["pic.twitter.com/x", "@handle", "#tag", "http://a.b/c", "e.g.", "Mr.Smith", "U.S.", "a/b", "x.yz",
       "der", "und", "the", "of", "and", "\u00e9t\u00e9", "\u043c\u0438\u0440"]


@BOUNDED
@given(st.lists(st.one_of(st.sampled_from(PIECES + WEB), st.text(max_size=3)), max_size=80).map("".join))
def test_language_counts_any_text(text: str) -> None:
    from propdetect._language import _counts

    assert _counts(text) == _counts_reference(text)
    assert _counts(text * 300) == _counts_reference(text * 300)  # long: sampled windows


def test_language_counts_seed() -> None:
    from propdetect._language import _counts

    for text in (SEED, SEED.replace("\n", " pic.twitter.com/abc @x #y "), ""):
        assert _counts(text) == _counts_reference(text)


def test_threads_share_the_token_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detectors are shared by threads (thread-based joblib or Dask backends): the
    token table hands out ids under a lock, and starting afresh mid-run (a tiny bound
    here) changes nothing."""
    from concurrent.futures import ThreadPoolExecutor

    from propdetect import _features, _tokens

    det = Detector.load()
    texts = [SEED] + ["\n".join(SEED_LINES[i:] + SEED_LINES[:i]).upper() if i % 2 else
                      "\n".join(SEED_LINES[i:] + SEED_LINES[:i]) for i in range(1, 12)]
    want = [det.detect(t).to_dict() for t in texts]
    monkeypatch.setattr(_tokens, "_MAX_TOKENS", 50)
    monkeypatch.setattr(_features, "_SMALL_BLOCK_CHARS", 0)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: det.detect(t).to_dict(), texts * 3))
    assert got == want * 3


# -- sentence splitting -----------------------------------------------------------------
@BOUNDED
@given(st.one_of(PROPERTY_TEXTS,
                 st.lists(st.sampled_from(SEED_LINES + ["Dr. Smith left. He said no.", "", " \t"]),
                          max_size=6).map("\n".join)))
def test_split_lines_without_candidates_fast(text: str) -> None:
    """split_sentences takes a line with no candidate boundary whole, without slicing
    it; the spans are those of splitting every line the full way."""
    from propdetect._sentences import _split_line, iter_lines, split_sentences

    assert split_sentences(text) == [p for a, b in iter_lines(text) for p in _split_line(text, a, b)]
