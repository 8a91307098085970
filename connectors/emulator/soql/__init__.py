"""SOQL for the local Salesforce org: parse Salesforce's query language and run it on SQLite.

    q = parse(text)                                   # SoqlError('MALFORMED_QUERY', ...)
    cq = compile_query(q, schema, include_deleted=False, now=now_utc, api_version="59.0")
    rows = connection.execute(cq.sql, cq.params)      # SoqlError from compile: INVALID_FIELD,
    records = [cq.shape(r) for r in rows]             # INVALID_TYPE, MALFORMED_QUERY, ...

The parser knows no schema, so it can be checked against Salesforce's own parser; the compiler
resolves names and types against the org's schema and emits SQL over the storage layout that
``connectors/emulator/schema.py`` defines.
"""

from connectors.emulator.soql.ast import Query
from connectors.emulator.soql.compiler import CompiledQuery, compile_query
from connectors.emulator.soql.errors import SoqlError
from connectors.emulator.soql.parser import parse

__all__ = ["CompiledQuery", "Query", "SoqlError", "compile_query", "parse"]
