"""The one exception the SOQL engine raises, worded the way Salesforce words it.

Clients (simple-salesforce, jsforce, the sf CLI) show Salesforce's message verbatim and some
tools match on ``errorCode``, so a query the local org refuses must fail with the same code and
a message in the same shape: the offending line, a caret under the column, ``ERROR at
Row:R:Column:C`` and the reason.

    SoqlError
      error_code  MALFORMED_QUERY            syntax, unsupported construct, bad literal
                  INVALID_FIELD              unknown field or relationship, wrong literal type
                  INVALID_TYPE               unknown sObject
                  INVALID_QUERY_FILTER_OPERATOR  malformed Id, operator not allowed on the field
                  NUMBER_OUTSIDE_VALID_RANGE     OFFSET above 2,000
      unsupported True when real Salesforce would accept the query but this org cannot run it
"""

from __future__ import annotations


class SoqlError(Exception):
    """A query Salesforce (or this org) refuses; ``error_code`` is Salesforce's ``errorCode``."""

    def __init__(self, error_code: str, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.unsupported = unsupported

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def at(error_code: str, text: str, line: int, column: int, reason: str,
       *, unsupported: bool = False) -> SoqlError:
    """An error pointing at ``line``/``column`` (1-based) of the query ``text``."""
    rows = text.split("\n")
    row = rows[line - 1] if 0 < line <= len(rows) else ""
    caret = " " * max(column - 1, 0) + "^"
    message = f"\n{row}\n{caret}\nERROR at Row:{line}:Column:{column}\n{reason}"
    return SoqlError(error_code, message, unsupported=unsupported)


def no_such_column(text: str, line: int, column: int, field: str, entity: str) -> SoqlError:
    return at("INVALID_FIELD", text, line, column,
              f"No such column '{field}' on entity '{entity}'. If you are attempting to use a "
              "custom field, be sure to append the '__c' after the custom field name. Please "
              "reference your WSDL or the describe call for the appropriate names.")


def bad_relationship(text: str, line: int, column: int, name: str) -> SoqlError:
    return at("INVALID_FIELD", text, line, column,
              f"Didn't understand relationship '{name}' in field path. If you are attempting to "
              "use a custom relationship, be sure to append the '__r' after the custom "
              "relationship name. Please reference your WSDL or the describe call for the "
              "appropriate names.")


def unknown_sobject(text: str, line: int, column: int, name: str) -> SoqlError:
    return at("INVALID_TYPE", text, line, column,
              f"sObject type '{name}' is not supported. If you are attempting to use a custom "
              "object, be sure to append the '__c' after the entity name. Please reference your "
              "WSDL or the describe call for the appropriate names.")


def unsupported(text: str, line: int, column: int, what: str) -> SoqlError:
    return at("MALFORMED_QUERY", text, line, column,
              f"{what} is not supported by the local Salesforce org", unsupported=True)
