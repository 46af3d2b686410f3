"""The 14 propaganda techniques: ids, names, definitions, aliases and label mappings.

The ids are the SemEval-2020 Task 11 (PTC-2020) class names put through one mechanical
rule: lower-case, and every run of characters outside ``[a-z0-9]`` becomes one ``_``
(see ``shared/docs/TAXONOMY.md``). Other code depends on them: never rename one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Technique",
    "TECHNIQUES",
    "TECHNIQUE_IDS",
    "UNMAPPED_LABELS",
    "UnknownTechniqueError",
    "technique",
    "technique_id",
    "normalize",
]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(label: str) -> str:
    """Apply the taxonomy's id rule to any label.

    Parameters
    ----------
    label : str
        A technique name in any spelling.

    Returns
    -------
    str
        The label lower-cased, with each run of characters outside ``[a-z0-9]``
        replaced by one ``_`` and no leading or trailing ``_``.

    Examples
    --------
    >>> normalize("Name_Calling,Labeling")
    'name_calling_labeling'
    >>> normalize("Appeal to fear/prejudice")
    'appeal_to_fear_prejudice'
    """
    return _NON_ALNUM.sub("_", label.lower()).strip("_")


@dataclass(frozen=True)
class Technique:
    """One propaganda technique of the taxonomy.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"loaded_language"``.
    name : str
        Human-readable name.
    definition : str
        One-sentence definition (from the PTC annotation guidelines).
    ptc_label : str
        The label in the PTC-2020 (SemEval-2020 Task 11) span files.
    aliases : tuple of str
        Other names that resolve to this technique: PTC-18, SemEval-2021 and
        SemEval-2023 labels and common names such as "appeal to threat".

    Examples
    --------
    >>> t = TECHNIQUES[0]
    >>> t.id, t.name, t.ptc_label
    ('loaded_language', 'Loaded language', 'Loaded_Language')
    """

    id: str
    name: str
    definition: str
    ptc_label: str
    aliases: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the record."""
        return {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "ptc_label": self.ptc_label,
            "aliases": list(self.aliases),
        }


TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        "loaded_language",
        "Loaded language",
        "Words or phrases with strong emotional implications, positive or negative, "
        "used to sway the audience.",
        "Loaded_Language",
        ("Loaded Language", "emotional language", "emotive language"),
    ),
    Technique(
        "name_calling_labeling",
        "Name calling, labeling",
        "Labelling the target as something the audience fears, hates or finds "
        "undesirable, or loves and praises.",
        "Name_Calling,Labeling",
        ("Name calling/Labeling", "Name_Calling-Labeling", "name calling", "labeling",
         "labelling"),
    ),
    Technique(
        "repetition",
        "Repetition",
        "Repeating the same message over and over so that the audience accepts it.",
        "Repetition",
        (),
    ),
    Technique(
        "exaggeration_minimisation",
        "Exaggeration, minimisation",
        "Making something larger, better or worse, or smaller and less important, "
        "than it is.",
        "Exaggeration,Minimisation",
        ("Exaggeration/Minimisation", "Exaggeration-Minimisation", "exaggeration",
         "minimisation", "minimization", "exaggeration_minimization"),
    ),
    Technique(
        "doubt",
        "Doubt",
        "Questioning the credibility of someone or something.",
        "Doubt",
        (),
    ),
    Technique(
        "appeal_to_fear_prejudice",
        "Appeal to fear, prejudice",
        "Building support for an idea by instilling anxiety or panic about the "
        "alternative, possibly based on preconceptions.",
        "Appeal_to_fear-prejudice",
        ("Appeal to fear/prejudice", "Appeal_to_Fear-Prejudice", "appeal to fear",
         "appeal to threat", "appeal to prejudice", "fear-mongering", "fearmongering",
         "fear mongering", "scaremongering"),
    ),
    Technique(
        "flag_waving",
        "Flag-waving",
        "Playing on strong national (or other group) feeling to justify or promote "
        "an action or idea.",
        "Flag-Waving",
        ("Flag-waving", "Flag_Waving", "flagwaving"),
    ),
    Technique(
        "causal_oversimplification",
        "Causal oversimplification",
        "Assuming one cause when there are several; includes scapegoating.",
        "Causal_Oversimplification",
        ("Causal Oversimplification", "scapegoating"),
    ),
    Technique(
        "slogans",
        "Slogans",
        "A brief, striking phrase, often with labelling or stereotyping, that acts "
        "as an emotional appeal.",
        "Slogans",
        ("slogan",),
    ),
    Technique(
        "appeal_to_authority",
        "Appeal to authority",
        "A claim is true because an authority (or a non-expert testimonial) says so.",
        "Appeal_to_Authority",
        ("Appeal to authority",),
    ),
    Technique(
        "black_and_white_fallacy",
        "Black-and-white fallacy",
        "Two options presented as the only ones; also telling the audience exactly "
        "what to do (dictatorship).",
        "Black-and-White_Fallacy",
        ("Black-and-white Fallacy/Dictatorship", "False_Dilemma-No_Choice",
         "false dilemma", "black and white", "dictatorship"),
    ),
    Technique(
        "thought_terminating_cliches",
        "Thought-terminating cliché",
        "Short, generic phrases that discourage critical thought.",
        "Thought-terminating_Cliches",
        ("Thought-terminating cliché", "Thought-terminating cliche",
         "Conversation_Killer", "thought terminating cliche"),
    ),
    Technique(
        "whataboutism_straw_men_red_herring",
        "Whataboutism, straw men, red herring",
        "Discrediting by a charge of hypocrisy; refuting a distorted version of the "
        "opponent's claim; diverting to an irrelevant topic.",
        "Whataboutism,Straw_Men,Red_Herring",
        ("Whataboutism", "Straw_Men", "Straw_Man", "straw man", "Red_Herring",
         "red herring", "Misrepresentation of Someone's Position (Straw Man)",
         "Presenting Irrelevant Data (Red Herring)"),
    ),
    Technique(
        "bandwagon_reductio_ad_hitlerum",
        "Bandwagon, reductio ad hitlerum",
        "\"Everyone is doing it\"; rejecting an idea because a hated group holds it.",
        "Bandwagon,Reductio_ad_hitlerum",
        ("Bandwagon", "Reductio_ad_hitlerum", "Reductio ad hitlerum",
         "Appeal_to_Popularity", "Guilt_by_Association"),
    ),
)
"""The 14 techniques of PTC-2020 as :class:`Technique` records (id, name, definition, PTC label, aliases), in
:data:`TECHNIQUE_IDS` order."""

