"""How numbers are said in pl, uk and en: the words (kck's own sound files) and the noun form after them.

Each word is a sound named `num/<token>` under a language folder (`<sounds>/pl/num/22.wav` is not a
file: 22 is said as `num/20` + `num/2`). Tokens are the values of the words: `0`…`19`, the tens
`20`…`90`, the hundreds `100`…`900`, feminine forms `1_f` and `2_f` (pl, uk), `and` (en),
`more_than`, and a counted noun's forms `<noun>_<plural form>` (`minute_few`). The texts below are
language data, not menu content: `kck prompts build` speaks them for every menu language, and a
real recording saved under the same name replaces the synthetic one.

Numbers above `MAX_SPOKEN` are said as "more than 999" (no caller waits for a thousand minutes or
has a thousand callers ahead; saying more would need words for thousands that nobody hears).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

NUMBER_SOUNDS = "num"  # the folder of the number words under each language's sounds
MAX_SPOKEN = 999
MINUTE = "minute"


class Gender(enum.Enum):
    """The gender of the noun a number counts; English numerals have none (both give the same)."""

    MASCULINE = "masculine"  # also the form of a bare count ("Liczba osób przed Tobą: dwa")
    FEMININE = "feminine"


class PluralForm(enum.StrEnum):
    """CLDR plural categories, as used for integers."""

    ONE = "one"
    FEW = "few"
    MANY = "many"
    OTHER = "other"


class UnknownLanguage(ValueError):
    """No number words for this language."""


@dataclass(frozen=True)
class Noun:
    """A counted noun in one language: its gender and the text of each of its plural forms."""

    gender: Gender
    forms: Mapping[PluralForm, str]  # text of each plural form the language has


@dataclass(frozen=True)
class _Language:
    words: Mapping[str, str]  # token → text
    plural: Callable[[int], PluralForm]
    compose: Callable[[int, Gender], list[str]]  # 0…MAX_SPOKEN → tokens
    nouns: Mapping[str, Noun]


def _units_tens_hundreds(
    n: int, unit: Callable[[int, bool], str], after_hundreds: tuple[str, ...] = ()
) -> list[str]:
    """0…999 as hundreds, tens, teens and units; `unit(u, alone)` picks the word for 1…9."""
    if n == 0:
        return ["0"]
    hundreds, rest = divmod(n, 100)
    tokens = [str(hundreds * 100)] if hundreds else []
    if hundreds and rest:
        tokens += after_hundreds
    if rest >= 20:
        tens, units = divmod(rest, 10)
        tokens.append(str(tens * 10))
        if units:
            tokens.append(unit(units, False))
    elif rest >= 10:
        tokens.append(str(rest))
    elif rest:
        tokens.append(unit(rest, not hundreds))
    return tokens


def _slavic_few(n: int) -> bool:
    return n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14)


def _polish_plural(n: int) -> PluralForm:
    if n == 1:
        return PluralForm.ONE
    return PluralForm.FEW if _slavic_few(n) else PluralForm.MANY


def _polish(n: int, gender: Gender) -> list[str]:
    # "jedna minuta" but "dwadzieścia jeden minut"; "dwie minuty", "dwadzieścia dwie minuty"
    def unit(u: int, alone: bool) -> str:
        if gender is Gender.FEMININE and (u == 2 or (u == 1 and alone)):
            return f"{u}_f"
        return str(u)

    return _units_tens_hundreds(n, unit)


def _ukrainian_plural(n: int) -> PluralForm:
    if n % 10 == 1 and n % 100 != 11:
        return PluralForm.ONE
    return PluralForm.FEW if _slavic_few(n) else PluralForm.MANY


def _ukrainian(n: int, gender: Gender) -> list[str]:
    # "одна хвилина", "двадцять одна хвилина", "дві хвилини", "двадцять дві хвилини"
    def unit(u: int, alone: bool) -> str:
        return f"{u}_f" if gender is Gender.FEMININE and u in (1, 2) else str(u)

    return _units_tens_hundreds(n, unit)


def _english_plural(n: int) -> PluralForm:
    return PluralForm.ONE if n == 1 else PluralForm.OTHER


def _english(n: int, gender: Gender) -> list[str]:
    # British: "one hundred and five"
    return _units_tens_hundreds(n, lambda u, alone: str(u), after_hundreds=("and",))


def _table(
    units: tuple[str, ...],
    tens: tuple[str, ...],
    hundreds: tuple[str, ...],
    more: Mapping[str, str],
) -> dict[str, str]:
    """Token → text: `units` says 0…19, `tens` 20…90, `hundreds` 100…900, `more` the rest."""
    values = [*range(20), *range(20, 100, 10), *range(100, 1000, 100)]
    return {**dict(zip(map(str, values), units + tens + hundreds, strict=True)), **more}


_POLISH_WORDS = _table(
    units=(
        "zero", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć",
        "dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście",
        "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście",
    ),
    tens=(
        "dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt",
        "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt",
    ),
    hundreds=(
        "sto", "dwieście", "trzysta", "czterysta", "pięćset", "sześćset", "siedemset", "osiemset",
        "dziewięćset",
    ),
    more={"1_f": "jedna", "2_f": "dwie", "more_than": "ponad"},
)  # fmt: skip

_UKRAINIAN_WORDS = _table(
    units=(
        "нуль", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять",
        "десять", "одинадцять", "дванадцять", "тринадцять", "чотирнадцять", "п'ятнадцять",
        "шістнадцять", "сімнадцять", "вісімнадцять", "дев'ятнадцять",
    ),
    tens=(
        "двадцять", "тридцять", "сорок", "п'ятдесят", "шістдесят", "сімдесят", "вісімдесят",
        "дев'яносто",
    ),
    hundreds=(
        "сто", "двісті", "триста", "чотириста", "п'ятсот", "шістсот", "сімсот", "вісімсот",
        "дев'ятсот",
    ),
    more={"1_f": "одна", "2_f": "дві", "more_than": "понад"},
)  # fmt: skip

_ENGLISH_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_ENGLISH_WORDS = _table(
    units=_ENGLISH_UNITS,
    tens=("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"),
    hundreds=tuple(f"{unit} hundred" for unit in _ENGLISH_UNITS[1:10]),
    more={"and": "and", "more_than": "more than"},
)

_LANGUAGES: dict[str, _Language] = {
    "pl": _Language(
        _POLISH_WORDS,
        _polish_plural,
        _polish,
        {
            MINUTE: Noun(
                Gender.FEMININE,
                {PluralForm.ONE: "minuta", PluralForm.FEW: "minuty", PluralForm.MANY: "minut"},
            )
        },
    ),
    "uk": _Language(
        _UKRAINIAN_WORDS,
        _ukrainian_plural,
        _ukrainian,
        {
            MINUTE: Noun(
                Gender.FEMININE,
                {PluralForm.ONE: "хвилина", PluralForm.FEW: "хвилини", PluralForm.MANY: "хвилин"},
            )
        },
    ),
    "en": _Language(
        _ENGLISH_WORDS,
        _english_plural,
        _english,
        {MINUTE: Noun(Gender.MASCULINE, {PluralForm.ONE: "minute", PluralForm.OTHER: "minutes"})},
    ),
}
LANGUAGES: tuple[str, ...] = tuple(_LANGUAGES)


def _language(language: str) -> _Language:
    try:
        return _LANGUAGES[language]
    except KeyError:
        raise UnknownLanguage(
            f"no number words for language {language!r} (kck has {', '.join(LANGUAGES)})"
        ) from None


def _sound(token: str) -> str:
    return f"{NUMBER_SOUNDS}/{token}"


def _noun_token(noun: str, form: PluralForm) -> str:
    return f"{noun}_{form.value}"


def plural_form(n: int, language: str) -> PluralForm:
    """The form of a noun counted by `n` (Polish 22 → few: "minuty"; 21 → many: "minut")."""
    return _language(language).plural(min(n, MAX_SPOKEN))


def say_number(n: int, language: str, gender: Gender = Gender.MASCULINE) -> tuple[str, ...]:
    """The sounds (`num/<token>`, relative to the language folder) that say `n` ≥ 0."""
    if n < 0:
        raise ValueError(f"cannot say a negative number: {n}")
    spoken = _language(language)
    if n > MAX_SPOKEN:
        return (_sound("more_than"), *map(_sound, spoken.compose(MAX_SPOKEN, gender)))
    return tuple(map(_sound, spoken.compose(n, gender)))


def say_count(n: int, noun: str, language: str) -> tuple[str, ...]:
    """`n` in the noun's gender followed by the noun's form: 22 minutes → "dwadzieścia dwie minuty"."""
    spoken = _language(language)
    try:
        forms = spoken.nouns[noun]
    except KeyError:
        raise ValueError(f"no words for the noun {noun!r} in language {language!r}") from None
    form = plural_form(n, language)
    return (*say_number(n, language, forms.gender), _sound(_noun_token(noun, form)))


def say_digits(digits: str, language: str) -> tuple[str, ...]:
    """One word per digit, as a phone number is read back: "600…" → six, zero, zero, …"""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"only the digits 0-9 can be read one by one, not {digits!r}")
    _language(language)
    return tuple(_sound(d) for d in digits)


def number_words(language: str) -> dict[str, str]:
    """Every number sound of a language and the text it says: what `kck prompts build` speaks."""
    spoken = _language(language)
    words = {_sound(token): text for token, text in spoken.words.items()}
    for noun, forms in spoken.nouns.items():
        for form, text in forms.forms.items():
            words[_sound(_noun_token(noun, form))] = text
    return words


def spoken_text(sounds: tuple[str, ...], language: str) -> str:
    """The words a list of number sounds says, for logs, the terminal and tests."""
    words = number_words(language)
    return " ".join(words[sound] for sound in sounds)
