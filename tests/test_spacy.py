"""The spaCy component: nlp.add_pipe("propdetect") through the entry point, spans, nlp.pipe, displaCy."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (pip install 'propdetect[spacy]')")

from spacy import displacy  # noqa: E402
from spacy.tokens import DocBin  # noqa: E402

import propdetect  # noqa: E402

from .conftest import ROOT  # noqa: E402

TEXTS = [
    "The museum opens at nine. These corrupt traitors are destroying our great nation!",
    "Rain is expected tomorrow.",
    "Is this really what the so-called experts want? Vicious liars spread their evil lies every day.",
    "",
    "Don't   split   me   oddly:co-operation, e-mail and U.S.A. stay spaCy's tokens.",
]


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("propdetect")  # found through the spacy_factories entry point, nothing imported first
    return nlp


def _summary(doc):
    return ([(s.start_char, s.end_char, s.label_) for s in doc.spans["propaganda"]],
            doc._.propaganda.to_dict())


def test_the_factory_comes_from_the_entry_point():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert eps.get("propdetect") == "propdetect._spacy:make_propdetect"
    # a fresh interpreter that never imported propdetect finds the component by name
    code = "import spacy; nlp = spacy.blank('en'); nlp.add_pipe('propdetect'); print(nlp.pipe_names)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "['propdetect']"


def test_spans_are_the_evidence_on_spacy_tokens(nlp):
    det = propdetect.Detector.load()
    for text in TEXTS:
        doc = nlp(text)
        analysis = det.detect(text)
        assert doc._.propaganda == analysis  # the Analysis, offsets into doc.text
        expected = []
        for s in analysis.flagged:
            for t in s.techniques:
                for a, b in s.evidence[t]:
                    expected.append((a, b, t))
        spans = doc.spans["propaganda"]
        assert len(spans) == len(expected)
        for span, (a, b, t) in zip(spans, expected):
            assert span.label_ == t and t in propdetect.TECHNIQUE_IDS
            # widened to whole tokens: covers the fragment, and its first and last tokens touch it
            assert span.start_char <= a < b <= span.end_char
            assert span[0].idx + len(span[0]) > a and span[-1].idx < b
        assert spans.attrs["scores"] == [s.scores[t] for s in analysis.flagged for t in s.techniques
                                         for _ in s.evidence[t]]
    doc = nlp(TEXTS[0])
    assert {s.label_ for s in doc.spans["propaganda"]} >= {"loaded_language", "name_calling_labeling"}


def test_tokenisation_is_spacys_own(nlp):
    blank = spacy.blank("en")
    for text in TEXTS:
        assert [t.text for t in nlp(text)] == [t.text for t in blank(text)]


def test_fragment_inside_a_token_expands_to_that_token():
    from propdetect._spacy import PropagandaDetector

    nlp = spacy.blank("en")
    comp = PropagandaDetector(nlp, model="fast")
    doc = nlp("Read co-operation now.")
    analysis = propdetect.Analysis((propdetect.Sentence(doc.text, 0, len(doc.text), ("slogans",),
                                                        {"slogans": 0.9}, {"slogans": [(8, 12)]}),))
    comp._set(doc, analysis)  # a fragment "oper" in the middle of spaCy's token "operation"
    span = doc.spans["propaganda"][0]
    assert (span.text, span.label_) == ("operation", "slogans")


def test_config_model_thresholds_and_key():
    nlp = spacy.blank("en")
    nlp.add_pipe("propdetect", config={"model": "fast", "thresholds": {"loaded_language": 0.999,
                                                                        "name_calling_labeling": 0.999,
                                                                        "flag_waving": 0.999},
                                       "spans_key": "sc"})
    doc = nlp(TEXTS[0])
    assert "propaganda" not in doc.spans
    assert not {"loaded_language", "name_calling_labeling", "flag_waving"} & {s.label_ for s in doc.spans["sc"]}
    everything = spacy.blank("en")
    everything.add_pipe("propdetect", config={"thresholds": 0.0001})
    assert len(everything(TEXTS[1]).spans["propaganda"]) > 0  # every technique named
    with pytest.raises(ValueError, match="threshold"):
        spacy.blank("en").add_pipe("propdetect", config={"thresholds": {"loaded_language": 2.0}})


@pytest.mark.parametrize("model", ["fast", "accurate"])
def test_nlp_pipe_in_two_processes_matches_one(model):
    nlp = spacy.blank("en")
    nlp.add_pipe("propdetect", config={"model": model})
    nlp(TEXTS[0])  # the model has run in this process before the workers are forked
    one = [_summary(d) for d in nlp.pipe(TEXTS * 3)]
    two = [_summary(d) for d in nlp.pipe(TEXTS * 3, n_process=2, batch_size=2)]
    assert two == one
    assert any(spans for spans, _ in one)


def test_docs_keep_it_through_docbin(nlp):
    docs = list(nlp.pipe(TEXTS))
    restored = list(DocBin(docs=docs, store_user_data=True).get_docs(spacy.blank("en").vocab))
    assert [_summary(d) for d in restored] == [_summary(d) for d in docs]


def test_the_component_pickles_by_model_name(nlp):
    comp = nlp.get_pipe("propdetect")
    again = pickle.loads(pickle.dumps(comp))
    assert (again.model, again.spans_key) == ("fast", "propaganda")
    assert _summary(again(spacy.blank("en")(TEXTS[0]))) == _summary(nlp(TEXTS[0]))


def test_nlp_pipe_with_spawned_workers(tmp_path):
    """Under "spawn" (macOS, Windows) workers receive the component pickled: it reloads its model."""
    script = tmp_path / "spawned.py"
    script.write_text(textwrap.dedent(f"""
        import json, multiprocessing, spacy
        if __name__ == "__main__":
            multiprocessing.set_start_method("spawn", force=True)
            nlp = spacy.blank("en")
            nlp.add_pipe("propdetect", config={{"thresholds": {{"doubt": 0.3}}}})
            texts = {TEXTS!r} * 2
            two = [[(s.start_char, s.end_char, s.label_) for s in d.spans["propaganda"]]
                   for d in nlp.pipe(texts, n_process=2, batch_size=2)]
            one = [[(s.start_char, s.end_char, s.label_) for s in d.spans["propaganda"]] for d in nlp.pipe(texts)]
            print(json.dumps([two == one, sum(map(len, one))]))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    same, n_spans = json.loads(out.stdout.strip().splitlines()[-1])
    assert same and n_spans > 0


def test_displacy_renders_the_spans(nlp):
    doc = nlp(TEXTS[0])
    html = displacy.render(doc, style="span", options={"spans_key": "propaganda"})
    for span in doc.spans["propaganda"]:
        assert span.label_ in html
    assert "traitors" in html


def test_a_saved_pipeline_loads_with_its_config(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("propdetect", config={"thresholds": {"doubt": 0.3}})
    nlp.to_disk(tmp_path / "pipeline")
    again = spacy.load(tmp_path / "pipeline")
    assert again.pipe_names == ["propdetect"]
    assert again.get_pipe("propdetect").detector.thresholds["doubt"] == 0.3
    assert _summary(again(TEXTS[2])) == _summary(nlp(TEXTS[2]))
