"""Sentence splitting: boundaries and exact offsets."""

from __future__ import annotations

import pytest

from propdetect._sentences import split_sentences


def texts(text):
    return [text[a:b] for a, b in split_sentences(text)]


def test_newlines_are_boundaries_and_blank_lines_vanish():
    assert texts("Title\n\nFirst line.\nSecond line") == ["Title", "First line.", "Second line"]


@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r", "\u2028", "\u2029"])
def test_every_line_break_style(nl):
    text = f"One.{nl}Two.{nl}{nl}Three."
    assert texts(text) == ["One.", "Two.", "Three."]


def test_sentences_inside_a_line_are_split():
    t = "Dr. Smith went to Washington, D.C. at 5 p.m. on Monday. He said it was over. The U.S. Sen. John Doe agreed."
    assert texts(t) == [
        "Dr. Smith went to Washington, D.C. at 5 p.m. on Monday.",
        "He said it was over.",
        "The U.S. Sen. John Doe agreed.",
    ]


def test_initials_and_titles_do_not_split():
    assert texts("John F. Kennedy met Mr. Brown and Mrs. Green today.") == [
        "John F. Kennedy met Mr. Brown and Mrs. Green today."
    ]


def test_quotes_from_the_seed_article():
    t = "‘Foreign mercenaries were encountered often. There are many of them, very many. They are very cruel,’ he said."
    assert texts(t) == [
        "‘Foreign mercenaries were encountered often.",
        "There are many of them, very many.",
        "They are very cruel,’ he said.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "\tTabbed start.\tStill here. Next one!\r\n\r\n  Indented — with dash…  ",
        "Ünïcödé façade. Ça va? Ja! 日本語の文。\nΕλληνικά κείμενο. Русский текст.",
        "Emoji 😀🎉 here. More 👩‍👩‍👧 family! Flags 🇺🇦🇷🇺. End",
        "مرحبا بالعالم. שלום עולם. Mixed RTL.",
        "Zero\u200bwidth\u200d joiner. Next\ufeff sentence.",
        "NUL\x00 and bell\x07 here. Next.",
        "",
        "   \n\t\r\n  ",
    ],
)
def test_offsets_index_the_text(text):
    spans = split_sentences(text)
    prev_end = 0
    for a, b in spans:
        s = text[a:b]
        assert s and s == s.strip()
        assert "\n" not in s and "\r" not in s
        assert a >= prev_end
        prev_end = b


def test_long_line_without_punctuation_is_one_sentence():
    line = "word " * 20_000
    assert split_sentences(line) == [(0, len(line) - 1)]


def test_pathological_punctuation_stays_fast():
    # A line of dots and a line of alternating '. A' would be quadratic with a
    # naive regex; both must finish at once.
    import time

    t0 = time.perf_counter()
    split_sentences("." * 100_000)
    split_sentences(". A" * 30_000)
    assert time.perf_counter() - t0 < 10  # generous: a quadratic scan takes minutes
