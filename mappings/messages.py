"""Schema errors in the words of the mapping file, not of pydantic.

RevOps read ``templates[1].milestones[3].side: must be one of buyer, seller, joint``, not
``Input should be 'Buyer', 'Seller' or 'Joint' [type=enum, input_value='buyr']``: each error
gets the YAML path it points at and a sentence that says what to write instead.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from mappings.model import Condition, StageMapping

# Union members pydantic adds to an error's location (``equals.str``); not part of the path.
_UNION_TAGS = {"str", "float", "int", "bool", "decimal", "date", "list[str]", "none"}

_KEY_PATTERN_HELP = (
    "must be lower_snake_case: a lowercase letter, then lowercase letters, digits or _"
)


def schema_problems(err: ValidationError, root: type[BaseModel] = StageMapping) -> list[str]:
    """One readable line per wrong value, in the order of the file's fields."""
    by_location: dict[str, list[str]] = {}
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        sentence = _sentence(e, loc, root)
        sentences = by_location.setdefault(location(loc), [])
        if sentence not in sentences:
            sentences.append(sentence)
    return [f"{where}: {_merge(sentences)}" for where, sentences in by_location.items()]


def location(loc: tuple[int | str, ...]) -> str:
    """``('templates', 1, 'milestones', 3, 'side')`` → ``templates[1].milestones[3].side``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def _sentence(e: Any, loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    kind: str = e["type"]
    ctx: dict[str, Any] = e.get("ctx") or {}
    got = _shown(e.get("input"))
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return _unknown_field(loc, root)
    if kind in {"value_error", "assertion_error"}:
        return str(ctx.get("error", e["msg"])).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return f"{_KEY_PATTERN_HELP} (got {got})"
    simple = {
        "string_type": "must be text",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "decimal_type": "must be a number",
        "decimal_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "list_type": "must be a list (one `- item` per line)",
        "model_type": "must be a mapping of fields (key: value lines)",
        "model_attributes_type": "must be a mapping of fields (key: value lines)",
        "dict_type": "must be a mapping of fields (key: value lines)",
    }
    if kind in simple:
        return f"{simple[kind]} (got {got})" if got else simple[kind]
    limits = {
        "string_too_short": ("must not be empty" if ctx.get("min_length") == 1
                             else f"must have at least {ctx.get('min_length')} characters"),
        "string_too_long": f"must be at most {ctx.get('max_length')} characters",
        "too_short": f"must list at least {ctx.get('min_length')} item(s)",
        "too_long": f"must list at most {ctx.get('max_length')} item(s)",
        "greater_than_equal": f"must be at least {ctx.get('ge')} (got {got})",
        "greater_than": f"must be more than {ctx.get('gt')} (got {got})",
        "less_than_equal": f"must be at most {ctx.get('le')} (got {got})",
        "less_than": f"must be less than {ctx.get('lt')} (got {got})",
    }
    if kind in limits:
        return limits[kind]
    return str(e["msg"])


def _merge(sentences: list[str]) -> str:
    """``must be true or false`` + ``must be text`` + ``must be a number`` →
    ``must be true or false, text or a number``."""
    if len(sentences) > 1 and all(s.startswith("must be ") for s in sentences):
        bare = [s.removeprefix("must be ").split(" (got ")[0] for s in sentences]
        got = sentences[0].partition(" (got ")[2]
        listed = ", ".join(bare[:-1]) + " or " + bare[-1]
        return "must be " + listed + (f" (got {got}" if got else "")
    return "; ".join(sentences)


def _shown(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return type(value).__name__ if value is not None else "nothing"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unknown_field(loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return "unknown field"
    allowed = [f.alias or name for name, f in model.model_fields.items()]
    name = str(loc[-1])
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field (did you mean {close[0]}?)"
    if model is Condition:
        return (
            "unknown field: a condition is field: <Opportunity field> plus one of "
            + ", ".join(a for a in allowed if a != "field")
        )
    return "unknown field (allowed: " + ", ".join(allowed) + ")"


def _model_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class a location inside ``root`` points into, following lists."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """``list[Template]`` / ``Template | None`` → ``Template``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner = _inner_model(arg)
            if inner is not None:
                return inner
    return None
