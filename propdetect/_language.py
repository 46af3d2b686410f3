"""Language: a cheap check that a text looks like English, the only language the
models know.

The test counts words, not characters, over a sample of the text (at most
``_SAMPLE_CHARS`` characters, taken from a few places, so that it costs the same on a
50 MB document as on a page):

* a text of fewer than ``MIN_WORDS`` words is too short to tell;
* a text written mostly in letters outside the Latin script (Cyrillic, Greek,
  Arabic, CJK, ...) is not English;
* otherwise the share of its words that are common English function words ("the",
  "of", "and", "is", ...) is compared with the share that are function words of
  the other languages most often met in news (German, French, Spanish, Italian,
  Portuguese, Dutch) and are not English words. English prose has about 40-50% of
  the first and almost none of the second.

No dictionary, no model, no dependency: a few hundred words in two sets.
"""

from __future__ import annotations

import re
from collections import Counter

from ._tokens import STOPWORDS

__all__ = ["MIN_WORDS", "language_warnings", "english_shares", "looks_english"]

#: Below this many words a text is too short to tell its language. (A headline
#: such as "Russia signs new nuclear doctrine" has no function word at all.)
MIN_WORDS = 8

# The sample: texts up to this size are read whole; longer ones by _WINDOWS
# evenly spaced windows that add up to it.
_SAMPLE_CHARS = 8_000
_WINDOWS = 4

# Thresholds, set on the shares measured with english_shares() (tests/test_language.py
# repeats the measurement): every PTC-2020 train, dev and test article (536) and the
# seed have an English share of at least 0.25 and a foreign share of at most 0.02;
# hand-written German, French, Spanish, Italian, Portuguese and Dutch news paragraphs
# have English shares of 0.00-0.10 and foreign shares of 0.25-0.50.
_LONG = 30               # words: from here on, the share of English function words decides
_MIN_ENGLISH = 0.15      # ... fewer than this: not English
_MIN_ENGLISH_SHORT = 0.1
_MAX_NON_LATIN = 0.5     # more letters than this outside the Latin script: not English
_MIN_LETTERS = 12        # ... once there are this many (CJK writes no spaces between words)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Links, handles and hashtags are not words of any language ("pic.twitter.com/x" would
# count "com", Portuguese for "with").
_NOT_PROSE = re.compile(r"(?<!\S)\S*?(?:[/@#]|\.[^\W\d_]{2})\S*")
# What every match of _NOT_PROSE holds: a sample without it (about half of PTC's
# articles) has nothing to remove, found by a scan much cheaper than the full pattern.
_NOT_PROSE_HINT = re.compile(r"[/@#]|\.[^\W\d_]{2}")
# A letter outside the Latin script: not Basic Latin to Latin Extended-B, IPA or Latin
# Extended Additional (Vietnamese).
_NON_LATIN = re.compile(r"[^\W\d_\x00-\u02af\u1e00-\u1eff]")

#: Common English function words: pronouns, determiners, prepositions,
#: conjunctions, auxiliaries and frequent adverbs (with the contractions news text
#: uses), plus propdetect._features.STOPWORDS.
ENGLISH = frozenset(STOPWORDS) | frozenset("""
a about above across after afterwards again against ago all almost alone along already also although
always am among amongst an and another any anybody anyone anything anyway anywhere are around as at
away back be became because become becomes been before beforehand behind being below beside besides
between beyond both but by can cannot could did do does doing done down during each either else
elsewhere enough even ever every everybody everyone everything everywhere except few for former
formerly from further furthermore had has have having he hence her here hereby herein hers herself
him himself his how however i if in indeed instead into is it its itself just last latter least
less many may me meanwhile might mine more moreover most mostly much must my myself namely neither
never nevertheless next no nobody none nor not nothing now nowhere of off often on once one only
onto or other others otherwise our ours ourselves out over own per perhaps please rather same
shall she should since so some somebody someone something sometimes somewhere still such than that
the their theirs them themselves then there thereafter thereby therefore these they this those
though through throughout thus till to together too toward towards under unless until up upon us
very via was we well were what whatever when whenever where whereas wherever whether which while
who whoever whole whom whose why will with within without would yet you your yours yourself
yourselves according despite including near unlike amid
isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't can't
couldn't shouldn't mustn't it's he's she's that's there's what's who's let's i'm you're we're
they're i've you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll
we'll they'll
isn’t aren’t wasn’t weren’t hasn’t haven’t hadn’t doesn’t don’t didn’t won’t wouldn’t can’t
couldn’t shouldn’t it’s he’s she’s that’s there’s what’s who’s let’s i’m you’re we’re they’re
i’ve you’ve we’ve they’ve i’d you’d he’d she’d we’d they’d i’ll you’ll he’ll she’ll we’ll they’ll
""".split())

