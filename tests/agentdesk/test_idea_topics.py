"""Ideas grouped by topic with the knowledge base's Polish analyzer: inflected forms of the same
line or place meet, the side (more or less of it) is read from the verb or noun in any form."""

from __future__ import annotations

import pytest

from agentdesk.tickets.idea_topics import Idea, Side, group_of, side_of, topic_of
from kb import PolishAnalyzer, polish_analyzer


@pytest.fixture(scope="module")
def analyzer() -> PolishAnalyzer:
    return polish_analyzer()


IDEAS = [
    Idea("KCK-2026-000001", "transport", "Proszę wydłużyć linię 52 do Bronowic Małych"),
    Idea("KCK-2026-000002", "transport", "Skrócenie linii nr 52, bo za Bronowicami jeździ pusta"),
    Idea("KCK-2026-000003", "transport", "Przedłużenie autobusu 52 aż do pętli w Bronowicach"),
    Idea("KCK-2026-000004", "transport", "Zlikwidować linię 152, dubluje tramwaj"),
    Idea("KCK-2026-000005", "transport", "Nowy przystanek autobusowy przy ul. Lubicz"),
    Idea("KCK-2026-000006", "greenery", "Zlikwidować trawnik na Bronowicach i zrobić parking"),
    Idea("KCK-2026-000007", "greenery", "Więcej ławek na Plantach"),
    Idea("KCK-2026-000008", "greenery", "Usunięcie ławki na Plantach przy Floriańskiej"),
]


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("Proszę wydłużyć linię 52", Side.FOR),
        ("Wydłużenie linii 52", Side.FOR),
        ("przedłużenia trasy 52", Side.FOR),
        ("Dodać kurs o 5 rano", Side.FOR),
        ("Dodanie ławek", Side.FOR),
        ("Więcej koszy na śmieci", Side.FOR),
        ("Skrócić linię 52", Side.AGAINST),
        ("skrócenia linii", Side.AGAINST),
        ("Zlikwidować linię 152", Side.AGAINST),
        ("Likwidacja przystanku", Side.AGAINST),
        ("Usunięcie ławki", Side.AGAINST),
        ("Zmniejszenie liczby kursów", Side.AGAINST),
        ("Przystanek przy ul. Lubicz", Side.NEITHER),
        ("Dodać jedno, zlikwidować drugie", Side.NEITHER),
    ],
)
def test_the_side_of_an_idea_is_read_in_any_inflected_form(text: str, side: Side) -> None:
    assert side_of(text) is side


def test_a_topic_keeps_the_line_and_the_place_and_drops_generic_words(
    analyzer: PolishAnalyzer,
) -> None:
    topic = topic_of(analyzer, "Proszę wydłużyć linię autobusową 52 do Bronowic")
    assert [word for word, _ in topic.words] == ["52", "Bronowic"]
    assert topic.side is Side.FOR


def test_lengthen_and_shorten_the_same_line_are_one_topic_with_both_sides_counted(
    analyzer: PolishAnalyzer,
) -> None:
    group = group_of(analyzer, "transport", "Zlikwidować autobus 52 do Bronowic", IDEAS)
    assert [s.idea.number for s in group.similar] == [
        "KCK-2026-000001",
        "KCK-2026-000002",
        "KCK-2026-000003",
    ]
    # Bronowic, Bronowicami, Bronowicach: one place in three cases
    assert [s.shared for s in group.similar] == [
        ("52", "Bronowic"),
        ("52", "Bronowicami"),
        ("52", "Bronowicach"),
    ]
    assert group.side is Side.AGAINST
    assert group.counts == {Side.FOR: 2, Side.AGAINST: 2, Side.NEITHER: 0}
    assert group.contested
    assert group.words == ("52", "Bronowic")


def test_another_line_another_category_or_another_street_is_not_the_topic(
    analyzer: PolishAnalyzer,
) -> None:
    group = group_of(analyzer, "transport", "Wydłużyć linię 52", IDEAS)
    numbers = {s.idea.number for s in group.similar}
    assert "KCK-2026-000004" not in numbers  # line 152 is another line
    assert "KCK-2026-000005" not in numbers  # a stop is not a topic by itself
    assert "KCK-2026-000006" not in numbers  # Bronowice in greenery is another category
    assert numbers == {"KCK-2026-000002", "KCK-2026-000001", "KCK-2026-000003"}


def test_benches_on_the_planty_more_and_fewer_meet_in_their_inflected_forms(
    analyzer: PolishAnalyzer,
) -> None:
    group = group_of(analyzer, "greenery", "Dodać ławkę na Plantach", IDEAS)
    assert [s.idea.number for s in group.similar] == ["KCK-2026-000007", "KCK-2026-000008"]
    assert [s.shared for s in group.similar] == [("ławek", "Plantach"), ("ławki", "Plantach")]
    assert group.counts[Side.FOR] == 2 and group.counts[Side.AGAINST] == 1


def test_an_idea_with_nothing_in_common_has_no_group(analyzer: PolishAnalyzer) -> None:
    group = group_of(analyzer, "transport", "Proszę o nowy rozkład jazdy nocnych", IDEAS)
    assert group.similar == ()
    assert group.counts == {Side.FOR: 0, Side.AGAINST: 0, Side.NEITHER: 1}
    assert not group.contested
