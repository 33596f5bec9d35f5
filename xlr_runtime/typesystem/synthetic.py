"""The parser of one ``synthetic.xml``: ``<type>`` and ``<type-modification>`` elements into raw definitions.

Raw means "as written in this file": attributes are interpreted (kinds, booleans) but nothing is resolved
across files yet; the registry does that. Malformed XML raises :class:`DefinitionError`; every other mistake
is recorded as a :class:`Problem` on the returned :class:`SyntheticFile`, with the element's line, so a lint
can report them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from xlr_runtime.errors import DefinitionError
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.problems import Problem

#: The XML namespace of every synthetic.xml.
NAMESPACE = "http://www.xebialabs.com/deployit/synthetic"

#: Attributes of ``<type>`` we read, and ones XL Deploy/Release accept (their synthetic.xsd) that carry no
#: meaning here.
TYPE_ATTRIBUTES = frozenset({"type", "extends", "virtual", "label", "description"})
_IGNORED_TYPE_ATTRIBUTES = frozenset(
    {"deployable-type", "container-type", "root", "rootName", "versioned", "inspectable", "icon"}
)
#: Attributes of ``<property>`` we read, and ones of the XSD that carry no meaning here.
PROPERTY_ATTRIBUTES = frozenset(
    {
        "name",
        "kind",
        "category",
        "label",
        "description",
        "default",
        "required",
        "hidden",
        "password",
        "size",
        "enum-class",
        "referenced-type",
    }
)
_IGNORED_PROPERTY_ATTRIBUTES = frozenset(
    {
        "as-containment",
        "nested",
        "inspection",
        "inspectionProperty",
        "transient",
        "candidate-values-filter",
        "input-hint",
        "readonly",
        "aliases",
    }
)
#: Child elements the XSD allows beside ``<property>`` (in a ``<type>``, a ``<type-modification>``) and beside
#: ``<enum-values>`` (in a ``<property>``): XL Deploy's validation rules, control-task methods, icons and
#: generated deployables. They are skipped, with everything inside them.
_IGNORED_TYPE_ELEMENTS = frozenset({"icon", "generate-deployable", "method", "rule", "verification"})
_IGNORED_MODIFICATION_ELEMENTS = frozenset({"method", "rule", "verification"})
_IGNORED_PROPERTY_ELEMENTS = frozenset({"rule", "input-hint"})
#: Values of ``size``.
SIZES = ("default", "small", "medium", "large")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)


@dataclass(frozen=True)
class RawProperty:
    """A ``<property>`` as written: ``required`` is ``None`` when the attribute is absent."""

    name: str
    line: int
    kind: PropertyKind = PropertyKind.STRING
    category: str | None = None
    label: str | None = None
    description: str | None = None
    default: str | None = None
    required: bool | None = None
    hidden: bool = False
    password: bool = False
    size: str | None = None
    enum_values: tuple[str, ...] | None = None
    enum_class: str | None = None
    referenced_type: str | None = None


@dataclass(frozen=True)
class RawType:
    """A ``<type>`` or ``<type-modification>`` as written, with its own properties in file order."""

    name: str
    line: int
    modification: bool = False
    extends: str | None = None
    virtual: bool = False
    label: str | None = None
    description: str | None = None
    properties: tuple[RawProperty, ...] = ()


@dataclass(frozen=True)
class SyntheticFile:
    """Everything read from one synthetic.xml: types, type-modifications and problems, in file order."""

    path: str
    types: tuple[RawType, ...]
    modifications: tuple[RawType, ...]
    problems: tuple[Problem, ...]


def parse_synthetic(data: bytes, path: str) -> SyntheticFile:
    """Parse the bytes of one synthetic.xml read from ``path`` (used in messages only).

    Raises :class:`DefinitionError` (``path:line: malformed XML: …``) when the XML is not well-formed.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"malformed XML: {_one_line(exc)}", path=path, line=exc.lineno or None) from None
    return _FileReader(path).read(root)


def _one_line(exc: etree.XMLSyntaxError) -> str:
    """libxml2's message without the text it echoes on further lines (an unfinished CDATA section, a NUL byte)
    and without the ``, line N, column M`` the error's own line already says."""
    first = (exc.msg or str(exc) or "not well-formed").partition("\n")[0]
    return re.sub(r",? line \d+, column \d+$", "", first).rstrip(" ,") or "not well-formed"


