"""Polish analysis: folding (ł included), stemming that joins inflected and undiacritised forms."""

from __future__ import annotations

from kb import PolishAnalyzer, fold


def shares_a_term(analyzer: PolishAnalyzer, a: str, b: str) -> bool:
    return bool(analyzer.word_terms(a) & analyzer.word_terms(b))


def test_fold_removes_polish_diacritics_including_l_with_stroke() -> None:
    assert fold("Zażółć gęślą jaźń ŁÓDŹ") == "zazolc gesla jazn lodz"


def test_inflected_forms_share_a_term_with_the_base_form(analyzer: PolishAnalyzer) -> None:
    for a, b in [
        ("dowodu", "dowód"),
        ("drodze", "droga"),
        ("dziury", "dziura"),
        ("zgłoszenia", "zgłoszenie"),
        ("chodnikach", "chodnik"),
        ("ślubu", "ślub"),
    ]:
        assert shares_a_term(analyzer, a, b), (a, b)


def test_words_typed_without_diacritics_meet_the_written_form(analyzer: PolishAnalyzer) -> None:
    for typed, written in [
        ("dowod", "dowód"),
        ("zgloszenia", "zgłoszenie"),
        ("smieci", "śmieci"),
        ("odpadow", "odpadów"),
        ("nieruchomosci", "nieruchomości"),
    ]:
        assert shares_a_term(analyzer, typed, written), (typed, written)


def test_unrelated_words_do_not_meet(analyzer: PolishAnalyzer) -> None:
    assert not shares_a_term(analyzer, "dowód", "droga")
    assert not shares_a_term(analyzer, "pies", "piec")


def test_stopwords_and_punctuation_give_no_query_words(analyzer: PolishAnalyzer) -> None:
    assert analyzer.query_groups("na w z i — ?!") == []
    assert len(analyzer.query_groups("dziura na drodze")) == 2


def test_last_word_is_a_prefix_only_while_typing(analyzer: PolishAnalyzer) -> None:
    assert analyzer.last_word_prefix("zgubiony dowo") == "dowo"
    assert analyzer.last_word_prefix("zgubiony dowo ") is None
    assert analyzer.last_word_prefix("Łó") is None


def test_cyrillic_text_is_folded_but_not_stemmed(analyzer: PolishAnalyzer) -> None:
    assert analyzer.word_terms("квиток") == frozenset({"квиток"})
