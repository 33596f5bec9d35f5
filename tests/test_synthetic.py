"""The synthetic.xml parser: raw types, properties, enum values, lines, and problems."""

from __future__ import annotations

import pytest
from synthetic_helpers import synthetic

from tests.messages import PARSER_REASON, matches
from xlr_runtime.errors import DefinitionError
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.synthetic import RawProperty, parse_synthetic


def parse(body: str):  # type: ignore[no-untyped-def]
    return parse_synthetic(synthetic(body).encode(), "/p/synthetic.xml")


def messages(body: str) -> list[str]:
    return [str(p) for p in parse(body).problems]


def test_reads_types_properties_and_lines() -> None:
    parsed = parse(
        """  <type type="a.Task" extends="xlrelease.PythonScript" virtual="true" label="A" description="d">
    <!-- a comment -->
    <property name="server" category="input" kind="ci" referenced-type="a.Server" label="S"/>
    <property name="secret" password="true" required="false" hidden="TRUE" size="large"/>
    <property name="mode" kind="enum" default="x" enum-class="a.Mode">
      <enum-values><value label="X">x</value><value> y </value></enum-values>
    </property>
  </type>
  <type-modification type="b.Other">
    <property name="extra" kind="integer" default="1"/>
  </type-modification>
"""
    )
    assert parsed.problems == ()
    (task,) = parsed.types
    assert (task.name, task.line, task.extends, task.virtual, task.label, task.description) == (
        "a.Task",
        3,
        "xlrelease.PythonScript",
        True,
        "A",
        "d",
    )
    server, secret, mode = task.properties
    assert server == RawProperty(
        name="server", line=5, kind=PropertyKind.CI, category="input", label="S", referenced_type="a.Server"
    )
    assert (secret.password, secret.required, secret.hidden, secret.size, secret.line) == (
        True,
        False,
        True,
        "large",
        6,
    )
    assert (mode.kind, mode.default, mode.enum_values, mode.enum_class, mode.required) == (
        PropertyKind.ENUM,
        "x",
        ("x", "y"),
        "a.Mode",
        None,
    )
    (modification,) = parsed.modifications
    assert (modification.name, modification.modification, modification.line, modification.extends) == (
        "b.Other",
        True,
        11,
        None,
    )
    assert modification.properties[0].kind is PropertyKind.INTEGER


def test_every_kind_is_read() -> None:
    body = "".join(
        f'  <type type="k.T{i}" extends="x.Y"><property name="p" kind="{kind.value}"'
        + (' referenced-type="x.Y"' if kind.is_ci else "")
        + (">\n<enum-values><value>a</value></enum-values></property>" if kind is PropertyKind.ENUM else "/>")
        + "</type>\n"
        for i, kind in enumerate(PropertyKind)
    )
    parsed = parse(body)
    assert parsed.problems == ()
    assert [t.properties[0].kind for t in parsed.types] == list(PropertyKind)


def test_namespace_is_optional_but_must_be_right_when_given() -> None:
    plain = parse_synthetic(b'<synthetic><type type="a.B" extends="x.Y"/></synthetic>', "/p.xml")
    assert [t.name for t in plain.types] == ["a.B"]
    wrong = parse_synthetic(b'<synthetic xmlns="urn:other"/>', "/p.xml")
    assert [str(p) for p in wrong.problems] == [
        '/p.xml:1: root element is <synthetic>, expected <synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">'
    ]


def test_malformed_xml_raises_with_path_and_line() -> None:
    with pytest.raises(DefinitionError) as info:
        parse('  <type type="a.B" extends="x.Y">\n  </typo>\n')
    assert matches(str(info.value), "/p/synthetic.xml:4: malformed XML: " + PARSER_REASON), str(info.value)
    assert (info.value.path, info.value.line) == ("/p/synthetic.xml", 4)


def test_malformed_xml_is_one_line_without_libxml2s_echo_of_the_text() -> None:
    with pytest.raises(DefinitionError) as info:
        parse('  <type type="a.B" extends="x.Y"><![CDATA[one\ntwo\n')
    assert str(info.value) == "/p/synthetic.xml:6: malformed XML: CData section not finished"


