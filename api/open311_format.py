"""Open311 GeoReport v2 bodies in JSON and XML, and its error format.

The spec's XML is schemaless, without a namespace, preceded by an XML declaration with
UTF-8; lists are a root element holding one element per item (`<services><service>`,
`<service_requests><request>`, `<errors><error>`), null values are empty elements, booleans
`true`/`false`. JSON is the same structure as arrays of objects (the Spark convention).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from fastapi import Request
from starlette.responses import Response

from api.responses import tagged

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# Element names of list items, by list name (the spec's ⇊ / ↴ pairs).
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format"}


# What XML 1.0 cannot carry: C0 controls other than tab, LF and CR, surrogates, U+FFFE/F.
# Input is checked at the edge; this keeps documents well-formed for rows stored before.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, list):
            tag = ITEM_TAGS.get(key, "item")
            for entry in value:
                item = ET.SubElement(child, tag)
                if isinstance(entry, dict):
                    _fill(item, entry)
                else:
                    item.text = _text(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def to_xml(root: str, body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """The XML document: a list under `root` with one item element each, or one object."""
    element = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _fill(ET.SubElement(element, ITEM_TAGS[root]), entry)
    else:
        _fill(element, body)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode"
                                                                      ).encode("utf-8")


def to_json(body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """The JSON document."""
    return orjson.dumps(body)


def render(request: Request, fmt: str, root: str, body: list[dict[str, Any]] | dict[str, Any],
           status_code: int = 200) -> Response:
    """A GeoReport response in the requested format, with an ETag on reads."""
    if fmt == "xml":
        return tagged(request, to_xml(root, body), media_type=XML_TYPE, status_code=status_code)
    return tagged(request, to_json(body), media_type=JSON_TYPE, status_code=status_code)


def error_response(path: str, status: int, description: str,
                   headers: dict[str, str] | None = None) -> Response:
    """`[{"code": …, "description": …}]` (or `<errors>`), format from the path's extension."""
    body = [{"code": status, "description": description}]
    if path.endswith(".xml"):
        return Response(to_xml("errors", body), status_code=status, media_type=XML_TYPE,
                        headers=headers)
    return Response(to_json(body), status_code=status, media_type=JSON_TYPE, headers=headers)