TECHNIQUE_IDS: tuple[str, ...] = tuple(t.id for t in TECHNIQUES)
"""The ids of the 14 techniques, in the column order of every model, score table and 0/1 label matrix."""

#: Labels of other inventories that have no counterpart among the 14 techniques.
#: Readers drop them and count what they dropped (TAXONOMY.md).
UNMAPPED_LABELS: frozenset[str] = frozenset(
    normalize(x)
    for x in (
        "Obfuscation,Intentional_Vagueness,Confusion",
        "Glittering generalities (Virtue)",
        "Smears",
        "Appeal_to_Values",
        "Consequential_Oversimplification",
        "Questioning_the_Reputation",
        "Appeal_to_Hypocrisy",
        "Appeal_to_Time",
        "Obfuscation-Vagueness-Confusion",
    )
)


def _build_index() -> dict[str, Technique]:
    index: dict[str, Technique] = {}
    for t in TECHNIQUES:
        for key in (t.id, t.name, t.ptc_label, *t.aliases):
            k = normalize(key)
            if k in index and index[k] is not t:  # pragma: no cover - guards the table above
                raise AssertionError(f"alias {key!r} is ambiguous")
            index[k] = t
    return index


_INDEX = _build_index()


class UnknownTechniqueError(KeyError, ValueError):
    """A label that the taxonomy does not resolve to any of the 14 techniques.

    Both a ``KeyError`` (a failed lookup) and a ``ValueError`` (a bad argument).

    Examples
    --------
    >>> try:
    ...     technique("telepathy")
    ... except UnknownTechniqueError as exc:
    ...     print(str(exc)[:36])
    unknown technique 'telepathy'; valid
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def technique(name: str) -> Technique:
    """Resolve an id, a corpus label or a common name to its technique record.

    Matching ignores case, spaces and punctuation.

    Parameters
    ----------
    name : str
        E.g. ``"appeal_to_fear_prejudice"``, ``"Appeal_to_fear-prejudice"``,
        ``"Appeal to fear/prejudice"`` or ``"appeal to threat"``.

    Returns
    -------
    Technique

    Raises
    ------
    UnknownTechniqueError
        If the name resolves to no technique (the message lists the valid ids),
        or names a label with no counterpart (e.g. ``"Smears"``).
    TypeError
        If ``name`` is not a string.

    Examples
    --------
    >>> technique("appeal to threat").id
    'appeal_to_fear_prejudice'
    >>> technique("Name_Calling,Labeling").name
    'Name calling, labeling'
    """
    if not isinstance(name, str):
        raise TypeError(f"technique name must be a str, not {type(name).__name__}")
    key = normalize(name)
    found = _INDEX.get(key)
    if found is not None:
        return found
    if key in UNMAPPED_LABELS:
        raise UnknownTechniqueError(
            f"{name!r} is a known label with no counterpart among the 14 techniques"
        )
    raise UnknownTechniqueError(
        f"unknown technique {name!r}; valid ids are: {', '.join(TECHNIQUE_IDS)}"
    )


def technique_id(name: str) -> str | None:
    """Return the id ``name`` resolves to, or ``None`` for an unmapped label.

    Unlike :func:`technique`, a label from another inventory that has no
    counterpart (``Smears``, ``Obfuscation...``) gives ``None`` so that readers can
    drop and count it. A name that is unknown altogether still raises.

    Examples
    --------
    >>> technique_id("Red_Herring")
    'whataboutism_straw_men_red_herring'
    >>> technique_id("Smears") is None
    True
    """
    try:
        return technique(name).id
    except UnknownTechniqueError:
        if normalize(name) in UNMAPPED_LABELS:
            return None
        raise
