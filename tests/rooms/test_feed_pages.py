"""The public "What's on" page and "My calendars" through the real app: public faces only, filters,
subscribe links, errors beside the filters, and secret calendar addresses made, rotated and revoked."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from litestar.testing import TestClient

from hub.app import create_app
from hub.config import Settings
from hub.models import Role
from tests.conftest import Hub
from tests.rooms.conftest import Building

API = "/api/v1/bookings"
WEEK = "2026-12-01"  # a Tuesday: the week is Monday 30 November to Sunday 6 December
CLINIC_TITLE = "Respiratory clinic for Mrs Example"


def book(hub: Hub, b: Building, **fields: Any) -> dict[str, Any]:
    payload = {
        "room_id": b.meeting,
        "organisation_id": b.charity,
        "title": "Youth forum",
        "category": "youth",
        "start": "2026-12-01T14:00:00",
        "end": "2026-12-01T16:00:00",
        **fields,
    }
    response = hub.client.post(API, json=payload, headers=b.staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def a_week(hub: Hub, building: Building) -> None:
    """A public youth session, a private clinic and a public class, in three rooms."""
    book(hub, building)
    book(
        hub,
        building,
        room_id=building.consulting,
        organisation_id=building.nhs,
        title=CLINIC_TITLE,
        category="clinic",
        start="2026-12-02T09:30:00",
        end="2026-12-02T12:00:00",
    )
    book(
        hub,
        building,
        room_id=building.hall_a,
        title="Chair yoga (internal name)",
        public_title="Chair yoga",
        category="class",
        start="2026-12-03T10:00:00",
        end="2026-12-03T11:30:00",
    )


def whats_on(hub: Hub, **params: str) -> str:
    response = hub.client.get("/whats-on", params={"week": WEEK, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def listings(html: str) -> str:
    """The page without its subscribe section (whose help text mentions private bookings)."""
    return html.split('<section class="subscribe"', 1)[0]


def day_section(html: str, day: str) -> str:
    match = re.search(rf'<section class="day[^"]*" aria-labelledby="day-{day}">(.*?)</section>', html, re.S)
    assert match, f"no section for {day}"
    return match.group(1)


# --- what's on -------------------------------------------------------------------------------------


def test_whats_on_shows_public_titles_and_only_the_time_and_room_of_a_clinic(
    hub: Hub, building: Building
) -> None:
    a_week(hub, building)
    html = whats_on(hub)
    assert "Monday 30 November to Sunday 6 December 2026" in html
    tuesday = day_section(html, "2026-12-01")
    assert "14:00–16:00" in tuesday and "Youth forum" in tuesday and "Meeting Room" in tuesday
    wednesday = day_section(html, "2026-12-02")
    assert "09:30–12:00" in wednesday and "Private booking" in wednesday and "Consulting Room 1" in wednesday
    assert "Clinic" not in wednesday  # a private booking's category is not shown either
    thursday = day_section(html, "2026-12-03")
    assert "10:00–11:30" in thursday and "Chair yoga" in thursday and "Class" in thursday
    assert "internal name" not in html
    assert CLINIC_TITLE not in html
    assert "Lancashire Coast NHS Trust" not in html
    assert "Coastal Youth Trust" not in html  # organisations are not shown on the public page
    assert "Nothing on." in day_section(html, "2026-12-06")


def test_whats_on_shows_the_public_face_to_signed_in_staff_too(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    hub.login_as(Role.RECEPTIONIST)
    html = whats_on(hub)
    assert "Private booking" in html
    assert CLINIC_TITLE not in html and "Lancashire Coast NHS Trust" not in html


def test_private_bookings_are_left_out_when_the_hub_hides_them(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    app_state = hub.client.app.state
    app_state.settings = replace(app_state.settings, feed_private_bookings="hide")
    html = listings(whats_on(hub))
    assert "Private booking" not in html and "09:30–12:00" not in html
    assert "Youth forum" in html and "Chair yoga" in html


def test_category_filter_shows_only_that_kind_of_activity(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    html = listings(whats_on(hub, category="class"))
    assert "Chair yoga" in html
    assert "Youth forum" not in html and "Private booking" not in html
    assert '<option value="class" selected>' in html
    assert "Showing only <strong>Class</strong>." in html
    assert 'href="webcal://testserver.local/feeds/categories/class.ics">Subscribe to Class in' in html
    assert "Nothing on that matches the filters." in html


def test_room_filter_shows_only_that_room(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    html = listings(whats_on(hub, room_id=str(building.consulting)))
    assert "Private booking" in html
    assert "Youth forum" not in html and "Chair yoga" not in html
    assert f'<option value="{building.consulting}" selected>' in html
    assert "Showing only <strong>in Consulting Room 1</strong>." in html
    assert f'href="webcal://testserver.local/feeds/rooms/{building.consulting}.ics">Subscribe to' in html


def test_room_and_category_together_offer_no_single_feed(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    html = listings(whats_on(hub, room_id=str(building.hall_a), category="class"))
    assert "Chair yoga" in html and "Youth forum" not in html
    assert "Showing only <strong>Class in Hall A</strong>." in html
    assert "Subscribe to" not in html


def test_week_navigation_keeps_the_filters(hub: Hub, building: Building) -> None:
    html = whats_on(hub, category="youth")
    assert 'href="/whats-on?week=2026-11-23&amp;category=youth"' in html
    assert 'href="/whats-on?week=2026-12-07&amp;category=youth"' in html


def test_subscribe_section_has_https_and_webcal_links_for_every_feed(hub: Hub, building: Building) -> None:
    html = whats_on(hub)
    assert 'href="webcal://testserver.local/feeds/building.ics"' in html
    assert 'href="http://testserver.local/feeds/building.ics"' in html
    for room_id in (building.hall_a, building.consulting, building.main_hall):
        assert f'href="webcal://testserver.local/feeds/rooms/{room_id}.ics"' in html
        assert f'href="http://testserver.local/feeds/rooms/{room_id}.ics"' in html
    assert 'href="webcal://testserver.local/feeds/categories/clinic.ics"' in html
    assert 'href="http://testserver.local/feeds/categories/youth.ics"' in html
    for app in ("Outlook", "Google Calendar", "Apple Calendar"):
        assert app in html
    # Each linked feed really exists.
    feeds = ("/feeds/building.ics", f"/feeds/rooms/{building.hall_a}.ics", "/feeds/categories/clinic.ics")
    for path in feeds:
        assert hub.client.get(path).status_code == 200


def test_links_are_https_behind_a_trusted_tls_proxy(settings: Settings, building: Building) -> None:
    # The test client's address is "testclient"; X-Forwarded-Proto counts only from a trusted proxy.
    app = create_app(replace(settings, trusted_proxies="testclient"))
    with TestClient(app, base_url="http://testserver.local") as client:
        html = client.get("/whats-on", headers={"x-forwarded-proto": "https"}).text
    assert 'href="https://testserver.local/feeds/building.ics"' in html
    assert 'href="webcal://testserver.local/feeds/building.ics"' in html


def test_forwarded_proto_from_anyone_else_means_nothing(hub: Hub, building: Building) -> None:
    html = hub.client.get("/whats-on", headers={"x-forwarded-proto": "https"}).text
    assert 'href="http://testserver.local/feeds/building.ics"' in html


def test_whats_on_is_open_to_anonymous_visitors(hub: Hub, building: Building) -> None:
    hub.client.cookies.clear()
    response = hub.client.get("/whats-on", follow_redirects=False)
    assert response.status_code == 200
    assert "<h1>What's on" in response.text or "<h1>What&#39;s on" in response.text
    assert 'aria-labelledby="today-h"' in response.text  # the current week shows today first


def test_bad_week_is_shown_beside_the_filter(hub: Hub, building: Building) -> None:
    response = hub.client.get("/whats-on", params={"week": "2026-13-45"})
    assert response.status_code == 200
    assert 'id="week-error"' in response.text
    assert "Enter a date as YYYY-MM-DD" in response.text
    assert 'aria-invalid="true"' in response.text


def test_unknown_category_and_room_are_shown_beside_their_filters(hub: Hub, building: Building) -> None:
    html = hub.client.get("/whats-on", params={"category": "nope", "room_id": "abc"}).text
    assert 'id="category-error"' in html and "Choose a kind of activity from the list." in html
    assert 'id="room_id-error"' in html and "Choose a room from the list." in html
    assert "Please correct these 2 filters." in html


# --- my calendars -----------------------------------------------------------------------------------


def post(hub: Hub, path: str, *, csrf: bool = True) -> Any:
    data = {"_csrf": hub.csrf("/account/calendars")} if csrf else {}
    return hub.client.post(path, data=data, follow_redirects=False)


def feed_url(hub: Hub, kind: str) -> str | None:
    html = hub.client.get("/account/calendars").text
    match = re.search(rf'id="feed-{kind}-url"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else None


def path_of(url: str) -> str:
    return urlparse(url).path


def test_my_calendars_needs_sign_in(hub: Hub, building: Building) -> None:
    hub.client.cookies.clear()
    response = hub.client.get("/account/calendars", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_tenant_makes_an_organisation_address_that_serves_its_bookings(hub: Hub, building: Building) -> None:
    a_week(hub, building)
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    html = hub.client.get("/account/calendars").text
    assert "Coastal Youth Trust: all its bookings" in html and "Bookings you made" in html
    assert html.count("Make a calendar address") == 2
    response = post(hub, "/account/calendars/organisation/rotate")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/calendars#feed-organisation"
    url = feed_url(hub, "organisation")
    assert url is not None and url.endswith(".ics")
    assert url.startswith("http://testserver.local/feeds/private/")
    assert f'href="{url.replace("http://", "webcal://", 1)}"' in hub.client.get("/account/calendars").text
    feed = hub.client.get(path_of(url))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Youth forum" in feed.text and "Chair yoga (internal name)" in feed.text
    assert "Respiratory" not in feed.text  # another organisation's clinic is not in this feed
    assert feed_url(hub, "user") is None  # the personal address is separate


def test_personal_address_rotates_and_the_old_one_stops_at_once(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    assert post(hub, "/account/calendars/user/rotate").status_code == 303
    first = feed_url(hub, "user")
    assert first is not None
    assert hub.client.get(path_of(first)).status_code == 200
    rotated = post(hub, "/account/calendars/user/rotate")
    assert rotated.status_code == 303
    second = feed_url(hub, "user")
    assert second is not None and second != first
    assert hub.client.get(path_of(first)).status_code == 404
    feed = hub.client.get(path_of(second))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")


def test_rotating_says_the_old_address_stopped(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    post(hub, "/account/calendars/user/rotate")
    response = post(hub, "/account/calendars/user/rotate")
    page = hub.client.get(response.headers["location"].split("#")[0]).text
    assert "New personal calendar address made. The old one has stopped working" in page


def test_revoked_address_answers_404(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    post(hub, "/account/calendars/organisation/rotate")
    url = feed_url(hub, "organisation")
    assert url is not None
    response = post(hub, "/account/calendars/organisation/revoke")
    assert response.status_code == 303
    assert hub.client.get(path_of(url)).status_code == 404
    assert feed_url(hub, "organisation") is None
    again = post(hub, "/account/calendars/organisation/revoke")  # a second click is not an error page
    assert again.status_code == 303
    assert "already off" in hub.client.get("/account/calendars").text


def test_cafe_account_without_an_organisation_has_only_a_personal_address(
    hub: Hub, building: Building
) -> None:
    hub.login_as(Role.CAFE)
    html = hub.client.get("/account/calendars").text
    assert "Bookings you made" in html
    assert 'id="feed-organisation"' not in html
    assert post(hub, "/account/calendars/organisation/rotate").status_code == 404
    assert post(hub, "/account/calendars/user/rotate").status_code == 303
    assert feed_url(hub, "user") is not None


def test_changes_without_the_form_token_are_refused(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    assert post(hub, "/account/calendars/user/rotate", csrf=False).status_code == 403
    assert post(hub, "/account/calendars/user/revoke", csrf=False).status_code == 403
    assert feed_url(hub, "user") is None


def test_unknown_kind_is_not_found(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    assert post(hub, "/account/calendars/building/rotate").status_code == 404
    assert post(hub, "/account/calendars/User/revoke").status_code == 404


def test_my_calendars_lists_the_public_feeds_too(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TRUSTEE)
    html = hub.client.get("/account/calendars").text
    assert 'href="webcal://testserver.local/feeds/building.ics"' in html
    assert f'href="webcal://testserver.local/feeds/rooms/{building.meeting}.ics"' in html