class _FileReader:
    """Walks one parsed document, collecting raw definitions and problems."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, element: Any, message: str, *, warning: bool = False) -> None:
        self.problems.append(Problem(self.path, element.sourceline or 0, message, warning))

    def read(self, root: Any) -> SyntheticFile:
        types: list[RawType] = []
        modifications: list[RawType] = []
        for entity in root.iter(etree.Entity):  # never expanded (no DTDs): say so where the text would be
            self.problem(
                entity,
                f"entity reference {entity.text} in {_where(entity.getparent())} is not supported: "
                "write its text instead",
            )
        namespace, tag = _split(root.tag)
        if tag != "synthetic" or namespace not in ("", NAMESPACE):
            self.problem(root, f'root element is <{tag}>, expected <synthetic xmlns="{NAMESPACE}">')
        else:
            for child in _elements(root):
                name = _local(child)
                if name == "type":
                    types.extend(self.read_type(child, modification=False))
                elif name == "type-modification":
                    modifications.extend(self.read_type(child, modification=True))
                else:
                    self.problem(child, f"unknown element <{name}> in <synthetic>")
        return SyntheticFile(self.path, tuple(types), tuple(modifications), tuple(self.problems))

    def read_type(self, element: Any, *, modification: bool) -> list[RawType]:
        tag = "type-modification" if modification else "type"
        name = element.get("type")
        if not name:
            self.problem(element, f"<{tag}> has no 'type' attribute")
            return []
        if "." not in name.strip(".") or " " in name:
            self.problem(element, f"type name {name!r} is not of the form prefix.Name")
        allowed = {"type", "label", "description"} if modification else TYPE_ATTRIBUTES
        self.check_attributes(element, allowed, _IGNORED_TYPE_ATTRIBUTES, f"<{tag}> {name!r}")
        return [
            RawType(
                name=name,
                line=element.sourceline or 0,
                modification=modification,
                extends=None if modification else (element.get("extends") or None),
                virtual=self.flag(element, "virtual", f"type {name!r}"),
                label=element.get("label"),
                description=element.get("description"),
                properties=self.read_properties(
                    element, name, _IGNORED_MODIFICATION_ELEMENTS if modification else _IGNORED_TYPE_ELEMENTS
                ),
            )
        ]

    def read_properties(self, element: Any, type_name: str, ignored: frozenset[str]) -> tuple[RawProperty, ...]:
        properties: dict[str, RawProperty] = {}
        for child in _elements(element):
            tag = _local(child)
            if tag in ignored:
                continue
            if tag != "property":
                self.problem(child, f"unknown element <{tag}> in type {type_name!r}")
                continue
            prop = self.read_property(child)
            if prop is None:
                continue
            if prop.name in properties:
                # XL Release loads such a type (a public plugin shipped one for 15 releases): properties are kept
                # by name, so the last definition replaces the first, at the first one's position
                first = properties[prop.name].line
                self.problem(
                    child,
                    f"property {prop.name!r} is defined twice in type {type_name!r} (first at line {first}); "
                    "this later definition is the one used",
                    warning=True,
                )
            properties[prop.name] = prop
        return tuple(properties.values())

    def read_property(self, element: Any) -> RawProperty | None:
        name = element.get("name")
        if not name:
            self.problem(element, "<property> has no 'name' attribute")
            return None
        what = f"property {name!r}"
        self.check_attributes(element, PROPERTY_ATTRIBUTES, _IGNORED_PROPERTY_ATTRIBUTES, what)
        kind = self.kind(element, what)
        size = element.get("size")
        if size is not None and size not in SIZES:
            self.problem(element, f"{what} has unknown size {size!r} (use {', '.join(SIZES)})")
        enum_values = self.enum_values(element, what)
        if enum_values is not None and kind is not PropertyKind.ENUM:
            self.problem(element, f"{what} has <enum-values> but kind {kind.value}")
        if kind is PropertyKind.ENUM and enum_values is None and not element.get("enum-class"):
            self.problem(element, f"enum {what} has no <enum-values> and no enum-class")
        referenced = element.get("referenced-type") or None
        if kind.is_ci and referenced is None:
            self.problem(element, f"{what} of kind {kind.value} has no referenced-type")
        required = element.get("required")
        return RawProperty(
            name=name,
            line=element.sourceline or 0,
            kind=kind,
            category=element.get("category") or None,
            label=element.get("label"),
            description=element.get("description"),
            default=element.get("default"),
            required=None if required is None else self.flag(element, "required", what),
            hidden=self.flag(element, "hidden", what),
            password=self.flag(element, "password", what),
            size=size,
            enum_values=enum_values,
            enum_class=element.get("enum-class") or None,
            referenced_type=referenced,
        )

    def kind(self, element: Any, what: str) -> PropertyKind:
        text = element.get("kind")
        if text is None:
            return PropertyKind.STRING
        try:
            return PropertyKind(text)
        except ValueError:
            self.problem(element, f"{what} has unknown kind {text!r}")
            return PropertyKind.STRING

    def enum_values(self, element: Any, what: str) -> tuple[str, ...] | None:
        groups: list[Any] = []
        for child in _elements(element):
            if _local(child) == "enum-values":
                groups.append(child)
            elif _local(child) not in _IGNORED_PROPERTY_ELEMENTS:
                self.problem(child, f"unknown element <{_local(child)}> in {what}")
        if not groups:
            return None
        values: list[str] = []
        for group in groups:
            for value in _elements(group):
                if _local(value) != "value":
                    self.problem(value, f"unknown element <{_local(value)}> in <enum-values> of {what}")
                else:
                    values.append((value.text or "").strip())
        return tuple(values)

    def flag(self, element: Any, attribute: str, what: str) -> bool:
        text = element.get(attribute)
        if text is None:
            return False
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            self.problem(element, f"attribute {attribute!r} of {what} must be true or false, not {text!r}")
        return lowered == "true"

    def check_attributes(
        self, element: Any, allowed: frozenset[str] | set[str], ignored: frozenset[str], what: str
    ) -> None:
        for attribute in element.attrib:
            namespace, name = _split(attribute)
            if namespace or name in allowed or name in ignored:
                continue
            self.problem(element, f"unknown attribute {name!r} on {what}")


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _where(owner: Any) -> str:
    """``<property name="p">``: an element named for a message, by its name (or type) when it has one."""
    if owner is None:
        return "the document"
    named = next((f' {a}="{owner.get(a)}"' for a in ("name", "type") if owner.get(a)), "")
    return f"<{_local(owner)}{named}>"


def _elements(element: Any) -> list[Any]:
    """The child elements of ``element`` (entity references are reported once, by :meth:`_FileReader.read`)."""
    return [child for child in element if isinstance(child.tag, str)]


def _local(element: Any) -> str:
    return _split(element.tag)[1] if isinstance(element.tag, str) else str(element.tag)
