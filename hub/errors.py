"""Domain errors, and how they read as RFC 9457 problem details.

Services raise :class:`DomainError` subclasses naming the field and the reason. The one place any
error becomes a response (problem details for the API, an error page for a browser) is
:func:`hub.web.exception_handler`; this module is a leaf that every other one may import.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, ValidationException

logger = logging.getLogger("hub.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    reason: str


class DomainError(Exception):
    status_code = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # RFC 9457 extension members, e.g. the clashing times of a refused booking.
        self.extra = extra or {}
        self.errors = list(errors or [])
        if field is not None:
            self.errors.insert(0, FieldError(field=field, reason=detail))
        self.headers = headers or {}


class InvalidInput(DomainError):
    status_code = 422
    slug = "validation-error"
    title = "Some of the values given are not valid"


class MalformedInput(InvalidInput):
    """A value of the wrong shape or type (the same check the API's schema makes): 400."""

    status_code = 400


class RuleViolation(DomainError):
    status_code = 422
    slug = "rule-violation"
    title = "That is not allowed by the hub's rules"


class NotFound(DomainError):
    status_code = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    slug = "conflict"
    title = "That clashes with something already recorded"


class Unauthenticated(DomainError):
    status_code = 401
    slug = "unauthenticated"
    title = "Sign in required"


class Forbidden(DomainError):
    status_code = 403
    slug = "forbidden"
    title = "Not allowed for your role"


class TooManyRequests(DomainError):
    status_code = 429
    slug = "too-many-requests"
    title = "Too many attempts"


class ServiceUnavailable(DomainError):
    status_code = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class UpstreamError(DomainError):
    """A service the hub relies on (Stripe) refused or failed; nothing was recorded here."""

    status_code = 502
    slug = "payment-provider-error"
    title = "The payment provider did not accept the request"


_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Sign in required"),
    403: ("forbidden", "Not allowed for your role"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Some of the values given are not valid"),
    429: ("too-many-requests", "Too many attempts"),
    500: ("internal-error", "Something went wrong on the server"),
    502: ("payment-provider-error", "The payment provider did not accept the request"),
    503: ("service-unavailable", "Service unavailable"),
}


def problem_type(slug: str) -> str:
    return f"urn:hubkeeper:problem:{slug}"


def problem_body(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    default_slug, default_title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": problem_type(slug or default_slug),
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


# msgspec reports the path as "$.contacts[0].email"; callers want "contacts[0].email".
_MSGSPEC_PATH = re.compile(r"\s+-\s+at\s+`\$(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required (?P<where>\w+) parameter '(?P<name>[^']+)'")


def field_errors_from_validation(exc: ValidationException) -> list[FieldError]:
    """Turn Litestar/msgspec validation output into field + reason pairs."""
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "")
        if item.get("source") == "body" and (key == "data" or key.startswith("data.")):
            key = key.removeprefix("data").lstrip(".")  # the handler's kwarg name, not a field
        elif item.get("source") != "body" and key.endswith("_") and not key.endswith("__"):
            key = key[:-1]  # a parameter named after a reserved word (from_, date_) is sent without "_"
        path = ""
        match = _MSGSPEC_PATH.search(message)
        if match:
            path = match.group("path").lstrip(".")
            message = message[: match.start()]
        parent = key or path
        named = _UNKNOWN_FIELD.search(message) or _MISSING_FIELD.search(message)
        if named:
            # Litestar reports the object holding the field; callers want the field itself.
            name = named.group("name")
            field = f"{parent}.{name}" if parent else name
            message = "is not a field this endpoint accepts" if "unknown" in message else "is required"
        else:
            field = parent or ("body" if item.get("source") == "body" else "request")
        errors.append(FieldError(field=field, reason=humanise(message)))
    return errors


# What a failed pattern means, in words (filled in by the schemas that define the patterns).
PATTERN_REASONS: dict[str, str] = {}


def humanise(message: str) -> str:
    message = message.strip()
    replacements = (
        ("Expected `str` of length >= ", "must be at least {} characters"),
        ("Expected `str` of length <= ", "must be at most {} characters"),
        ("Expected `int` >= ", "must be at least {}"),
        ("Expected `int` <= ", "must be at most {}"),
        ("Expected `array` of length <= ", "must have at most {} items"),
    )
    for prefix, template in replacements:
        if message.startswith(prefix):
            return template.format(message.removeprefix(prefix))
    if message.startswith("Expected `str` matching regex"):
        for pattern, reason in PATTERN_REASONS.items():
            if repr(pattern) in message or pattern in message:
                return reason
        return "is not in the expected format"
    if message.startswith("Invalid enum value"):
        return message.replace("Invalid enum value", "must be one of the allowed values, not")
    if message.startswith("Expected `"):
        return "has the wrong type: " + message[0].lower() + message[1:]
    return message


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/webhooks/", "/healthz", "/schema", "/feeds/")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    body = problem_body(
        status, detail, slug=slug, title=title, instance=request.url.path, errors=errors, extra=extra
    )
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class Problem(msgspec.Struct, frozen=True):
    """What an error says to its caller, whichever way it is shown (problem details or a page)."""

    status: int
    detail: str
    slug: str | None = None
    title: str | None = None
    errors: list[FieldError] | None = None
    headers: dict[str, str] | None = None
    extra: dict[str, Any] | None = None


def status_title(status: int) -> str:
    return _TITLES.get(status, ("error", "Error"))[1]


def problem_of(exc: Exception) -> Problem | None:
    """The problem an exception states: a domain error as raised, Litestar's own refusals (bad
    input named by field, 401, 404, 405, …) in the same words. None: an unexpected error."""
    if isinstance(exc, DomainError):
        return Problem(
            exc.status_code,
            exc.detail,
            slug=exc.slug,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )
    if isinstance(exc, ValidationException | ClientException) and exc.status_code == 400:
        errors = field_errors_from_validation(exc) if isinstance(exc, ValidationException) else []
        missing = _MISSING_PARAMETER.search(str(exc.detail))
        if not errors and missing:
            where = missing.group("where")
            errors = [FieldError(field=missing.group("name"), reason=f"is required ({where})")]
        if not errors:
            # Litestar could not decode the body at all (truncated, not JSON, wrong encoding).
            errors = [FieldError(field="body", reason=f"could not be read: {exc.detail}")]
        return Problem(
            400,
            "; ".join(f"{e.field}: {e.reason}" for e in errors),
            slug="validation-error",
            title="Some of the values given are not valid",
            errors=errors,
        )
    if isinstance(exc, NotAuthorizedException):
        return Problem(401, str(exc.detail) or "Sign in, or send an API token, to use this.")
    if isinstance(exc, HTTPException):
        return Problem(exc.status_code, str(exc.detail), headers=dict(exc.headers) if exc.headers else None)
    return None
