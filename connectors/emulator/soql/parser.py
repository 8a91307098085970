"""Text → ``Query``: the lark grammar plus the checks Salesforce makes while parsing.

The parser accepts and rejects what Salesforce's SOQL parser does (mixed AND/OR without
parentheses, trailing tokens, a missing LIMIT value are syntax errors; a FROM alias is fine).
Constructs Salesforce accepts but this org cannot run (GROUP BY, aggregates, subqueries,
TYPEOF, WITH, FOR VIEW, ...) fail here with ``MALFORMED_QUERY`` and ``unsupported=True`` rather
than being ignored. Checks that need a schema (names, types) wait for the compiler.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from connectors.emulator.soql import ast
from connectors.emulator.soql.dates import CONSTANTS
from connectors.emulator.soql.errors import SoqlError, at, unsupported
from connectors.emulator.soql.strings import BadEscape, decode, like_pattern


@cache
def _lark() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False)


def parse(text: str) -> ast.Query:
    """Parse one SOQL query; raise ``SoqlError('MALFORMED_QUERY', ...)`` when it is not valid."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    query = tree.children[0]
    assert isinstance(query, Tree)
    return _Reader(text).query(query)


def _end_position(text: str) -> tuple[int, int]:
    rows = text.split("\n")
    return len(rows), len(rows[-1]) + 1


def _syntax_error(text: str, exc: UnexpectedInput) -> SoqlError:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        return at("MALFORMED_QUERY", text, tok.line or 1, tok.column or 1,
                  f"unexpected token: '{tok}'")
    if isinstance(exc, UnexpectedCharacters):
        return at("MALFORMED_QUERY", text, exc.line, exc.column,
                  f"unexpected token: '{text[exc.pos_in_stream or 0]}'")
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        line, column = _end_position(text)
        return at("MALFORMED_QUERY", text, line, column, "unexpected token: <EOF>")
    raise exc  # pragma: no cover - lark raises only the kinds above


def _pos(node: Tree | Token) -> ast.Position:
    if isinstance(node, Token):
        return ast.Position(node.line or 1, node.column or 1)
    return ast.Position(node.meta.line, node.meta.column)


