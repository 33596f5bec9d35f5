"""Lenient access to a parsed job XML element, the way Rundeck's ``XmlParserUtil.toObject(analyze=false)`` reads it.

Attributes and child elements are interchangeable (``<jobref name='x'>`` = ``<jobref><name>x</name>``), an empty
element is ``""``, ``<element name='k'>`` stands for an element whose name is not an XML name, and booleans go
through Java's ``Boolean.parseBoolean`` (only ``true``, in any case, is true; blank means the default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from xlr_runtime.rundeck.jobs.model import RawElement


def tag_of(element: etree._Element) -> str:
    """The element's name, honouring Rundeck's ``<element name='k'>`` escape for names that are not NCNames."""
    if element.tag == "element" and element.get("name"):
        return str(element.get("name"))
    return str(element.tag)


def leaf_text(element: etree._Element) -> str:
    """The element's own text (CDATA included), ``""`` when empty; comments inside are skipped."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element if not isinstance(child.tag, str))
    return "".join(parts)


def parse_bool(value: str | None, default: bool) -> bool:
    """Java ``Boolean.parseBoolean`` with Rundeck's default for a missing or blank value."""
    if value is None or not value.strip():
        return default
    return value.strip().lower() == "true"


class Node:
    """A read-only view of one element with Rundeck's lenient lookups."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element

    @property
    def tag(self) -> str:
        """The element name (after the ``<element name=…>`` escape)."""
        return tag_of(self.element)

    @property
    def line(self) -> int | None:
        """The 1-based source line of the element."""
        return self.element.sourceline

    @property
    def text(self) -> str:
        """The element's own text, verbatim (``""`` when empty)."""
        return leaf_text(self.element)

    def elements(self) -> Iterator[Node]:
        """Child elements in document order (comments and processing instructions skipped)."""
        for child in self.element:
            if isinstance(child.tag, str):
                yield Node(child)

    def children(self, name: str) -> list[Node]:
        """Every child element called ``name``."""
        return [child for child in self.elements() if child.tag == name]

    def child(self, name: str) -> Node | None:
        """The first child element called ``name``, if any."""
        return next((child for child in self.elements() if child.tag == name), None)

    def has(self, name: str) -> bool:
        """True when ``name`` is present as an attribute or a child element."""
        return name in self.element.attrib or self.child(name) is not None

    def get(self, name: str) -> str | None:
        """``name`` as an attribute, else as a child element's text; ``None`` when absent."""
        if name in self.element.attrib:
            return str(self.element.attrib[name])
        child = self.child(name)
        return child.text if child is not None else None

    def bool(self, name: str, default: bool) -> bool:
        """``name`` parsed as Rundeck parses booleans."""
        return parse_bool(self.get(name), default)

    def opt_bool(self, name: str) -> bool | None:
        """``name`` as a boolean, or ``None`` when absent or blank."""
        value = self.get(name)
        if value is None or not value.strip():
            return None
        return parse_bool(value, False)

    def raw(self, position: int = 0) -> RawElement:
        """The element as a :class:`RawElement`, kept for a round trip (text trimmed as Rundeck's parser does)."""
        kids = tuple(child.raw(index) for index, child in enumerate(self.elements()))
        text = None if kids or self.element.text is None else self.text.strip()
        attributes = tuple((str(k), str(v)) for k, v in self.element.attrib.items())
        if self.element.tag == "element" and self.element.get("name"):
            attributes = tuple((k, v) for k, v in attributes if k != "name")
        return RawElement(self.tag, attributes, text, kids, position)


def parse_document(data: bytes | str) -> etree._Element:
    """Parse job XML safely (no entities, no network); raises ``etree.XMLSyntaxError``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, strip_cdata=True, remove_comments=False)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return etree.fromstring(data, parser=parser)


def syntax_error_message(exc: etree.XMLSyntaxError) -> str:
    """libxml2's message on one line: without the text it echoes on further lines (an unfinished CDATA section,
    a NUL byte) and without the ``, line N, column M`` that the error's own line number already says."""
    first = (exc.msg or str(exc) or "not well-formed").partition("\n")[0]
    return re.sub(r",? line \d+, column \d+$", "", first).rstrip(" ,") or "not well-formed"


def first_entity(root: etree._Element) -> etree._Entity | None:
    """The first entity reference left in the text of ``root`` (the parsers never expand them: Rundeck refuses
    a DOCTYPE), or ``None``."""
    return next(iter(root.iter(etree.Entity)), None)