def test_an_entity_reference_is_reported_as_one() -> None:
    data = (
        b'<!DOCTYPE synthetic [<!ENTITY e "v">]>\n<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
        b'<type type="a.B" extends="x.Y"><property name="p">&e;</property>\n'
        b'<property name="q" kind="enum"><enum-values><value>&e;</value></enum-values></property></type></synthetic>'
    )
    assert [str(p) for p in parse_synthetic(data, "/s.xml").problems] == [
        '/s.xml:3: entity reference &e; in <property name="p"> is not supported: write its text instead',
        "/s.xml:4: entity reference &e; in <value> is not supported: write its text instead",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('  <type extends="x.Y"/>\n', "/p/synthetic.xml:3: <type> has no 'type' attribute"),
        (
            '  <type type="Plain" extends="x.Y"/>\n',
            "/p/synthetic.xml:3: type name 'Plain' is not of the form prefix.Name",
        ),
        (
            '  <type type="a.B" extends="x.Y" abstract="true"/>\n',
            "/p/synthetic.xml:3: unknown attribute 'abstract' on <type> 'a.B'",
        ),
        (
            '  <type type="a.B" extends="x.Y" virtual="yes"/>\n',
            "/p/synthetic.xml:3: attribute 'virtual' of type 'a.B' must be true or false, not 'yes'",
        ),
        ('  <typ type="a.B"/>\n', "/p/synthetic.xml:3: unknown element <typ> in <synthetic>"),
        (
            '  <type type="a.B" extends="x.Y"><prop name="x"/></type>\n',
            "/p/synthetic.xml:3: unknown element <prop> in type 'a.B'",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property kind="string"/></type>\n',
            "/p/synthetic.xml:3: <property> has no 'name' attribute",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" requried="false"/></type>\n',
            "/p/synthetic.xml:3: unknown attribute 'requried' on property 'x'",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" kind="strng"/></type>\n',
            "/p/synthetic.xml:3: property 'x' has unknown kind 'strng'",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" hidden="1"/></type>\n',
            "/p/synthetic.xml:3: attribute 'hidden' of property 'x' must be true or false, not '1'",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" size="huge"/></type>\n',
            "/p/synthetic.xml:3: property 'x' has unknown size 'huge' (use default, small, medium, large)",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" kind="enum"/></type>\n',
            "/p/synthetic.xml:3: enum property 'x' has no <enum-values> and no enum-class",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x"><enum-values/></property></type>\n',
            "/p/synthetic.xml:3: property 'x' has <enum-values> but kind string",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x"><values/></property></type>\n',
            "/p/synthetic.xml:3: unknown element <values> in property 'x'",
        ),
        (
            '  <type type="a.B" extends="x.Y"><property name="x" kind="ci"/></type>\n',
            "/p/synthetic.xml:3: property 'x' of kind ci has no referenced-type",
        ),
        (
            '  <type type="a.B" extends="x.Y">\n    <property name="x"/>\n    <property name="x"/>\n  </type>\n',
            "/p/synthetic.xml:5: warning: property 'x' is defined twice in type 'a.B' (first at line 4); this later "
            "definition is the one used",
        ),
    ],
)
def test_problems_have_exact_messages(body: str, expected: str) -> None:
    assert messages(body) == [expected]


def test_known_but_meaningless_attributes_are_accepted() -> None:
    body = '  <type type="a.B" extends="x.Y"><property name="x" transient="true" as-containment="false"/></type>\n'
    assert messages(body) == []


def test_everything_xl_releases_schema_allows_loads() -> None:
    """Regression: attributes and elements of XL Deploy/Release's synthetic.xsd that carry no meaning here
    (``inspectionProperty``, ``aliases``, ``rootName``, ``versioned``, ``inspectable``, ``<rule>``, ``<method>``,
    ``<input-hint>``…) were refused as unknown, so a plugin valid for XL Release failed to load."""
    parsed = parse(
        """  <type type="a.B" extends="x.Y" root="Configuration" rootName="C" versioned="false" inspectable="true">
    <generate-deployable type="a.Spec" extends="x.Spec"/>
    <icon>icons/b.svg</icon>
    <property name="x" inspectionProperty="true" aliases="oldX" readonly="true">
      <rule type="regex" pattern="^[a-z]+$" message="lower case"/>
      <input-hint><prompt>x?</prompt><values><value label="A">a</value></values></input-hint>
    </property>
    <property name="mode" kind="enum">
      <rule type="regex" pattern="a|b"/>
      <enum-values><value>a</value><value>b</value></enum-values>
    </property>
    <method name="start" label="Start" delegate="jythonScript"><parameters><parameter name="p"/></parameters></method>
    <rule type="x.Rule"/>
    <verification type="x.Check"/>
  </type>
  <type-modification type="a.B" versioned="true">
    <property name="y" kind="integer" default="1"/>
    <method name="stop"/>
    <rule type="x.Rule"/>
    <verification type="x.Check"/>
  </type-modification>
"""
    )
    assert parsed.problems == ()
    (task,) = parsed.types
    x, mode = task.properties
    assert (x.name, x.kind, x.enum_values) == ("x", PropertyKind.STRING, None)
    assert (mode.name, mode.enum_values) == ("mode", ("a", "b"))
    assert [p.name for p in parsed.modifications[0].properties] == ["y"]


def test_an_ignored_element_is_still_refused_where_the_schema_does_not_allow_it() -> None:
    body = """  <type-modification type="a.B"><icon>i.svg</icon></type-modification>
  <type type="a.C" extends="x.Y">
    <property name="p"><method name="m"/></property>
    <property name="e" kind="enum"><values><value>a</value></values></property>
  </type>
"""
    assert messages(body) == [
        "/p/synthetic.xml:3: unknown element <icon> in type 'a.B'",
        "/p/synthetic.xml:5: unknown element <method> in property 'p'",
        "/p/synthetic.xml:6: unknown element <values> in property 'e'",
        "/p/synthetic.xml:6: enum property 'e' has no <enum-values> and no enum-class",
    ]
