"""A small subset of Salesforce's formula language, enough for customers' validation rules.

A validation rule's ``errorConditionFormula`` decides whether a save is refused. The local
org evaluates this subset, on the record as it would be saved (and, for ``ISCHANGED``/
``PRIORVALUE``, as it was):

- literals: numbers, ``"text"`` or ``'text'``, ``TRUE``, ``FALSE``, ``NULL``;
- field names of the record (``Amount``, ``MAP_Health__c``; no ``Parent__r.Field`` paths);
- ``= == != <> < <= > >=``, ``&& ||``, ``+ - * /`` (a date plus a number is a date, a date
  minus a date a number of days), ``&`` joining text;
- functions ``AND OR NOT IF ISBLANK ISNULL ISNEW ISCHANGED PRIORVALUE ISPICKVAL TEXT
  BLANKVALUE LEN TODAY DATE``.

Blank fields are blanks, not zeroes: a comparison with a blank value is false (except
``=``/``!=`` against another blank), arithmetic with one is blank. Anything outside the
subset is a ``FormulaError`` when the rule is loaded, never a silent pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from connectors.emulator.schema import SObjectDef

GRAMMAR = r"""
?start: or_
?or_: and_ ("||" and_)*
?and_: cmp ("&&" cmp)*
?cmp: concat (CMP concat)?
?concat: sum ("&" sum)*
?sum: product (ADD product)*
?product: unary (MUL unary)*
?unary: "-" unary -> neg
      | atom
?atom: NUMBER -> number
     | STRING -> string
     | NAME "(" [or_ ("," or_)*] ")" -> call
     | NAME -> name
     | "(" or_ ")"
CMP: "==" | "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
NUMBER: /\d+(\.\d+)?/
STRING: /"([^"\\]|\\.)*"/ | /'([^'\\]|\\.)*'/
%import common.WS
%ignore WS
"""
_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
FUNCTIONS = frozenset({"AND", "OR", "NOT", "IF", "ISBLANK", "ISNULL", "ISNEW", "ISCHANGED",
                       "PRIORVALUE", "ISPICKVAL", "TEXT", "BLANKVALUE", "LEN", "TODAY", "DATE"})
FIELD_FUNCTIONS = frozenset({"ISCHANGED", "PRIORVALUE"})
CONSTANTS = {"TRUE": True, "FALSE": False, "NULL": None}


class FormulaError(ValueError):
    """A formula outside the supported subset, or naming a field the object lacks."""


@dataclass(frozen=True)
class Formula:
    """A parsed formula, checked against one object's fields."""

    text: str
    tree: Tree[Token]
    obj: SObjectDef

    def holds(self, record: Mapping[str, object], prior: Mapping[str, object] | None,
              today: dt.date) -> bool:
        """Whether the formula is true for ``record`` (``prior``: None on insert)."""
        return _Eval(self.obj, record, prior, today).run(self.tree) is True


def compile_formula(text: str, obj: SObjectDef) -> Formula:
    try:
        tree = _PARSER.parse(text)
    except LarkError as exc:
        raise FormulaError(f"cannot read formula {text!r}: {str(exc).splitlines()[0]}") from None
    for node in tree.iter_subtrees():
        if node.data == "call" and str(node.children[0]).upper() not in FUNCTIONS:
            raise FormulaError(f"unsupported function {node.children[0]} in {text!r}")
        if node.data == "call" and str(node.children[0]).upper() in FIELD_FUNCTIONS and (
                len(node.children) != 2 or not isinstance(node.children[1], Tree)
                or node.children[1].data != "name"):
            raise FormulaError(f"{node.children[0]} takes one field name in {text!r}")
        if node.data == "name":
            name = str(node.children[0])
            if name.upper() not in CONSTANTS and obj.field(name) is None:
                raise FormulaError(f"no field {name} on {obj.name} in {text!r}")
    return Formula(text, tree, obj)


def _blank(value: Any) -> bool:
    return value is None or value == ""


