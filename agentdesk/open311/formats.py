"""Open311's two formats from one value: JSON as it is, XML by the spec's convention (a list is
an element per item named in the singular, `true`/`false`, an empty element for null), UTF-8
with the XML declaration."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from aiohttp import web

FORMATS = ("json", "xml")
# the item element of each list the spec has
ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        for item in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def as_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, value: Any, status: int = 200) -> web.Response:
    """`value` as JSON, or as XML under `root` (a list's items named after `root`)."""
    if fmt == "xml":
        return web.Response(
            body=as_xml(root, value), status=status, content_type="text/xml", charset="utf-8"
        )
    return web.Response(
        text=json.dumps(value, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


class Open311Error(Exception):
    """A request the API refuses: HTTP status and the spec's list of {code, description}."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions

    def response(self, fmt: str) -> web.Response:
        errors = [{"code": self.status, "description": d} for d in self.descriptions]
        return respond(fmt, "errors", errors, self.status)
