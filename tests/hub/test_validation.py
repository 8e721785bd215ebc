"""Bad input on every kind of field answers 4xx problem details naming the field; nothing is written."""

from __future__ import annotations

import pytest

from hub.models import Role
from tests.conftest import Hub

API = "/api/v1/organisations"


def _problem(response: object) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == response.status_code  # type: ignore[attr-defined]
    return body  # type: ignore[no-any-return]


def _fields(body: dict[str, object]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]  # type: ignore[index, union-attr]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "vcse"}, "name"),
        ({"name": "", "kind": "vcse"}, "name"),
        ({"name": "x" * 201, "kind": "vcse"}, "name"),
        ({"name": 42, "kind": "vcse"}, "name"),
        ({"name": "A", "kind": "charity"}, "kind"),
        ({"name": "A", "kind": "vcse", "charity_number": "12"}, "charity_number"),
        ({"name": "A", "kind": "vcse", "company_number": "123"}, "company_number"),
        ({"name": "A", "kind": "vcse", "postcode": "NOT A POSTCODE"}, "postcode"),
        ({"name": "A", "kind": "vcse", "billing_email": "not-an-email"}, "billing_email"),
        ({"name": "A", "kind": "vcse", "default_rate_band": "free"}, "default_rate_band"),
        ({"name": "A", "kind": "vcse", "contacts": [{"email": "a@b.org"}]}, "contacts[0].name"),
        ({"name": "A", "kind": "vcse", "contacts": [{"name": "B", "phone": "call me"}]}, "contacts[0].phone"),
        ({"name": "A", "kind": "vcse", "surprise": True}, "surprise"),
        ({"name": "A", "kind": "vcse", "notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_organisation_fields_are_named(hub: Hub, payload: dict[str, object], field: str) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(API, json=payload, headers=headers)
    assert response.status_code == 400, response.text
    body = _problem(response)
    assert field in _fields(body), body
    # nothing was written
    assert hub.client.get(API, params={"status": "all"}, headers=headers).json()["total"] == 0


def test_blank_name_after_trimming_is_refused(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(API, json={"name": "   ", "kind": "vcse"}, headers=headers)
    assert response.status_code == 422
    assert _fields(_problem(response)) == ["name"]


def test_malformed_json_is_400_naming_the_body(hub: Hub) -> None:
    headers = {**hub.headers_for(Role.RECEPTIONIST), "content-type": "application/json"}
    response = hub.client.post(API, content=b'{"name": "A", "kind": ', headers=headers)
    assert response.status_code == 400
    assert _fields(_problem(response)) == ["body"]


def test_json_that_is_not_an_object_is_400(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    response = hub.client.post(API, json=["a", "list"], headers=headers)
    assert response.status_code == 400
    _problem(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"per_page": 1000}, "per_page"),
        ({"page": "two"}, "page"),
        ({"kind": "pirates"}, "kind"),
        ({"status": "deleted"}, "status"),
        ({"q": "x" * 300}, "q"),
    ],
)
def test_bad_query_parameters_are_named(hub: Hub, params: dict[str, object], field: str) -> None:
    response = hub.client.get(API, params=params, headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 400, response.text
    assert field in _fields(_problem(response))


def test_patch_with_unknown_or_wrong_fields(hub: Hub) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    org_id = hub.make_org("Harbour Art Group")
    response = hub.client.patch(f"{API}/{org_id}", json={"kind": None}, headers=headers)
    assert response.status_code == 400
    assert "kind" in _fields(_problem(response))
    response = hub.client.patch(f"{API}/{org_id}", json={"id": 5}, headers=headers)
    assert response.status_code == 400
    assert "id" in _fields(_problem(response))


def test_unknown_api_route_is_problem_json_404(hub: Hub) -> None:
    response = hub.client.get("/api/v1/nothing-here", headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 404
    _problem(response)


def test_wrong_method_is_405_problem(hub: Hub) -> None:
    response = hub.client.delete(API, headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 405
    _problem(response)


def test_unknown_page_is_an_html_404(hub: Hub) -> None:
    response = hub.client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


def test_oversized_body_is_413(hub: Hub) -> None:
    headers = {**hub.headers_for(Role.RECEPTIONIST), "content-type": "application/json"}
    response = hub.client.post(API, content=b'{"name": "' + b"x" * 1_100_000 + b'"}', headers=headers)
    assert response.status_code == 413
    _problem(response)


def test_user_create_bad_fields(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    cases = [
        ({"email": "nope", "name": "A", "role": "admin", "password": "long-enough-pass"}, "email"),
        ({"email": "a@b.org", "name": "A", "role": "wizard", "password": "long-enough-pass"}, "role"),
        ({"email": "a@b.org", "name": "A", "role": "admin", "password": "short"}, "password"),
        (
            {"email": "a@b.org", "name": "A", "role": "tenant", "password": "long-enough-pass"},
            "organisation_id",
        ),
        (
            {
                "email": "a@b.org",
                "name": "A",
                "role": "tenant",
                "password": "long-enough-pass",
                "organisation_id": 424242,
            },
            "organisation_id",
        ),
        (
            {
                "email": "a@b.org",
                "name": "A",
                "role": "admin",
                "password": "long-enough-pass",
                "organisation_id": -1,
            },
            "organisation_id",
        ),
    ]
    for payload, field in cases:
        response = hub.client.post("/api/v1/users", json=payload, headers=headers)
        assert 400 <= response.status_code < 500, (payload, response.text)
        assert field in _fields(_problem(response)), (payload, response.json())
