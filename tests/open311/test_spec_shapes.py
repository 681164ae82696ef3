"""Our responses against the shapes of the GeoReport v2 specification's examples
(`spec_examples`): the same root and item elements, the same element names in each item (XML),
the same keys (JSON), well-formed UTF-8 XML with its declaration, dates in ISO 8601 with an
offset. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from tests.open311 import spec_examples as spec
from tests.open311.conftest import Open311World, report

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def shape(element: ET.Element) -> Any:
    """An element's tree of names: a leaf is its tag; items of a list count once."""
    children = list(element)
    if not children:
        return element.tag
    return (element.tag, tuple(sorted({shape(c) for c in children}, key=str)))


def keys_of(value: Any) -> Any:
    if isinstance(value, list):
        return [keys_of(value[0])] if value else []
    if isinstance(value, dict):
        return {k: keys_of(v) for k, v in value.items()}
    return None


async def _xml(world: Open311World, response: Any) -> ET.Element:
    body: bytes = await response.read()
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>"), body[:60]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(body)


def same_shape(ours: ET.Element, example: str) -> None:
    theirs = ET.fromstring(example.encode())
    assert ours.tag == theirs.tag
    # every item of ours has the example item's elements, no more and no fewer
    for item in ours:
        assert shape(item) == shape(theirs[0]), ET.tostring(item)


def same_keys(ours: Any, example: str) -> None:
    theirs = json.loads(example)
    items = ours if isinstance(ours, list) else [ours]
    for item in items:
        assert keys_of([item] if isinstance(theirs, list) else item) == keys_of(theirs)


async def test_service_list_and_definition_have_the_spec_shape(open311: Open311World) -> None:
    services = await _xml(open311, await open311.get("services.xml"))
    same_shape(services, spec.SERVICE_LIST_XML)
    assert {s.findtext("service_code") for s in services} >= {"greenery", "transport", "waste"}
    assert {s.findtext("type") for s in services} == {"realtime"}
    same_keys(await (await open311.get("services.json")).json(), spec.SERVICE_LIST_JSON)

    definition = await _xml(open311, await open311.get("services/greenery.xml"))
    theirs = ET.fromstring(spec.SERVICE_DEFINITION_XML.encode())
    assert definition.tag == theirs.tag
    assert [c.tag for c in definition] == [c.tag for c in theirs]
    kind = definition.find("attributes/attribute")
    assert kind is not None and shape(kind) == shape(theirs[1][0])
    assert [v.findtext("key") for v in kind.iter("value")] == [
        "problem",
        "idea",
        "question",
        "complaint",
    ]
    as_json = await (await open311.get("services/greenery.json", locale="en")).json()
    same_keys({**as_json, "attributes": as_json["attributes"][:1]}, spec.SERVICE_DEFINITION_JSON)
    assert as_json["attributes"][0]["values"][1] == {"key": "idea", "name": "Idea / proposal"}


async def test_post_requests_and_tokens_have_the_spec_shape(open311: Open311World) -> None:
    posted = await open311.post("xml", **report())
    assert posted.status == 201
    created = await _xml(open311, posted)
    same_shape(created, spec.POST_RESPONSE_XML)
    number = created.findtext("request/service_request_id")
    assert number
    resent = await open311.post("json", **report())
    same_keys(await resent.json(), spec.POST_RESPONSE_JSON)

    listed = await _xml(open311, await open311.get("requests.xml", api_key=open311.key))
    same_shape(listed, spec.REQUESTS_XML)
    one = await (await open311.get(f"requests/{number}.json", api_key=open311.key)).json()
    same_keys(one, spec.REQUESTS_JSON)
    for field in ("requested_datetime", "updated_datetime"):
        assert ISO_WITH_OFFSET.match(one[0][field]), one[0][field]

    token = await _xml(open311, await open311.get(f"tokens/{number}.xml", api_key=open311.key))
    same_shape(token, spec.TOKEN_XML)


async def test_errors_have_the_spec_shape(open311: Open311World) -> None:
    refused = await open311.client.post("/open311/v2/requests.xml", data=report())
    assert refused.status == 403
    same_shape(await _xml(open311, refused), spec.ERRORS_XML)
    unknown = await open311.get("services/nothing.json")
    assert unknown.status == 404
    same_keys(await unknown.json(), spec.ERRORS_JSON)