class _Reader:
    """Turns lark's tree into ``ast`` nodes, raising for what the org does not run."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _unsupported(self, node: Tree | Token, what: str) -> SoqlError:
        p = _pos(node)
        return unsupported(self.text, p.line, p.column, what)

    def _malformed(self, node: Tree | Token, reason: str) -> SoqlError:
        p = _pos(node)
        return at("MALFORMED_QUERY", self.text, p.line, p.column, reason)

    # -- query -------------------------------------------------------------------------------
    def query(self, tree: Tree) -> ast.Query:
        clauses = {c.data: c for c in tree.children if isinstance(c, Tree)}
        for name, what in (("using_scope", "USING SCOPE"), ("with_clause", "WITH"),
                           ("group_clause", "GROUP BY"), ("for_clause", "FOR VIEW/REFERENCE"),
                           ("update_clause", "UPDATE TRACKING/VIEWSTAT")):
            if name in clauses:
                raise self._unsupported(clauses[name], what)
        fields, is_count = self._select(clauses["select_list"])
        sobject, sobject_pos, alias = self._from(clauses["from_list"])
        where = self.condition(clauses["where_clause"].children[0]) \
            if "where_clause" in clauses else None
        order = tuple(self._order_key(k) for k in clauses["order_clause"].children) \
            if "order_clause" in clauses else ()
        limit, limit_pos = self._count_clause(clauses.get("limit_clause"))
        offset, offset_pos = self._count_clause(clauses.get("offset_clause"))
        return ast.Query(self.text, fields, is_count, sobject, sobject_pos, alias, where, order,
                         limit, limit_pos, offset, offset_pos)

    def _select(self, tree: Tree) -> tuple[tuple[ast.SelectField, ...], bool]:
        items: list[ast.SelectField] = []
        count_at: Tree | None = None
        for item in tree.children:
            kind = item.data
            if kind == "select_subquery":
                raise self._unsupported(item, "A relationship subquery")
            if kind == "select_typeof":
                raise self._unsupported(item, "TYPEOF")
            if kind == "select_func":
                func = item.children[0]
                name = str(func.children[0])
                if name.upper() != "COUNT" or len(func.children) > 1:
                    raise self._unsupported(func, f"The function {name.upper()}()")
                if len(item.children) > 1:
                    raise self._unsupported(item.children[1], "An alias on COUNT()")
                count_at = item
                continue
            field = self.field_ref(item.children[0])
            if len(item.children) > 1:
                alias_tok = item.children[1].children[0]
                items.append(ast.SelectField(field, str(alias_tok), _pos(alias_tok)))
            else:
                items.append(ast.SelectField(field))
        if count_at is not None and (items or len(tree.children) > 1):
            other = tree.children[1] if tree.children[0] is count_at else count_at
            raise self._malformed(other, "unexpected token: ','")
        return tuple(items), count_at is not None

    def _from(self, tree: Tree) -> tuple[str, ast.Position, str | None]:
        if len(tree.children) > 1:
            raise self._unsupported(tree.children[1], "A second object in FROM")
        item = tree.children[0]
        path = item.children[0]
        if len(path.children) > 1:
            raise self._unsupported(path, "A relationship path in FROM")
        name = path.children[0]
        alias = str(item.children[1]) if len(item.children) > 1 else None
        return str(name), _pos(name), alias

    def _count_clause(self, tree: Tree | None) -> tuple[int | None, ast.Position | None]:
        if tree is None:
            return None, None
        *sign, last = tree.children
        number = str(last)
        if "." in number:
            raise self._malformed(last, f"unexpected token: '{number}'")
        value = int(number)
        return (-value if sign and sign[0] == "-" else value), _pos(tree)

    def _order_key(self, tree: Tree) -> ast.OrderKey:
        lhs, *rest = tree.children
        field = self._lhs(lhs)
        words = {t.type for t in rest if isinstance(t, Token)}
        descending = "DESC" in words
        nulls_first = "FIRST" in words if words & {"FIRST", "LAST"} else not descending
        return ast.OrderKey(field, descending, nulls_first)

    # -- fields ------------------------------------------------------------------------------
    def field_ref(self, tree: Tree) -> ast.FieldRef:
        return ast.FieldRef(tuple(str(t) for t in tree.children), _pos(tree))

    def _lhs(self, tree: Tree) -> ast.FieldRef:
        if tree.data == "func_call":
            raise self._unsupported(tree, f"The function {str(tree.children[0]).upper()}()")
        return self.field_ref(tree)

    # -- conditions --------------------------------------------------------------------------
    def condition(self, tree: Tree) -> ast.Condition:
        kind = tree.data
        if kind == "and_":
            return ast.And(tuple(self.condition(c) for c in tree.children))
        if kind == "or_":
            return ast.Or(tuple(self.condition(c) for c in tree.children))
        if kind == "not_":
            return ast.Not(self.condition(tree.children[0]))
        if kind == "semi_join":
            raise self._unsupported(tree.children[1], "A semi-join subquery")
        field = self._lhs(tree.children[0])
        pos = _pos(tree)
        if kind == "compare_not_in":
            return ast.Comparison(field, "NOT_IN", self._values(tree.children[-1], False), pos)
        op_tok = tree.children[1]
        op = str(op_tok).upper()
        if kind == "compare_set":
            return ast.Comparison(field, op, self._values(tree.children[2], False), pos)
        op = "".join(op.split())
        op = "!=" if op == "<>" else op
        value = self.value(tree.children[2], like=op == "LIKE")
        return ast.Comparison(field, op, (value,), pos)

    def _values(self, tree: Tree, like: bool) -> tuple[ast.Value, ...]:
        return tuple(self.value(v, like=like) for v in tree.children)

    def value(self, tree: Tree, *, like: bool = False) -> ast.Value:
        kind = tree.data
        pos = _pos(tree)
        toks = [t for t in tree.children if isinstance(t, Token)]
        text = "".join(str(t) for t in toks)
        if kind == "string":
            body = text[1:-1]
            try:
                if like:
                    return ast.Value("pattern", like_pattern(body), text, pos)
                return ast.Value("string", decode(body), text, pos)
            except BadEscape as exc:
                raise self._malformed(tree, f"Invalid string literal '{body}'. Illegal character "
                                      f"sequence '{exc.sequence}' in string literal.") from None
        if kind == "signed_number":
            number = str(toks[-1])
            sign = -1 if len(toks) > 1 and toks[0] == "-" else 1
            parsed: int | float = float(number) if "." in number else int(number)
            return ast.Value("number", sign * parsed, text, pos)
        if kind in ("true", "false"):
            return ast.Value("boolean", kind == "true", text, pos)
        if kind == "null":
            return ast.Value("null", None, text, pos)
        if kind == "date":
            return ast.Value("date", text, text, pos)
        if kind == "datetime":
            return ast.Value("datetime", text, text, pos)
        return self._date_constant(toks, pos)

    def _date_constant(self, toks: list[Token], pos: ast.Position) -> ast.Value:
        name = str(toks[0]).upper()
        if name not in CONSTANTS:
            raise self._malformed(toks[0], f"unexpected token: '{toks[0]}'")
        n: int | None = None
        if len(toks) > 1:
            if "." in toks[1]:
                raise self._malformed(toks[1], f"unexpected token: '{toks[1]}'")
            n = int(toks[1])
        text = name if n is None else f"{name}:{n}"
        return ast.Value("date_constant", (name, n), text, pos)
