"""Numbers said in the caller's language, with the right gender and noun form, from kck's own words."""

from __future__ import annotations

import re

import pytest

from kck.spoken_numbers import (
    LANGUAGES,
    MINUTE,
    Gender,
    PluralForm,
    UnknownLanguage,
    number_words,
    plural_form,
    say_count,
    say_digits,
    say_number,
    spoken_text,
)

MINUTES = [
    ("pl", 0, "zero minut"),
    ("pl", 1, "jedna minuta"),
    ("pl", 2, "dwie minuty"),
    ("pl", 4, "cztery minuty"),
    ("pl", 5, "pięć minut"),
    ("pl", 11, "jedenaście minut"),
    ("pl", 12, "dwanaście minut"),
    ("pl", 14, "czternaście minut"),
    ("pl", 21, "dwadzieścia jeden minut"),
    ("pl", 22, "dwadzieścia dwie minuty"),
    ("pl", 25, "dwadzieścia pięć minut"),
    ("pl", 100, "sto minut"),
    ("pl", 101, "sto jeden minut"),
    ("pl", 102, "sto dwie minuty"),
    ("pl", 112, "sto dwanaście minut"),
    ("pl", 122, "sto dwadzieścia dwie minuty"),
    ("pl", 999, "dziewięćset dziewięćdziesiąt dziewięć minut"),
    ("uk", 0, "нуль хвилин"),
    ("uk", 1, "одна хвилина"),
    ("uk", 2, "дві хвилини"),
    ("uk", 4, "чотири хвилини"),
    ("uk", 5, "п'ять хвилин"),
    ("uk", 11, "одинадцять хвилин"),
    ("uk", 12, "дванадцять хвилин"),
    ("uk", 14, "чотирнадцять хвилин"),
    ("uk", 21, "двадцять одна хвилина"),
    ("uk", 22, "двадцять дві хвилини"),
    ("uk", 25, "двадцять п'ять хвилин"),
    ("uk", 101, "сто одна хвилина"),
    ("uk", 111, "сто одинадцять хвилин"),
    ("uk", 112, "сто дванадцять хвилин"),
    ("uk", 122, "сто двадцять дві хвилини"),
    ("uk", 240, "двісті сорок хвилин"),
    ("en", 0, "zero minutes"),
    ("en", 1, "one minute"),
    ("en", 2, "two minutes"),
    ("en", 4, "four minutes"),
    ("en", 5, "five minutes"),
    ("en", 11, "eleven minutes"),
    ("en", 12, "twelve minutes"),
    ("en", 14, "fourteen minutes"),
    ("en", 21, "twenty one minutes"),
    ("en", 22, "twenty two minutes"),
    ("en", 25, "twenty five minutes"),
    ("en", 100, "one hundred minutes"),
    ("en", 101, "one hundred and one minutes"),
    ("en", 112, "one hundred and twelve minutes"),
    ("en", 122, "one hundred and twenty two minutes"),
]


@pytest.mark.parametrize(("language", "n", "expected"), MINUTES)
def test_minutes_are_said_with_the_numeral_and_noun_form_the_grammar_needs(
    language: str, n: int, expected: str
) -> None:
    assert spoken_text(say_count(n, MINUTE, language), language) == expected


PLURALS = [
    *(
        ("pl", n, form)
        for n, form in [
            (0, "many"),
            (1, "one"),
            (2, "few"),
            (4, "few"),
            (5, "many"),
            (11, "many"),
            (12, "many"),
            (14, "many"),
            (21, "many"),
            (22, "few"),
            (25, "many"),
            (101, "many"),
            (112, "many"),
            (122, "few"),
            (914, "many"),
        ]
    ),
    *(
        ("uk", n, form)
        for n, form in [
            (0, "many"),
            (1, "one"),
            (2, "few"),
            (4, "few"),
            (5, "many"),
            (11, "many"),
            (12, "many"),
            (14, "many"),
            (21, "one"),
            (22, "few"),
            (25, "many"),
            (101, "one"),
            (111, "many"),
            (112, "many"),
            (122, "few"),
        ]
    ),
    *(("en", n, "one" if n == 1 else "other") for n in (0, 1, 2, 5, 11, 21, 101)),
]


@pytest.mark.parametrize(("language", "n", "form"), PLURALS)
def test_plural_form_of_the_counted_noun(language: str, n: int, form: str) -> None:
    assert plural_form(n, language) is PluralForm(form)


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("pl", 1, "jeden"),
        ("pl", 2, "dwa"),
        ("pl", 22, "dwadzieścia dwa"),
        ("pl", 305, "trzysta pięć"),
        ("uk", 1, "один"),
        ("uk", 21, "двадцять один"),
        ("uk", 2, "два"),
        ("en", 3, "three"),
        ("en", 40, "forty"),
        ("en", 705, "seven hundred and five"),
    ],
)
def test_a_bare_count_takes_the_masculine_default_form(
    language: str, n: int, expected: str
) -> None:
    assert spoken_text(say_number(n, language), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("pl", "ponad dziewięćset dziewięćdziesiąt dziewięć minut"),
        ("uk", "понад дев'ятсот дев'яносто дев'ять хвилин"),
        ("en", "more than nine hundred and ninety nine minutes"),
    ],
)
def test_numbers_above_999_are_said_as_more_than_999(language: str, expected: str) -> None:
    assert spoken_text(say_count(1000, MINUTE, language), language) == expected
    assert spoken_text(say_count(123_456, MINUTE, language), language) == expected


def test_polish_phone_number_is_read_digit_by_digit() -> None:
    sounds = say_digits("600100200", "pl")
    assert sounds[:3] == ("num/6", "num/0", "num/0")
    assert spoken_text(sounds, "pl") == "sześć zero zero jeden zero zero dwa zero zero"
    assert spoken_text(say_digits("0192", "uk"), "uk") == "нуль один дев'ять два"


@pytest.mark.parametrize("bad", ["", "+48600", "12 34", "٣"])
def test_only_ascii_digits_are_read_one_by_one(bad: str) -> None:
    with pytest.raises(ValueError, match="only the digits 0-9"):
        say_digits(bad, "pl")


def test_unknown_language_and_negative_number_are_refused_by_name() -> None:
    with pytest.raises(UnknownLanguage, match="'de'"):
        say_number(3, "de")
    with pytest.raises(ValueError, match="-1"):
        say_number(-1, "pl")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("gender", list(Gender))
def test_every_number_up_to_999_has_its_own_words_and_each_word_a_text(
    language: str, gender: Gender
) -> None:
    words = number_words(language)
    said = {}
    for n in range(1200):
        sounds = say_number(n, language, gender)
        assert all(sound in words for sound in sounds), (n, sounds)
        if n <= 999:
            said[n] = spoken_text(sounds, language)
    assert len(set(said.values())) == len(said)  # no two numbers sound alike


@pytest.mark.parametrize("language", LANGUAGES)
def test_number_sounds_are_file_names_under_num(language: str) -> None:
    for sound, text in number_words(language).items():
        assert re.fullmatch(r"num/[a-z0-9_]+", sound), sound
        assert text.strip() == text and text
