"""The OpenAPI document describes the API as it answers (the API contract finding).

Expectations come from the issue and DESIGN: errors are RFC 9457 problem details under
``application/problem+json``; protected routes answer 401/403, routes with a path id 404; feeds are
``text/calendar``; request bodies refuse unknown fields; a series' start time is a clock time; the
bearer scheme is the way in; money writes take an ``Idempotency-Key``. The live check against a
running server is ``scripts/api_contract.py`` (schemathesis), run by ``.ci/run``.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar, post
from litestar.openapi import OpenAPIConfig
from litestar.params import JSONBody

from hub.auth import PUBLIC, STAFF, roles
from hub.models import Role
from hub.openapi import build_document
from tests.conftest import Hub

METHODS = ("get", "head", "post", "put", "patch", "delete")
PROBLEM = "application/problem+json"


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _validator(doc: dict[str, Any], name: str) -> Any:
    """A validator for one component schema, with the document's components to resolve $refs."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


@pytest.fixture
def doc(hub: Hub) -> dict[str, Any]:
    response = hub.client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_error_is_documented_as_problem_details(doc: dict[str, Any]) -> None:
    problem = doc["components"]["schemas"]["ProblemDetails"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance", "errors"}
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for path, method, operation in _operations(doc):
        errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
        assert errors, f"{method} {path} documents no error"
        for code, response in errors.items():
            assert list(response["content"]) == [PROBLEM], f"{method} {path} {code}"
            assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}


def test_protected_routes_document_401_and_403_and_path_ids_404(doc: dict[str, Any]) -> None:
    for path, method, operation in _operations(doc):
        statuses = set(operation["responses"])
        public = operation.get("security") == []
        if not public:
            assert {"401", "403"} <= statuses, f"{method} {path}"
        if "{" in path:
            assert "404" in statuses, f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, f"{method} {path}"
    me = doc["paths"]["/api/v1/me"]["get"]
    assert sorted(me["responses"]) == ["200", "401", "403", "503"]
    booking = doc["paths"]["/api/v1/bookings"]["post"]
    assert sorted(booking["responses"]) == ["201", "400", "401", "403", "404", "409", "413", "422", "503"]


def test_bearer_scheme_and_public_routes_need_no_token(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "API token",
    }
    assert doc["security"] == [{"bearer": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert doc["paths"]["/feeds/building.ics"]["get"]["security"] == []
    assert "security" not in doc["paths"]["/api/v1/rooms"]["get"]  # the document's default: bearer


def test_feeds_are_documented_as_text_calendar(doc: dict[str, Any]) -> None:
    feed_paths = [p for p in doc["paths"] if p.startswith("/feeds/")]
    assert sorted(feed_paths) == [
        "/feeds/building.ics",
        "/feeds/categories/{category_file}",
        "/feeds/private/{token_file}",
        "/feeds/rooms/{room_file}",
    ]
    for path in feed_paths:
        for method in ("get", "head"):
            responses = doc["paths"][path][method]["responses"]
            assert list(responses["200"]["content"]) == ["text/calendar"]
            assert "304" in responses


def test_series_times_are_clock_times_not_durations(doc: dict[str, Any]) -> None:
    series = doc["components"]["schemas"]["SeriesOut"]["properties"]
    for name in ("start_time", "end_time"):
        assert "format" not in series[name]
        pattern = re.compile(series[name]["pattern"])
        assert pattern.search("09:00:00")
        assert not pattern.search("PT9H")


def test_request_bodies_are_what_the_handlers_read(doc: dict[str, Any]) -> None:
    """Unknown fields are refused, so the document says so; bounds are the decoder's exactly."""
    bodies = {
        ("/api/v1/categories", "put"): "CategoryIn",
        ("/api/v1/opening-hours", "put"): "OpeningHoursIn",
        ("/api/v1/rates", "put"): "RateIn",
    }
    schemas = doc["components"]["schemas"]
    for (path, method), name in bodies.items():
        body = doc["paths"][path][method]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}
        assert schemas[name]["additionalProperties"] is False
    assert schemas["OpeningDay"]["additionalProperties"] is False
    half_day = schemas["RateIn"]["properties"]["half_day_pence"]["anyOf"][0]
    assert (half_day["minimum"], half_day["maximum"]) == (0, 100_000_000)
    assert schemas["RateIn"]["properties"]["room_id"]["maximum"] == 2**63 - 1
    rate = _validator(doc, "RateIn")
    assert rate.is_valid({"room_id": 1, "band": "community", "hourly_pence": 1500})
    assert not rate.is_valid({"room_id": 1, "band": "community", "hourly_pence": 1500, "colour": "red"})
    assert not rate.is_valid({"room_id": 1, "band": "community", "hourly_pence": 1500, "half_day_pence": -1})
    quote = schemas["QuoteRequest"]["properties"]["start"]
    assert quote["format"] == "date-time"
    assert not re.search(quote["pattern"], "")


def test_the_document_does_not_describe_itself(doc: dict[str, Any]) -> None:
    assert not [p for p in doc["paths"] if p.startswith("/schema")]


def test_idempotency_key_header_is_documented_where_the_route_takes_it() -> None:
    @post("/pay", opt={**roles(STAFF), "idempotency": True}, sync_to_thread=False)
    def pay(data: JSONBody[dict[str, int]]) -> dict[str, int]:
        return data

    @post("/note", opt=PUBLIC, sync_to_thread=False)
    def note(data: JSONBody[dict[str, int]]) -> dict[str, int]:
        return data

    app = Litestar([pay, note], openapi_config=OpenAPIConfig(title="t", version="1"))
    doc = build_document(app)
    headers = [p for p in doc["paths"]["/pay"]["post"]["parameters"] if p["in"] == "header"]
    assert [(h["name"], h["required"]) for h in headers] == [("Idempotency-Key", False)]
    assert re.search(headers[0]["schema"]["pattern"], "6f1c2d0e-8a43-4b7e-9d2a-0c5b1e7f3a99")
    assert not re.search(headers[0]["schema"]["pattern"], "has space")
    assert "parameters" not in doc["paths"]["/note"]["post"]


def test_real_problem_answers_match_the_documented_schema(hub: Hub, doc: dict[str, Any]) -> None:
    problem = _validator(doc, "ProblemDetails")
    tenant = hub.headers_for(Role.TENANT)
    admin = hub.headers_for(Role.ADMIN)
    unknown_field = {"slug": "x", "label": "X", "colour": 1}
    no_room = {"room_id": 999_999, "band": "community", "hourly_pence": 1}
    answers = [
        (hub.client.get("/api/v1/me"), 401, "/api/v1/me"),
        (hub.client.get("/api/v1/users", headers=tenant), 403, "/api/v1/users"),
        (hub.client.get("/api/v1/rooms/999999", headers=admin), 404, "/api/v1/rooms/{room_id}"),
        (hub.client.put("/api/v1/categories", json=unknown_field, headers=admin), 400, "/api/v1/categories"),
        (hub.client.put("/api/v1/rates", json=no_room, headers=admin), 422, "/api/v1/rates"),
    ]
    for response, status, path in answers:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert problem.is_valid(response.json()), response.text
        method = response.request.method.lower()
        assert str(status) in doc["paths"][path][method]["responses"], f"{method} {path} {status}"
    refused = answers[3][0].json()
    assert refused["errors"] == [{"field": "colour", "reason": "is not a field this endpoint accepts"}]
