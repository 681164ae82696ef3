"""Where a problem is, compared: a Polish street address normalised to a key, and the distance
between two points (haversine) with the box around a point that an index can search."""

from __future__ import annotations

import math
import re

from kb.analysis import fold

NEAR_M = 50.0  # a report this close to an open one of the same category may be the same problem
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
ADDRESS_KEY_MAX = 300

# Words an address may or may not carry without naming another place (folded): the street-type
# prefixes in full and short ("ul." / "ulica", "al." / "aleja", "os." / "osiedle", "pl." / "plac")
# and the city itself.
_NOISE_RAW = "ul ulica ulicy al aleja alei aleje os osiedle osiedla pl plac placu nr krakow"
_NOISE = frozenset(_NOISE_RAW.split())
_PARTS = re.compile(r"[a-z]+|\d+")


def address_key(text: str | None) -> str | None:
    """The address as a key: case and diacritics folded, street-type prefixes and the city dropped,
    whitespace and punctuation ignored, a house number's letter joined to it ("3 A" → "3a").
    "ul. Floriańska 3" and "Florianska 3" give the same key; None when nothing is left."""
    if not text:
        return None
    parts: list[str] = []
    for part in _PARTS.findall(fold(text)):
        if part in _NOISE:
            continue
        if len(part) == 1 and part.isalpha() and parts and parts[-1][-1].isdigit():
            parts[-1] += part  # the letter of a house number
            continue
        parts.append(part)
    key = " ".join(parts)[:ADDRESS_KEY_MAX]
    return key or None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres between two points given in degrees (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box_around(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) in degrees of a box holding every point within `metres` of the
    point: what an index on latitude can narrow down before the exact distance is taken."""
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
