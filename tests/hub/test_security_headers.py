"""Security headers on every response (issue 18, "A hardened web"): pages, the API, its problems,
feeds, static files, the OpenAPI document, PDFs and every error; HSTS over HTTPS only; and the
templates stay free of what the Content-Security-Policy forbids.

The expected values are written out here from the issue and docs/security.md, not read from
hub/headers.py: a header weakened there fails here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar import Response, get
from litestar.testing import TestClient

from hub.app import create_app, default_modules
from hub.auth import PUBLIC
from hub.config import Settings
from hub.models import OrganisationKind, Role
from hub.modules import Module
from tests.conftest import Hub
from tests.hub.test_permissions import _concrete, _make_objects, _served

CSP = (
    "default-src 'none'; "
    "script-src 'self' https://js.stripe.com https://*.js.stripe.com; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "font-src 'self'; "
    "connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'; "
    "manifest-src 'self'; "
    "worker-src 'self'"
)
PERMISSIONS = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    'microphone=(), midi=(), payment=(self "https://js.stripe.com"), usb=()'
)
EVERY_RESPONSE = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": PERMISSIONS,
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


def headers_of(response: Any) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in [*EVERY_RESPONSE, "strict-transport-security"]}


def assert_secured(response: Any, *, https: bool = False) -> None:
    expected: dict[str, str | None] = {**EVERY_RESPONSE, "strict-transport-security": HSTS if https else None}
    assert headers_of(response) == expected, f"{response.request.method} {response.request.url}"
    for name in EVERY_RESPONSE:  # once each, not added twice
        assert len(response.headers.get_list(name)) == 1, name


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


# -- the policy itself --------------------------------------------------------------------------------


def test_the_policy_allows_no_inline_script_or_eval_and_no_framing(client: TestClient[Any]) -> None:
    policy = directives(client.get("/login").headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    # No plain-http source and no wildcard scheme anywhere (Observatory: "insecure scheme").
    sources = [source for values in policy.values() for source in values]
    assert not [s for s in sources if s.startswith("http:") or s in ("*", "https:", "http:", "data:*")]


# -- each kind of response ------------------------------------------------------------------------------


def test_public_pages_and_the_sign_in_page(client: TestClient[Any]) -> None:
    for path in ("/", "/login", "/whats-on"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secured(response)


def test_a_signed_in_page_and_a_pdf(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    page = hub.client.get("/organisations")
    assert page.status_code == 200
    assert_secured(page)
    org_id = hub.make_org("Headers Organisation", kind=OrganisationKind.VCSE)
    values = _make_objects(hub, org_id)
    pdf = hub.client.get(f"/invoices/{values['invoice_id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert_secured(pdf)


def test_api_answers_and_api_problems(hub: Hub) -> None:
    headers = hub.headers_for(Role.ADMIN)
    listed = hub.client.get("/api/v1/organisations", headers=headers)
    assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
    assert_secured(listed)
    invalid = hub.client.post("/api/v1/organisations", json={"name": ""}, headers=headers)
    assert invalid.status_code in (400, 422) and invalid.headers["content-type"] == "application/problem+json"
    assert_secured(invalid)
    missing = hub.client.get("/api/v1/organisations/999999", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert_secured(missing)
    anonymous = hub.client.get("/api/v1/organisations")
    assert anonymous.status_code == 401
    assert_secured(anonymous)


def test_errors_from_the_router_itself(client: TestClient[Any]) -> None:
    # No route at all (the router's 404, before any route's middleware), a page and an API path.
    for path in ("/no-such-page", "/api/v1/no-such-thing", "/static/no-such-file.css"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert_secured(response)
    # A method the route does not take.
    wrong_method = client.put("/login")
    assert wrong_method.status_code == 405
    assert_secured(wrong_method)


def test_static_files_keep_their_caching(client: TestClient[Any]) -> None:
    css = client.get("/static/hub.css")
    assert css.status_code == 200
    assert_secured(css)
    worker = client.get("/static/cafe/till-sw.js")
    assert worker.status_code == 200
    assert_secured(worker)
    # The till's service worker may still control /till (the café sets it; nothing here removes it).
    assert worker.headers["service-worker-allowed"] == "/till"


def test_a_public_feed_keeps_its_own_caching_and_revalidation(client: TestClient[Any]) -> None:
    feed = client.get("/feeds/building.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert_secured(feed)
    assert feed.headers["cache-control"] == "public, max-age=300"
    etag = feed.headers["etag"]
    again = client.get("/feeds/building.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert_secured(again)
    assert again.headers["etag"] == etag


def test_the_openapi_document(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json")
    assert document.status_code == 200 and document.json()["info"]["title"] == "Hubkeeper"
    assert_secured(document)


# -- HTTPS: HSTS only when the request really came over it ------------------------------------------


def test_hsts_over_https_and_never_over_plain_http(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, base_url="https://hub.example") as secure:
        response = secure.get("/login")
        assert_secured(response, https=True)
        assert_secured(secure.get("/no-such-page"), https=True)
        # Cookies are Secure over HTTPS too (they already were).
        assert "secure" in response.headers["set-cookie"].lower()
    with TestClient(app, base_url="http://hub.example") as plain:
        assert_secured(plain.get("/login"))
        # Anyone may send X-Forwarded-Proto; from a caller who is not a trusted proxy it means nothing.
        assert_secured(plain.get("/login", headers={"X-Forwarded-Proto": "https"}))


def test_hsts_behind_a_trusted_tls_proxy(settings: Settings) -> None:
    # The test client's address is "testclient"; here it is the hub's trusted proxy.
    app = create_app(replace(settings, trusted_proxies="10.0.0.0/8, testclient"))
    with TestClient(app, base_url="http://hub.internal") as behind_proxy:
        assert_secured(behind_proxy.get("/login", headers={"X-Forwarded-Proto": "https"}), https=True)
        assert_secured(behind_proxy.get("/login", headers={"X-Forwarded-Proto": "http"}))
        assert_secured(behind_proxy.get("/login"))


# -- a route's own header wins; unexpected errors are covered too ----------------------------------------

LOOSER = "default-src 'self'"


@get("/test-only/own-policy", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def own_policy() -> Response[str]:
    return Response(
        "framed on purpose", headers={"Content-Security-Policy": LOOSER, "X-Frame-Options": "SAMEORIGIN"}
    )


@get("/test-only/crash", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def crash() -> str:
    raise RuntimeError("an unexpected failure")


def test_a_route_may_set_its_own_policy_and_a_500_is_covered(settings: Settings) -> None:
    extra = Module(name="headers-test", routes=[own_policy, crash])
    app = create_app(settings, modules=[*default_modules(), extra])
    with TestClient(app, base_url="http://testserver.local", raise_server_exceptions=False) as client:
        own = client.get("/test-only/own-policy")
        assert own.status_code == 200
        assert own.headers.get_list("content-security-policy") == [LOOSER]
        assert own.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
        assert own.headers["x-content-type-options"] == "nosniff"  # the others are still added
        failed = client.get("/test-only/crash")
        assert failed.status_code == 500
        assert_secured(failed)


# -- every GET route the app serves, whatever it answers -------------------------------------------------


def test_every_get_route_answers_with_the_headers(hub: Hub) -> None:
    org_id = hub.make_org("Walk Organisation", kind=OrganisationKind.VCSE)
    values = _make_objects(hub, org_id)
    hub.login_as(Role.ADMIN)
    missing = []
    seen = 0
    for method, path in _served(hub.client.app):
        # Litestar renders its OpenAPI formats slowly (~1 s each); openapi.json is checked above.
        if method != "GET" or (path.startswith("/schema") and path != "/schema/openapi.json"):
            continue
        response = hub.client.get(_concrete(path, values), follow_redirects=False)
        seen += 1
        got = headers_of(response)
        if got != {**EVERY_RESPONSE, "strict-transport-security": None}:
            wrong = {name: value for name, value in got.items() if value != EVERY_RESPONSE.get(name)}
            missing.append(f"GET {path} ({response.status_code}): {wrong}")
    assert seen > 50
    assert missing == []


# -- the templates stay within the policy -----------------------------------------------------------------


def _templates() -> list[Path]:
    folders = [m.package_dir / "templates" for m in default_modules() if m.package_dir is not None]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*.html"))


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.S)


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("an inline <script> (no src)", re.compile(r"<script\b(?![^>]*\ssrc=)[^>]*>", re.I)),
        ("an on…= event handler attribute", re.compile(r"\son[a-z]+\s*=", re.I)),
        ("a style= attribute", re.compile(r"\sstyle\s*=", re.I)),
        ("a javascript: URL", re.compile(r"=\s*[\"']?\s*javascript:", re.I)),
    ],
)
def test_no_template_has_what_the_policy_blocks(what: str, pattern: re.Pattern[str]) -> None:
    templates = _templates()
    assert len(templates) > 40  # every module's templates folder is searched
    found = []
    for path in templates:
        text = _JINJA_COMMENT.sub("", path.read_text())
        for tag in _TAG.findall(text) if "script" not in what else [text]:
            if pattern.search(tag):
                found.append(f"{path}: {tag.strip()[:100]}")
    assert found == [], f"templates with {what}"


def test_no_web_template_has_a_style_element() -> None:
    # Styles live in the static CSS files. Mail bodies (templates/mail/) are not web pages: mail
    # programs ignore linked style sheets, so their layout keeps a small <style> of its own.
    web = [p for p in _templates() if "/templates/mail/" not in p.as_posix()]
    with_style = [p for p in web if re.search(r"<style\b", _JINJA_COMMENT.sub("", p.read_text()), re.I)]
    assert with_style == []


def test_the_grid_has_a_style_rule_for_every_row_and_lane_it_can_use() -> None:
    # The desk grid places bookings by class (no style=""): a day has at most 24 × 4 = 96 quarter
    # hours, so rows 1..96 (grid height .rows-N, start .r-N) and ends 2..97 (.e-N); bookings that
    # share a time sit in up to 16 lanes (the template caps the count at 16).
    css = (Path(__file__).parents[2] / "hub" / "static" / "hub.css").read_text()
    rules = set(re.findall(r"\.((?:rows|r|e|lanes|lane)-\d+) \{", css))
    expected = (
        {f"rows-{n}" for n in range(1, 97)}
        | {f"r-{n}" for n in range(1, 97)}
        | {f"e-{n}" for n in range(2, 98)}
        | {f"lanes-{n}" for n in range(1, 17)}
        | {f"lane-{n}" for n in range(0, 16)}
    )
    assert expected <= rules
    assert re.search(r"\.r-37 \{ grid-row-start: 37; \}", css) and re.search(
        r"\.e-97 \{ grid-row-end: 97; \}", css
    )
