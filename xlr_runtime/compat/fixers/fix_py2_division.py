"""Keep Python 2 division: ``a / b`` -> ``_xlr_py2_div(a, b)``, ``x /= b`` -> ``x = _xlr_py2_div(x, b)``.

In Python 2, ``/`` on two integers floors (``7 / 2 == 3``); a translated script that computes a page count or a
build number offset must get the same number under Python 3. :func:`xlr_runtime.compat.shims.py2_semantics.div`
floors when both operands are integers and divides truly otherwise. A script with
``from __future__ import division`` already divides truly and is left alone.

Every rewrite stays on its lines: the ``/`` leaf's prefix (which may hold a line break inside brackets) becomes
the prefix of the comma between the call's arguments. ``/=`` on a target that is not a plain name, attribute or
constant subscript (``d[key()] /= 2``) is left as it is, because rewriting it would evaluate the target twice.
"""

from __future__ import annotations

from fissix import fixer_base, pytree
from fissix.fixer_util import Call, Comma, Name
from fissix.pgen2 import token
from fissix.pygram import python_symbols

#: The script global the rewritten divisions call.
DIV = "_xlr_py2_div"
#: Subscripts that read the same item twice: ``counts[name]``, ``totals[0]``, ``d["key"]``.
_CONSTANT_INDEX = (token.NAME, token.NUMBER, token.STRING)


class FixPy2Division(fixer_base.BaseFix):
    """``/`` between two operands, and ``/=``, keep Python 2's integer floor division."""

    PATTERN = """
        term< any+ >
        |
        expr_stmt< any '/=' any >
    """

    def start_tree(self, tree: pytree.Node, filename: str) -> None:
        super().start_tree(tree, filename)
        self.true_division = imports_future_division(tree)

    def transform(self, node: pytree.Node, results: dict[str, object]) -> pytree.Base | None:
        if self.true_division:
            return None
        if node.type == python_symbols.term:
            return _rewrite_term(node)
        return _rewrite_augmented(node)


def imports_future_division(tree: pytree.Node) -> bool:
    """True when the module starts with ``from __future__ import ..., division, ...``."""
    for node in tree.pre_order():
        if node.type != python_symbols.import_from or str(node.children[1]).strip() != "__future__":
            continue
        if any(leaf.type == token.NAME and leaf.value == "division" for leaf in node.leaves()):
            return True
    return False


def _rewrite_term(node: pytree.Node) -> pytree.Base | None:
    """``a * b / c % d`` -> ``_xlr_py2_div(a * b, c) % d``: ``/`` is left-associative with ``*``, ``%``, ``//``."""
    children = node.children
    if not any(child.type == token.SLASH for child in children[1::2]):
        return None
    prefix = node.prefix
    left: list[pytree.Base] = [children[0].clone()]
    for operator, operand in zip(children[1::2], children[2::2], strict=True):
        if operator.type == token.SLASH:
            left = [_div_call(_joined(left), operator.prefix, operand.clone())]
        else:
            left += [operator.clone(), operand.clone()]
    result = _joined(left)
    result.prefix = prefix
    return result


def _rewrite_augmented(node: pytree.Node) -> pytree.Base | None:
    target, operator, value = node.children
    if not _evaluates_once(target):
        return None
    assignment = pytree.Node(
        python_symbols.expr_stmt,
        [
            target.clone(),
            pytree.Leaf(token.EQUAL, "=", prefix=operator.prefix),
            _div_call(target.clone(), "", value.clone(), prefix=value.prefix),
        ],
    )
    assignment.prefix = node.prefix
    return assignment


def _div_call(left: pytree.Base, comma_prefix: str, right: pytree.Base, prefix: str | None = None) -> pytree.Node:
    call_prefix = left.prefix if prefix is None else prefix
    left.prefix = ""
    comma = Comma()
    comma.prefix = comma_prefix if "\n" in comma_prefix else ""  # a line break stays; "a / b" reads "a, b"
    if not right.prefix:
        right.prefix = " "
    return Call(Name(DIV), [left, comma, right], prefix=call_prefix)


def _joined(nodes: list[pytree.Base]) -> pytree.Base:
    return nodes[0] if len(nodes) == 1 else pytree.Node(python_symbols.term, nodes)


def _evaluates_once(target: pytree.Base) -> bool:
    """A name, or a name followed by ``.attr`` and ``[name or constant]`` trailers: reading it twice is safe."""
    if target.type == token.NAME:
        return True
    if target.type != python_symbols.power or target.children[0].type != token.NAME:
        return False
    for trailer in target.children[1:]:
        opener = trailer.children[0].value if trailer.type == python_symbols.trailer else None
        if opener == ".":
            continue
        if opener == "[" and len(trailer.children) == 3 and trailer.children[1].type in _CONSTANT_INDEX:
            continue
        return False
    return True
