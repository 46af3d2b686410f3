"""The technique records and the name resolver."""

from __future__ import annotations

import re

import pytest

import propdetect
from propdetect._taxonomy import UNMAPPED_LABELS, normalize, technique_id
from tests.conftest import shared_data

EXPECTED_IDS = [
    "loaded_language", "name_calling_labeling", "repetition", "exaggeration_minimisation", "doubt",
    "appeal_to_fear_prejudice", "flag_waving", "causal_oversimplification", "slogans", "appeal_to_authority",
    "black_and_white_fallacy", "thought_terminating_cliches", "whataboutism_straw_men_red_herring",
    "bandwagon_reductio_ad_hitlerum",
]


def test_fourteen_ids_exactly_as_taxonomy():
    assert [t.id for t in propdetect.TECHNIQUES] == EXPECTED_IDS
    assert list(propdetect.TECHNIQUE_IDS) == EXPECTED_IDS


def test_ids_follow_the_mechanical_rule_from_ptc_labels():
    for t in propdetect.TECHNIQUES:
        assert t.id == re.sub(r"[^a-z0-9]+", "_", t.ptc_label.lower()).strip("_")
        assert t.definition and t.name


@pytest.mark.parametrize(
    "name, expected",
    [
        ("appeal to threat", "appeal_to_fear_prejudice"),
        ("Appeal to Threat", "appeal_to_fear_prejudice"),
        ("fear-mongering", "appeal_to_fear_prejudice"),
        ("fearmongering", "appeal_to_fear_prejudice"),
        ("Appeal_to_fear-prejudice", "appeal_to_fear_prejudice"),
        ("Appeal to fear/prejudice", "appeal_to_fear_prejudice"),
        ("Name_Calling,Labeling", "name_calling_labeling"),
        ("Name calling/Labeling", "name_calling_labeling"),
        ("Name_Calling-Labeling", "name_calling_labeling"),
        ("loaded_language", "loaded_language"),
        ("Straw_Men", "whataboutism_straw_men_red_herring"),
        ("Presenting Irrelevant Data (Red Herring)", "whataboutism_straw_men_red_herring"),
        ("Reductio ad hitlerum", "bandwagon_reductio_ad_hitlerum"),
        ("False_Dilemma-No_Choice", "black_and_white_fallacy"),
        ("Conversation_Killer", "thought_terminating_cliches"),
        ("Thought-terminating cliché", "thought_terminating_cliches"),
        ("Appeal_to_Popularity", "bandwagon_reductio_ad_hitlerum"),
        ("Exaggeration/Minimisation", "exaggeration_minimisation"),
    ],
)
def test_resolver(name, expected):
    assert propdetect.technique(name).id == expected


def test_unknown_name_lists_valid_ids():
    with pytest.raises(propdetect.UnknownTechniqueError) as exc:
        propdetect.technique("propaganda of the deed")
    msg = str(exc.value)
    assert "propaganda of the deed" in msg and "loaded_language" in msg and "bandwagon_reductio_ad_hitlerum" in msg


def test_unmapped_labels_are_known_but_have_no_id():
    assert technique_id("Smears") is None
    assert technique_id("Obfuscation,Intentional_Vagueness,Confusion") is None
    with pytest.raises(propdetect.UnknownTechniqueError, match="no counterpart"):
        propdetect.technique("Smears")


def test_non_string_name_is_a_type_error():
    with pytest.raises(TypeError):
        propdetect.technique(3)  # type: ignore[arg-type]


def test_record_to_dict_is_json_ready():
    d = propdetect.technique("doubt").to_dict()
    assert d["id"] == "doubt" and d["ptc_label"] == "Doubt" and isinstance(d["aliases"], list)


def test_every_semeval2021_label_maps_or_is_declared_unmapped():
    labels = shared_data("semeval2021-task6", "techniques_list_task1-2.txt").read_text().split("\n")
    labels = [x.strip() for x in labels if x.strip()]
    assert len(labels) == 20
    unmapped = [x for x in labels if technique_id(x) is None]
    assert sorted(unmapped) == sorted(
        ["Glittering generalities (Virtue)", "Smears", "Obfuscation, Intentional vagueness, Confusion"]
    )
    assert all(normalize(x) in UNMAPPED_LABELS for x in unmapped)
