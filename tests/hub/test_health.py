"""GET /healthz checks the database."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import TestClient

from hub.app import create_app
from hub.config import Settings
from tests.conftest import Hub


def test_healthz_ok(hub: Hub) -> None:
    response = hub.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_healthz_503_problem_when_database_unreachable(settings: Settings) -> None:
    # Nothing listens on port 1: the connection is refused.
    broken = replace(settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(broken)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "The database cannot be reached."


def test_openapi_schema_is_served_and_lists_the_api(hub: Hub) -> None:
    response = hub.client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/organisations" in paths
    assert "/api/v1/organisations/{organisation_id}" in paths
    assert "/login" not in paths  # pages are not part of the API


def test_static_css_served_without_a_cdn(hub: Hub) -> None:
    response = hub.client.get("/static/hub.css")
    assert response.status_code == 200
    page = hub.client.get("/login").text
    assert "http://" not in page and "https://" not in page
