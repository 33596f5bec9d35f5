"""Serve ``xml.etree.ElementTree`` (and the removed ``cElementTree``) to translated scripts from
:mod:`xlr_runtime.compat.shims.py2_elementtree`, whose ``tostring`` returns text as Python 2's did.

The import forms real plugins use are rewritten in place, on their line:

* ``import xml.etree.ElementTree as ET`` -> ``import _xlr_py2_elementtree as ET``;
* ``from xml.etree import ElementTree as ET`` / ``from xml.etree import cElementTree`` ->
  ``import _xlr_py2_elementtree as ET`` / ``import _xlr_py2_elementtree as cElementTree``;
* ``from xml.etree.ElementTree import tostring, fromstring`` -> ``from _xlr_py2_elementtree import ...``.

``import xml.etree.ElementTree`` without ``as`` (used as ``xml.etree.ElementTree.tostring``) and
``from xml.etree import ElementTree, ElementPath`` keep the real module.
"""

from __future__ import annotations

from fissix import fixer_base, pytree
from fissix.fixer_util import Name
from fissix.pgen2 import token
from fissix.pygram import python_symbols

#: The module name translated scripts import instead (served by ``compat.imports.SHIMS``).
SHIM = "_xlr_py2_elementtree"
#: The Python 2 module names it stands in for.
MODULES = frozenset({"xml.etree.ElementTree", "xml.etree.cElementTree"})
#: What ``from xml.etree import ...`` may name to be replaced.
SUBMODULES = frozenset(name.rsplit(".", 1)[1] for name in MODULES)


class FixPy2Elementtree(fixer_base.BaseFix):
    """``xml.etree.ElementTree`` imports -> ``_xlr_py2_elementtree``."""

    PATTERN = "import_name< 'import' any > | import_from< 'from' module=any 'import' names=any* >"

    def transform(self, node: pytree.Node, results: dict[str, object]) -> pytree.Base | None:
        if node.type == python_symbols.import_name:
            _rename_aliased_imports(node)
            return None
        module = results["module"]
        assert isinstance(module, pytree.Base)
        if _dotted(module) in MODULES:
            module.replace(Name(SHIM, prefix=module.prefix))
        elif _dotted(module) == "xml.etree":
            return _submodule_import(node, results["names"])  # type: ignore[arg-type]
        return None


def _dotted(node: pytree.Base) -> str:
    return str(node).strip()


def _rename_aliased_imports(node: pytree.Node) -> None:
    """``import os, xml.etree.ElementTree as ET`` -> ``import os, _xlr_py2_elementtree as ET``."""
    for child in list(node.pre_order()):
        if child.type == python_symbols.dotted_as_name and _dotted(child.children[0]) in MODULES:
            dotted = child.children[0]
            dotted.replace(Name(SHIM, prefix=dotted.prefix))


def _submodule_import(node: pytree.Node, names: list[pytree.Base]) -> pytree.Node | None:
    """``from xml.etree import ElementTree [as ET]`` -> ``import _xlr_py2_elementtree as ET``."""
    if len(names) != 1:
        return None
    imported = names[0]
    if imported.type == token.NAME and imported.value in SUBMODULES:
        alias = imported.value
    elif imported.type == python_symbols.import_as_name and _dotted(imported.children[0]) in SUBMODULES:
        alias = _dotted(imported.children[2])
    else:
        return None
    statement = pytree.Node(
        python_symbols.import_name,
        [
            Name("import"),
            pytree.Node(python_symbols.dotted_as_name, [Name(SHIM, prefix=" "), Name("as", " "), Name(alias, " ")]),
        ],
    )
    statement.prefix = node.prefix
    return statement
