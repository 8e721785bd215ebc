"""The organisation pages: search, add with errors shown beside fields, edit, archive."""

from __future__ import annotations

from hub.models import Role
from tests.conftest import Hub


def test_add_organisation_through_the_form(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    token = hub.csrf("/organisations/new")
    response = hub.client.post(
        "/organisations/new",
        data={
            "_csrf": token,
            "name": "Harbour Art Group",
            "kind": "community_group",
            "postcode": "fy7 6jn",
            "contacts-0-name": "Alan Pike",
            "contacts-0-email": "alan@art.org",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    detail = hub.client.get(response.headers["location"])
    assert "Harbour Art Group was added." in detail.text
    assert "FY7 6JN" in detail.text
    assert "Alan Pike" in detail.text


def test_form_errors_are_shown_beside_the_fields_and_input_kept(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    token = hub.csrf("/organisations/new")
    response = hub.client.post(
        "/organisations/new",
        data={
            "_csrf": token,
            "name": "Harbour Art Group",
            "kind": "community_group",
            "postcode": "nowhere",
            "contacts-0-email": "alan@art.org",
        },
    )
    assert response.status_code == 400
    html = response.text
    assert 'id="postcode-error"' in html
    assert 'id="error-summary"' in html
    assert 'value="Harbour Art Group"' in html  # what was typed is kept


def test_duplicate_name_shown_on_name_field(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    hub.make_org("Harbour Art Group")
    token = hub.csrf("/organisations/new")
    response = hub.client.post(
        "/organisations/new", data={"_csrf": token, "name": "harbour art group", "kind": "community_group"}
    )
    assert response.status_code == 409
    assert 'id="name-error"' in response.text
    assert "an organisation with this name already exists" in response.text


def test_search_page(hub: Hub) -> None:
    hub.login_as(Role.TRUSTEE)
    hub.make_org("Fleetwood Food Bank")
    hub.make_org("Harbour Art Group")
    page = hub.client.get("/organisations", params={"q": "food"})
    assert "1 organisation found." in page.text
    assert "Fleetwood Food Bank" in page.text and "Harbour Art Group" not in page.text
    assert "Add an organisation" not in page.text  # trustees read only


def test_edit_and_archive_through_pages(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    org_id = hub.make_org("Wyre Carers", town="Fleetwood")
    token = hub.csrf(f"/organisations/{org_id}")
    saved = hub.client.post(
        f"/organisations/{org_id}",
        data={"_csrf": token, "name": "Wyre Carers Network", "kind": "vcse", "town": "Poulton"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = hub.client.get(f"/organisations/{org_id}").text
    assert "Wyre Carers Network" in page and "Poulton" in page
    assert "Change history" in page
    no_reason = hub.client.post(f"/organisations/{org_id}/archive", data={"_csrf": token, "reason": ""})
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    archived = hub.client.post(
        f"/organisations/{org_id}/archive", data={"_csrf": token, "reason": "Merged"}, follow_redirects=False
    )
    assert archived.status_code == 303
    assert "Archived" in hub.client.get(f"/organisations/{org_id}").text


def test_tenant_page_access(hub: Hub) -> None:
    mine = hub.make_org("Coastal Youth Trust")
    other = hub.make_org("Someone Else")
    hub.login_as(Role.TENANT, organisation_id=mine)
    assert hub.client.get(f"/organisations/{mine}").status_code == 200
    assert "Edit details" not in hub.client.get(f"/organisations/{mine}").text
    assert hub.client.get(f"/organisations/{other}").status_code == 404
    assert hub.client.get("/organisations").status_code == 403
    home = hub.client.get("/").text
    assert "Coastal Youth Trust" in home


def test_navigation_shows_each_role_its_own_areas(hub: Hub) -> None:
    expectations = {
        Role.ADMIN: {"Organisations", "Accounts", "Audit log"},
        Role.RECEPTIONIST: {"Organisations"},
        Role.TRUSTEE: {"Organisations"},
        Role.TENANT: set(),
        Role.CAFE: set(),
    }
    all_items = {"Organisations", "Accounts", "Audit log"}
    for role, visible in expectations.items():
        hub.login_as(role)
        nav = hub.client.get("/").text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
        for item in all_items:
            assert (f">{item}<" in nav) == (item in visible), (role, item)


def test_every_bad_field_is_reported_at_once_beside_its_input(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    token = hub.csrf("/organisations/new")
    response = hub.client.post(
        "/organisations/new",
        data={
            "_csrf": token,
            "name": "Men's Shed",
            "kind": "community_group",
            "postcode": "nowhere",
            "billing_email": "shed@",
            "contacts-2-name": "Bill",
            "contacts-2-phone": "call me",
        },
    )
    assert response.status_code == 400
    html = response.text
    assert "Please correct these 3 fields." in html
    assert 'id="postcode-error"' in html
    assert 'id="billing_email-error"' in html
    assert 'id="contacts-2-phone-error"' in html  # the third row, where it was typed