#: Function words of German, French, Spanish, Italian, Portuguese and Dutch that
#: are not English words (so not "die", "was", "also", "in", "a", "no", "is", "on").
FOREIGN = frozenset("""
der das und ist nicht ein eine einen einem einer eines des zu mit auf für sich von im auch
es wird werden sind wurde wurden nach bei aus wie oder aber noch nur über vor haben kann mehr
schon wenn als dass daß durch gegen unter zwischen ihre ihr sie wir ich du er uns unsere
diese dieser dieses jetzt immer sehr wieder bereits seit doch gibt nichts keine kein zum zur
vom beim damit sondern denn weil ob sowie laut gegenüber
le les et est une un du dans pour qui pas sur au aux avec ce cette ces il elle ils elles nous
vous été être avoir mais où plus par ne leur leurs son sa ses comme très aussi tout tous
bien sans sous entre depuis chez lui je qu l’ d’ c’est selon contre
el los las es una del por para con se sus lo como más pero este esta estos estas también
fue han ha muy sin ya desde cuando porque hasta donde todo todos sobre ser está están hay
según contra entre
il gli della delle degli di che è non per sono anche più alla nel nella dei al ma questo
questa essere ha hanno stato già dopo tra perché
os das dos não uma para mais é ao pelo pela também foi são está isso seu sua
het een van niet zijn voor ook dat er maar wordt worden werd naar bij nog heeft hebben deze
geen dan wel uit
que la y o da na em um ele ela
w z nie się że jest oraz przez dla ale jak za ze są był była było też tylko już przy który która które według
och att är som på og ikke af
ve bir ile için olarak daha
yang dengan untuk dari ini itu
""".split())


def _sample(text: str) -> str:
    if len(text) <= _SAMPLE_CHARS:
        return text
    width = _SAMPLE_CHARS // _WINDOWS
    step = (len(text) - width) / (_WINDOWS - 1)
    # Each window is cut at a space near its edges, if there is one (scripts such as
    # Chinese write none), so that no word is split there.
    parts = []
    for i in range(_WINDOWS):
        a = int(i * step)
        piece = text[a : a + width]
        if i and (j := piece.find(" ", 0, 100)) >= 0:
            piece = piece[j + 1 :]
        if i < _WINDOWS - 1 and (j := piece.rfind(" ", len(piece) - 100)) >= 0:
            piece = piece[:j]
        parts.append(piece)
    return " ".join(parts)


def _counts(text: str) -> tuple[int, int, int, int, int]:
    """``(words, English function words, foreign function words, letters, letters
    outside the Latin script)`` in the sample of ``text``."""
    sample = _sample(text)
    if _NOT_PROSE_HINT.search(sample) is not None:  # else there is nothing to remove
        sample = _NOT_PROSE.sub(" ", sample)
    sample = sample.lower()
    words = _WORD.findall(sample)
    counts = Counter(words)
    en = sum(map(counts.__getitem__, counts.keys() & ENGLISH))
    fx = sum(map(counts.__getitem__, counts.keys() & FOREIGN))
    return len(words), en, fx, sum(map(len, words)), len(_NON_LATIN.findall(sample))


def english_shares(text: str) -> tuple[int, float, float, float]:
    """``(words, english, foreign, non_latin)`` in the sample of ``text``: the number
    of words, the shares of them that are English and foreign function words, and
    the share of letters outside the Latin script.

    Examples
    --------
    >>> n, en, fx, nl = english_shares("The cat sat on the mat, and it was happy.")
    >>> n, round(en, 2), fx, nl
    (10, 0.6, 0.0, 0.0)
    >>> n, en, fx, nl = english_shares("Der Hund ist nicht auf dem Dach, sondern im Garten.")
    >>> en < 0.2 < fx
    True
    """
    n, en, fx, letters, non_latin = _counts(text)
    if not n:
        return 0, 0.0, 0.0, 0.0
    return n, en / n, fx / n, non_latin / letters


def looks_english(n: int, en: int, fx: int) -> bool:
    """The decision on counts of words, English and foreign function words.

    Long texts (``_LONG`` words or more): English when at least ``_MIN_ENGLISH`` of the
    words are English function words and they outnumber the foreign ones. Shorter
    texts vary more (a headline may have no function word at all), so only clear
    evidence counts against them: two foreign function words more than the English
    ones, or hardly any English and no fewer foreign ones.
    """
    if n >= _LONG:
        return en >= _MIN_ENGLISH * n and fx <= en
    return not ((fx >= 2 and fx > en) or (en < _MIN_ENGLISH_SHORT * n and fx >= max(en, 1)))


def language_warnings(text: str) -> tuple[str, ...]:
    """Warnings about ``text``'s language: none for English text long enough to tell.

    Parameters
    ----------
    text : str
        A whole text, as given to :meth:`Detector.detect`.

    Returns
    -------
    tuple of str
        Empty, or one sentence saying that the text is too short to tell its
        language, or that it does not look like English.

    Examples
    --------
    >>> language_warnings("The council meets on Tuesday, and the mayor said that it will vote on the plan.")
    ()
    >>> print(*language_warnings("Die Regierung hat am Dienstag neue Maßnahmen gegen die Krise beschlossen."))
    the text does not look like English (common English words such as 'the' or 'of' make up only 1 of its
    11 words); the model knows English only, so its scores mean little here
    >>> print(*language_warnings("Traitors, all of them!"))
    the text is too short to tell whether it is English (4 words); the model knows English only
    """
    n, en, fx, letters, non_latin = _counts(text)
    if letters >= _MIN_LETTERS and non_latin > _MAX_NON_LATIN * letters:
        return ("the text does not look like English (it is written mostly in another script than the Latin "
                "alphabet); the model knows English only, so its scores mean little here",)
    if n < MIN_WORDS:
        return (f"the text is too short to tell whether it is English ({n} word{'s' * (n != 1)}); "
                "the model knows English only",)
    if not looks_english(n, en, fx):
        return (f"the text does not look like English (common English words such as 'the' or 'of' make up only "
                f"{en} of its {n} words); the model knows English only, so its scores mean little here",)
    return ()
