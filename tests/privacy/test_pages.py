"""/admin/privacy: an admin finds a person by email, sees what is held, downloads it or erases them."""

from __future__ import annotations

import html
import json
import re

from hub.models import Role
from tests.conftest import Hub
from tests.privacy.conftest import EMAIL, ORG_NAME, TYPED_EMAIL, Scenario

PAGE = "/admin/privacy"


def rows(page: str, table_id: str) -> dict[str, str]:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return {html.unescape(kind): count for kind, count in cells}


def test_data_protection_is_in_admins_menu_only(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    assert 'href="/admin/privacy"' in hub.client.get("/").text
    hub.login_as(Role.RECEPTIONIST)
    assert 'href="/admin/privacy"' not in hub.client.get("/").text
    assert hub.client.get(PAGE).status_code == 403


def test_admin_finds_what_is_held_downloads_it_and_erases(hub: Hub, scenario: Scenario) -> None:
    hub.login_as(Role.ADMIN)
    token = hub.csrf(PAGE)
    found = hub.client.post(PAGE, data={"_csrf": token, "email": TYPED_EMAIL})
    assert found.status_code == 200, found.text
    held = rows(found.text, "held")
    assert held["User account"] == "1"
    assert held["Contact on organisations"] == "1"
    assert held["Billing email of organisations"] == "1"
    assert held["Rooms: bookings"] == "1"
    assert held["Issued invoices naming them (kept)"] == "1"

    download = hub.client.post(f"{PAGE}/export", data={"_csrf": token, "email": EMAIL})
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="personal-data-')
    assert json.loads(download.content)["contacts"][0]["organisation"] == ORG_NAME

    no_reason = hub.client.post(
        f"{PAGE}/erase", data={"_csrf": token, "email": EMAIL, "reason": "", "confirm": EMAIL}
    )
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    assert rows(no_reason.text, "held")["User account"] == "1"  # nothing changed

    erased = hub.client.post(
        f"{PAGE}/erase",
        data={
            "_csrf": token,
            "email": EMAIL,
            "reason": "Asked in person at reception",
            "confirm": TYPED_EMAIL,
        },
    )
    assert erased.status_code == 200, erased.text
    assert re.search(r"They are now <strong>Erased person [0-9a-f]{10}</strong>", erased.text)
    changed = rows(erased.text, "changed")
    assert changed["User account (pseudonymised and closed)"] == "1"
    assert changed["Contact on organisations"] == "1"
    assert changed["Rooms: bookings"] == "1"
    kept = erased.text.split('id="kept"', 1)[1]
    assert scenario.invoice_number in kept
    assert "six years" in kept

    again = hub.client.post(PAGE, data={"_csrf": token, "email": EMAIL})
    assert again.status_code == 404
    assert 'id="email-error"' in again.text