class _Eval:
    def __init__(self, obj: SObjectDef, record: Mapping[str, object],
                 prior: Mapping[str, object] | None, today: dt.date) -> None:
        self.obj, self.record, self.prior, self.today = obj, record, prior, today

    def value(self, name: str, source: Mapping[str, object] | None) -> Any:
        f = self.obj.field(name)
        assert f is not None
        raw = (source or {}).get(f.name)
        if raw is None:
            return None
        if f.type == "date":
            return dt.date.fromisoformat(str(raw))
        if f.type == "boolean":
            return bool(raw)
        if f.type in ("double", "currency", "percent", "int"):
            return float(raw)  # type: ignore[arg-type]
        return raw

    def run(self, node: Tree[Token] | Token) -> Any:
        if isinstance(node, Token):
            raise FormulaError(f"unexpected {node}")
        handler: Callable[[list[Any]], Any] = getattr(self, "_" + str(node.data))
        return handler(node.children)

    def _number(self, ch: list[Any]) -> Any:
        return float(ch[0])

    def _string(self, ch: list[Any]) -> Any:
        return str(ch[0])[1:-1].encode().decode("unicode_escape")

    def _name(self, ch: list[Any]) -> Any:
        name = str(ch[0])
        if name.upper() in CONSTANTS:
            return CONSTANTS[name.upper()]
        return self.value(name, self.record)

    def _neg(self, ch: list[Any]) -> Any:
        v = self.run(ch[0])
        return None if v is None else -v

    def _or_(self, ch: list[Any]) -> Any:
        return any(self.run(c) is True for c in ch)

    def _and_(self, ch: list[Any]) -> Any:
        return all(self.run(c) is True for c in ch)

    def _cmp(self, ch: list[Any]) -> Any:
        left, op, right = self.run(ch[0]), str(ch[1]), self.run(ch[2])
        if op in ("=", "==", "!=", "<>"):
            same = (_blank(left) and _blank(right)) or left == right
            return same if op in ("=", "==") else not same
        if _blank(left) or _blank(right):
            return False
        return {"<": left < right, "<=": left <= right, ">": left > right,
                ">=": left >= right}[op]

    def _concat(self, ch: list[Any]) -> Any:
        return "".join("" if v is None else str(v) for v in map(self.run, ch))

    def _sum(self, ch: list[Any]) -> Any:
        total = self.run(ch[0])
        for op, operand in zip(ch[1::2], ch[2::2], strict=True):
            v = self.run(operand)
            if total is None or v is None:
                return None
            if isinstance(v, dt.date) and isinstance(total, dt.date):
                total = float((total - v).days)
            elif isinstance(total, dt.date):
                total = total + dt.timedelta(days=(v if str(op) == "+" else -v))
            else:
                total = total + v if str(op) == "+" else total - v
        return total

    def _product(self, ch: list[Any]) -> Any:
        total = self.run(ch[0])
        for op, operand in zip(ch[1::2], ch[2::2], strict=True):
            v = self.run(operand)
            if total is None or v is None or (str(op) == "/" and v == 0):
                return None
            total = total * v if str(op) == "*" else total / v
        return total

    def _call(self, ch: list[Any]) -> Any:
        name, args = str(ch[0]).upper(), ch[1:]
        field_of = (lambda i: str(args[i].children[0]))  # noqa: E731 - a field argument
        if name == "ISCHANGED":
            return self.prior is not None and \
                self.value(field_of(0), self.record) != self.value(field_of(0), self.prior)
        if name == "PRIORVALUE":
            return self.value(field_of(0), self.prior if self.prior is not None
                              else self.record)
        if name == "ISNEW":
            return self.prior is None
        if name == "TODAY":
            return self.today
        if name == "IF":
            return self.run(args[1]) if self.run(args[0]) is True else self.run(args[2])
        values = [self.run(a) for a in args]
        if name == "AND":
            return all(v is True for v in values)
        if name == "OR":
            return any(v is True for v in values)
        if name == "NOT":
            return values[0] is not True
        if name in ("ISBLANK", "ISNULL"):
            return _blank(values[0])
        if name == "ISPICKVAL":
            return (values[0] or "") == values[1]
        if name == "TEXT":
            return "" if values[0] is None else str(values[0])
        if name == "BLANKVALUE":
            return values[1] if _blank(values[0]) else values[0]
        if name == "LEN":
            return len(str(values[0] or ""))
        if name == "DATE":
            return dt.date(int(values[0]), int(values[1]), int(values[2]))
        raise FormulaError(f"unsupported function {name}")
