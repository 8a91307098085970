"""Small helpers shared by the route modules: paths with and without a trailing slash,
and resolving the sObject named in a path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.emulator.errors import ApiError, not_found
from connectors.emulator.gate import Call, api_route
from connectors.emulator.schema import FieldDef, SObjectDef


def api(path: str, route: Callable[[Call], Awaitable[Response]],
        methods: list[str]) -> list[BaseRoute]:
    """An API route answering ``path`` with or without a trailing slash, as Salesforce does."""
    endpoint = api_route(route)
    return plain(path, endpoint, methods)


def plain(path: str, endpoint: Callable[[Request], Awaitable[Response]],
          methods: list[str]) -> list[BaseRoute]:
    bare = path.rstrip("/")
    if not bare:
        return [Route("/", endpoint, methods=methods)]
    return [Route(bare, endpoint, methods=methods), Route(bare + "/", endpoint, methods=methods)]


def sobject_of(call: Call, name: str | None = None) -> SObjectDef:
    """The object named in the path; one the user cannot read does not exist for them."""
    name = name or str(call.request.path_params["sobject"])
    obj = call.org.schema.get(name)
    if obj is None or call.schema.get(name) is None:
        raise not_found()
    return obj


def readable_fields(call: Call, obj: SObjectDef, raw: str | None) -> list[FieldDef]:
    """The fields of a ``fields=`` parameter, or every field the user can read."""
    view = call.schema.get(obj.name)
    assert view is not None
    return field_list(view, raw) or list(view.fields.values())


def field_list(obj: SObjectDef, raw: str | None) -> list[FieldDef] | None:
    """The fields named in a ``fields=`` parameter (None = all); unknown names are an error."""
    if not raw:
        return None
    out: list[FieldDef] = []
    for name in (n.strip() for n in raw.split(",")):
        if not name:
            continue
        f = obj.field(name)
        if f is None:
            raise ApiError(400, "INVALID_FIELD",
                           f"No such column '{name}' on entity '{obj.name}'. If you are "
                           "attempting to use a custom field, be sure to append the '__c' "
                           "after the custom field name. Please reference your WSDL or the "
                           "describe call for the appropriate names.")
        out.append(f)
    return out
