"""The OpenAPI document, made to describe the API as it answers.

Litestar writes the document from the handlers' signatures. On its own that document says every
error is Litestar's ``{detail, status_code, extra}`` JSON (the hub answers RFC 9457 problem
details), that feeds are JSON strings, that request bodies accept any extra property (they refuse
unknown fields) and loses integer bounds it turns into floats. This module is the one place that
puts that right, from what the routes state rather than from a list per handler:

- every operation lists the problem statuses it can answer, all as ``application/problem+json``
  with the :data:`PROBLEM_DETAILS` schema: 401/403 unless the route is public, 404 where a path,
  query or body names a record, 400/413/422 where there is input to refuse, 409 on writes,
  304 for feeds' conditional requests and 503 everywhere (the database cannot be reached);
- request bodies are msgspec's own JSON Schema of the Struct the handler decodes, so the bounds,
  patterns and ``additionalProperties: false`` are exactly what the decoder enforces;
- public routes need no bearer token (``security: []``); routes whose ``opt`` has
  ``idempotency=True`` take an ``Idempotency-Key`` header;
- feeds answer ``text/calendar``; a ``datetime.time`` is a clock time, not a duration.

The render plugins below serve this document at ``/schema/openapi.json`` (and ``.yaml``).
"""

from __future__ import annotations

import copy
from datetime import time
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from hub.db import MAX_ID
from hub.errors import PROBLEM_MEDIA_TYPE

__all__ = ["ClockTimeSchemaPlugin", "DocumentedJsonPlugin", "DocumentedYamlPlugin", "document"]

REF = "#/components/schemas/{name}"
CALENDAR = "text/calendar"
SAFE_METHODS = frozenset({"get", "head", "options"})
# The key a route's ``opt`` sets to take an Idempotency-Key (see ``hub.idempotency``), and what
# that module accepts as a key: 1 to 255 visible ASCII characters.
IDEMPOTENCY_OPT = "idempotency"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"
# What msgspec decodes as a date and a datetime. JSON Schema formats are annotations that
# generators may ignore (an empty string is a "date-time" to some), so a pattern says it too;
# msgspec refuses a leap second (":60"), which RFC 3339 allows.
_YEAR = r"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"  # msgspec refuses year 0
DATE_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATE_TIME_PATTERN = (
    rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
FORMAT_PATTERNS = {"date": DATE_PATTERN, "date-time": DATE_TIME_PATTERN}
# A time of day as msgspec writes a ``datetime.time``: "09:00:00", with microseconds if any.
CLOCK_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$"

FIELD_ERROR: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "description": "One refused value: where it was and why.",
    "properties": {
        "field": {"type": "string", "description": "e.g. `contacts[0].email`, or a parameter's name"},
        "reason": {"type": "string"},
    },
    "required": ["field", "reason"],
}

PROBLEM_DETAILS: dict[str, Any] = {
    "title": "ProblemDetails",
    "type": "object",
    "description": (
        "An RFC 9457 problem. Some problems carry extension members, e.g. the clashing times "
        "of a refused booking."
    ),
    "properties": {
        "type": {"type": "string", "description": "`urn:hubkeeper:problem:<slug>`"},
        "title": {"type": "string", "description": "a short summary of the kind of problem"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what went wrong with this request"},
        "instance": {"type": "string", "description": "the path of the request"},
        "errors": {"type": "array", "items": {"$ref": REF.format(name="FieldError")}},
    },
    "required": ["type", "title", "status", "detail"],
}

# Each status a problem may carry, with what it means here.
PROBLEM_STATUSES: dict[int, str] = {
    400: "Malformed: a value of the wrong type or shape, an unknown field, a body that is not JSON",
    401: "No valid session or API token",
    403: "Your role may not do this (or a form's CSRF token is missing)",
    404: "Not found, or another organisation's",
    409: "Clashes with what is already recorded (a taken slot, a changed record, a reused key)",
    413: "The request body is too large",
    422: "Well formed, but breaks a rule of the hub's (the `errors` name the fields)",
    429: "Too many attempts; wait and try again",
    503: "The database cannot be reached or is busy; try again shortly",
}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": PROBLEM_STATUSES[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(name="ProblemDetails")}}},
    }


