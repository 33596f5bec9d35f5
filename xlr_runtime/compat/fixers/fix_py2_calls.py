"""Python 2 built-ins whose Python 3 namesake answers differently: ``round`` and sorting with ``cmp``.

* ``round(x[, n])`` -> ``_xlr_py2_round(x[, n])``: Python 2 returns a float and rounds halves away from zero
  (``int(round(2.5)) == 3``; Python 3 gives ``2``).
* ``sorted(xs, f)`` / ``sorted(xs, cmp=f)`` -> ``_xlr_py2_sorted(...)``, and ``xs.sort(f)`` /
  ``xs.sort(cmp=f)`` -> ``_xlr_py2_sort(xs, ...)``: Python 3 has no ``cmp``. A ``sort`` of something that is not
  a list (``Collections.sort(items, comparator)``) is called unchanged at run time. This replaces fissix's
  ``fix_sorted``, which adds an import line (shifting every later line) and garbles ``xs.sort(f, reverse=True)``.

Jython also let a script call Java's ``e.printStackTrace()`` / ``e.printStackTrace(writer)`` on a caught exception
(most often into a ``StringWriter`` through a ``PrintWriter``): the call becomes ``_xlr_print_stack_trace(e[,
writer])``, which prints the Python traceback there, or calls the object's own ``printStackTrace`` when it has
one.

Calls of a ``round``/``sorted`` the script defines or assigns itself are left alone. The functions are script
globals (:mod:`xlr_runtime.compat.shims.py2_semantics`), so no import is added and lines keep their numbers.
"""

from __future__ import annotations

from fissix import fixer_base, pytree
from fissix.fixer_util import Call, Comma, Name
from fissix.pgen2 import token
from fissix.pygram import python_symbols

#: Built-in called -> the script global that behaves like Python 2's.
RENAMED_BUILTINS = {"round": "_xlr_py2_round", "sorted": "_xlr_py2_sorted"}
#: The script global ``xs.sort(cmp)`` becomes.
SORT = "_xlr_py2_sort"
#: The script global ``e.printStackTrace(...)`` becomes.
PRINT_STACK_TRACE = "_xlr_print_stack_trace"


class FixPy2Calls(fixer_base.BaseFix):
    """``round(...)``, ``sorted(..., cmp)`` and ``xs.sort(cmp)`` call Python 2 flavoured functions."""

    PATTERN = """
        power< name='round' trailer< '(' [args=any] ')' > any* >
        |
        power< name='sorted' trailer< '(' [args=any] ')' > any* >
        |
        power< any+ trailer< '.' 'sort' > trailer< '(' args=any ')' > >
        |
        power< any+ trailer< '.' method='printStackTrace' > trailer< '(' [args=any] ')' > >
    """

    def start_tree(self, tree: pytree.Node, filename: str) -> None:
        super().start_tree(tree, filename)
        self.bound = bound_names(tree)

    def transform(self, node: pytree.Node, results: dict[str, object]) -> pytree.Base | None:
        arguments = _arguments(results.get("args"))
        name = results.get("name")
        if isinstance(name, pytree.Leaf):
            if name.value in self.bound or not _needs_python2(name.value, arguments):
                return None
            name.replace(Name(RENAMED_BUILTINS[name.value], prefix=name.prefix))
            return None
        if results.get("method") is not None:
            return _method_call(node, results.get("args"), PRINT_STACK_TRACE)  # type: ignore[arg-type]
        if not _needs_python2("sort", arguments):
            return None
        return _method_call(node, results["args"], SORT)  # type: ignore[arg-type]


def bound_names(tree: pytree.Node) -> set[str]:
    """Names the module defines, assigns or imports itself (``def round``, ``sorted = ...``, ``import x as round``)."""
    bound: set[str] = set()
    for leaf in tree.leaves():
        if leaf.type != token.NAME or leaf.parent is None:
            continue
        parent, following = leaf.parent, leaf.next_sibling
        defined = parent.type in (python_symbols.funcdef, python_symbols.classdef) and parent.children[1] is leaf
        assigned = parent.type == python_symbols.expr_stmt and following is not None and following.type == token.EQUAL
        imported = parent.type in (python_symbols.import_as_name, python_symbols.dotted_as_name) and following is None
        listed = parent.type in (python_symbols.import_as_names, python_symbols.import_from) and leaf.value != "import"
        if defined or assigned or imported or listed:
            bound.add(leaf.value)
    return bound


def _arguments(args: object) -> list[pytree.Base]:
    """The call's arguments, without the commas."""
    if not isinstance(args, pytree.Base):
        return []
    if args.type == python_symbols.arglist:
        return [child for child in args.children if child.type != token.COMMA]
    return [args]


def _keyword(argument: pytree.Base) -> str | None:
    """``cmp`` for ``cmp=f``; ``*`` or ``**`` for unpacked arguments; ``None`` for a positional one."""
    if argument.type != python_symbols.argument:
        return None
    first = argument.children[0]
    if first.type in (token.STAR, token.DOUBLESTAR):
        return first.value
    if len(argument.children) == 3 and argument.children[1].type == token.EQUAL:
        return str(first.value) if isinstance(first, pytree.Leaf) else None
    return None


def _needs_python2(function: str, arguments: list[pytree.Base]) -> bool:
    """``round`` always (Python 3's differs); ``sorted``/``sort`` when given ``cmp`` (or may be)."""
    if function == "round":
        return 1 <= len(arguments) <= 2
    keywords = [_keyword(argument) for argument in arguments]
    positional_allowed = 1 if function == "sorted" else 0
    return keywords.count(None) > positional_allowed or any(k in ("cmp", "*", "**") for k in keywords)


def _method_call(node: pytree.Node, args: pytree.Base | None, function: str) -> pytree.Node:
    """``a.b.sort(args)`` -> ``_xlr_py2_sort(a.b, args)`` (``function`` is the global called), keeping every line
    break of the original call."""
    children = node.children
    owner_parts = [child.clone() for child in children[:-2]]
    owner = owner_parts[0] if len(owner_parts) == 1 else pytree.Node(python_symbols.power, owner_parts)
    prefix = owner.prefix
    owner.prefix = ""
    if args is None:
        rest: list[pytree.Base] = []
    else:
        rest = [child.clone() for child in args.children] if args.type == python_symbols.arglist else [args.clone()]
        if not rest[0].prefix:
            rest[0].prefix = " "
    call = Call(Name(function), [owner, Comma(), *rest] if rest else [owner], prefix=prefix)
    call.children[-1].children[-1].prefix = children[-1].children[-1].prefix  # the ")" and what precedes it
    return call
