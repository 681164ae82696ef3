"""Addresses as keys and distances between points: what the duplicate hint compares."""

from __future__ import annotations

import pytest

from agentdesk.tickets.places import NEAR_M, address_key, box_around, distance_m

# the Main Market Square's Town Hall Tower in Kraków (WGS 84)
TOWER = (50.06170, 19.93655)


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("ul. Floriańska 3", "Florianska 3"),
        ("ulica Floriańska 3", "FLORIAŃSKA  3"),
        ("Floriańska 3, Kraków", "ul.Floriańska 3"),
        ("al. Mickiewicza 3A", "Aleja Mickiewicza 3 a"),
        ("Aleje Mickiewicza 3a", "al. mickiewicza 3A"),
        ("os. Centrum C 12", "osiedle Centrum C 12"),
        ("pl. Wolnica 1", "Plac Wolnica 1"),
        ("ul. Łobzowska 10", "Lobzowska 10"),
        ("ul. Źródlana 2b", "zrodlana 2 B"),
    ],
)
def test_one_address_written_in_polish_ways_gives_one_key(written: str, same_as: str) -> None:
    assert address_key(written) == address_key(same_as)
    assert address_key(written)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ul. Floriańska 3", "ul. Floriańska 5"),
        ("ul. Floriańska 3", "ul. Floriańska 3a"),
        ("al. Mickiewicza 3", "ul. Kościuszki 3"),
    ],
)
def test_another_house_or_street_gives_another_key(one: str, other: str) -> None:
    assert address_key(one) != address_key(other)


def test_a_key_reads_as_the_street_and_number() -> None:
    assert address_key("ul. Floriańska 3 A, Kraków") == "florianska 3a"


@pytest.mark.parametrize("nothing", [None, "", "   ", "ul.", "Kraków"])
def test_an_address_with_no_place_in_it_has_no_key(nothing: str | None) -> None:
    assert address_key(nothing) is None


def test_distance_of_one_thousandth_of_a_degree_of_latitude_is_about_111_m() -> None:
    lat, lon = TOWER
    assert distance_m(lat, lon, lat + 0.001, lon) == pytest.approx(111.2, abs=0.2)
    assert distance_m(lat, lon, lat, lon) == 0.0


def test_distance_between_the_town_hall_tower_and_the_barbican_is_about_560_m() -> None:
    barbican = (50.06551, 19.94168)  # the Barbican, at the end of Floriańska
    assert distance_m(*TOWER, *barbican) == pytest.approx(560, rel=0.1)


def test_a_degree_of_longitude_is_shorter_in_krakow_than_at_the_equator() -> None:
    lat, lon = TOWER
    along_parallel = distance_m(lat, lon, lat, lon + 0.001)
    assert along_parallel == pytest.approx(111.2 * 0.6420, rel=0.01)  # cos(50.06°)


def test_the_box_holds_every_point_within_its_distance() -> None:
    south, north, west, east = box_around(*TOWER, NEAR_M)
    lat, lon = TOWER
    for corner_lat, corner_lon in ((south, lon), (north, lon), (lat, west), (lat, east)):
        assert distance_m(lat, lon, corner_lat, corner_lon) == pytest.approx(NEAR_M, rel=0.001)
    assert south < lat < north and west < lon < east