class ClockTimeSchemaPlugin(OpenAPISchemaPlugin):
    """A ``datetime.time`` is a time of day ("09:00:00"); Litestar calls it a duration."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(
            type=OpenAPIType.STRING,
            pattern=CLOCK_TIME_PATTERN,
            description="a local time of day, e.g. 09:00:00",
        )


def _handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    """(path, method) → the handler that answers it, for every documented operation."""
    found: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                found[(route.path_format or "/", method.lower())] = handler
    return found


def _body_type(handler: HTTPRouteHandler) -> Any | None:
    """The type the handler decodes its JSON body into, or None if it reads no body."""
    data = handler.parsed_fn_signature.parameters.get("data")
    return None if data is None else data.annotation


def _mark_datetimes(types: list[Any], definitions: dict[str, Any]) -> None:
    """msgspec leaves ``format`` off a datetime (it also reads naive ones): put it back."""
    for info in msgspec.inspect.multi_type_info(types):
        for struct in _structs(info, set()):
            properties = definitions.get(struct.cls.__name__, {}).get("properties", {})
            for field in struct.fields:
                kind = field.type
                kinds = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
                if not any(isinstance(_bare(kind), msgspec.inspect.DateTimeType) for kind in kinds):
                    continue
                prop = properties.get(field.encode_name, {})
                for arm in [prop, *prop.get("anyOf", [])]:
                    if arm.get("type") == "string":
                        arm["format"] = "date-time"


def _bare(info: Any) -> Any:
    return info.type if isinstance(info, msgspec.inspect.Metadata) else info


def _structs(info: Any, seen: set[type]) -> list[msgspec.inspect.StructType]:
    """Every Struct reachable from a type, each once."""
    info = _bare(info)
    found: list[msgspec.inspect.StructType] = []
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return found
        seen.add(info.cls)
        found.append(info)
        for field in info.fields:
            found += _structs(field.type, seen)
    elif isinstance(info, msgspec.inspect.UnionType):
        for arm in info.types:
            found += _structs(arm, seen)
    elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.VarTupleType):
        found += _structs(info.item_type, seen)
    elif isinstance(info, msgspec.inspect.DictType):
        found += _structs(info.value_type, seen)
    return found


def _tighten(node: Any) -> None:
    """Integer bounds as integers (Litestar writes floats, and 2**63-1 does not survive that);
    dates and datetimes with the pattern the decoder reads."""
    if isinstance(node, dict):
        pattern = FORMAT_PATTERNS.get(node.get("format", ""))
        if pattern and node.get("type") == "string" and "pattern" not in node:
            node["pattern"] = pattern
        arms = [node, *node.get("oneOf", [])]
        if any(isinstance(arm, dict) and arm.get("type") == "integer" for arm in arms):
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                value = node.get(key)
                if isinstance(value, float):
                    node[key] = MAX_ID if value >= float(MAX_ID) else int(value)
        for value in node.values():
            _tighten(value)
    elif isinstance(node, list):
        for value in node:
            _tighten(value)


def _statuses(method: str, handler: HTTPRouteHandler, operation: dict[str, Any], feed: bool) -> set[int]:
    opt = handler.opt
    public = bool(opt.get("public"))
    write = method not in SAFE_METHODS
    locations = {p.get("in") for p in operation.get("parameters", [])}
    body = "requestBody" in operation or write
    has_input = body or bool(locations & {"query", "header"})
    statuses = {503}
    if not public:
        statuses |= {401, 403}
    elif write and not opt.get("csrf_exempt"):
        statuses.add(403)  # a browser's cookie-carrying change without its CSRF token
    if has_input:
        statuses |= {400, 422}
    if body:
        statuses.add(413)
    if write:
        statuses.add(409)
    if has_input or "path" in locations or feed:
        statuses.add(404)
    return statuses


def _describe_operation(
    path: str, method: str, operation: dict[str, Any], handler: HTTPRouteHandler, bodies: dict[Any, Any]
) -> None:
    feed = path.startswith("/feeds/")
    opt = handler.opt
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if opt.get(IDEMPOTENCY_OPT) and not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": (
                    "Makes a retry safe: the same key and body answer the first answer and write "
                    "nothing; the same key with another body is a 409. A UUID is ideal."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        )
    if feed:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "the feed's ETag from an earlier answer: 304 if nothing changed",
                "schema": {"type": "string"},
            }
        )
    if not parameters:
        operation.pop("parameters")
    if "requestBody" in operation and handler in bodies:
        operation["requestBody"]["content"] = {"application/json": {"schema": bodies[handler]}}
    if opt.get("public"):
        operation["security"] = []
    responses: dict[str, Any] = {
        code: answer for code, answer in operation.get("responses", {}).items() if not code.startswith("4")
    }
    if feed:
        for code, answer in responses.items():
            if code.startswith("2"):
                answer["description"] = "An iCalendar (RFC 5545) feed"
                answer["content"] = {CALENDAR: {"schema": {"type": "string"}}}
        responses["304"] = {"description": "Not modified: the feed's ETag still matches If-None-Match"}
    for status in sorted(_statuses(method, handler, operation, feed)):
        responses[str(status)] = _problem_response(status)
    operation["responses"] = dict(sorted(responses.items()))


def build_document(app: Litestar) -> dict[str, Any]:
    """The served OpenAPI document: Litestar's, made true to what the API answers."""
    doc = copy.deepcopy(app.openapi_schema.to_schema())
    handlers = _handlers(app)
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})

    # Request bodies as the decoder sees them: msgspec's schema of each handler's body type.
    body_handlers = [h for h in handlers.values() if _body_type(h) is not None]
    body_types = [_body_type(h) for h in body_handlers]
    refs, definitions = msgspec.json.schema_components(body_types, ref_template=REF)
    _mark_datetimes(body_types, definitions)
    bodies = {handler: schema for handler, schema in zip(body_handlers, refs, strict=True)}
    for name, definition in definitions.items():
        if definition.get("type") == "object" or name not in schemas:
            schemas[name] = definition

    for path, path_item in doc.get("paths", {}).items():
        for method, operation in path_item.items():
            handler = handlers.get((path, method))
            if handler is not None and isinstance(operation, dict):
                _describe_operation(path, method, operation, handler, bodies)

    schemas["ProblemDetails"] = PROBLEM_DETAILS
    schemas["FieldError"] = FIELD_ERROR
    components["schemas"] = dict(sorted(schemas.items()))
    _tighten(doc.get("paths", {}))
    _tighten(components["schemas"])
    return doc


_STATE_KEY = "openapi_document"


def document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document (built once per app, kept in its state)."""
    found: dict[str, Any] | None = app.state.get(_STATE_KEY)
    if found is None:
        found = build_document(app)
        app.state[_STATE_KEY] = found
    return found


class DocumentedJsonPlugin(JsonRenderPlugin):
    """/schema/openapi.json, serving :func:`document` rather than Litestar's raw document."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document(request.app))


class DocumentedYamlPlugin(YamlRenderPlugin):
    """/schema/openapi.yaml, serving :func:`document`."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document(request.app))
