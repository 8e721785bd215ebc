"""The tenancies pages for the hub's office (issue 13, items 1, 2, 5 and 7): units and agreements
made, changed and ended through the forms by an admin; bad input shown beside its field with
nothing written; receptionists and trustees read without a form to change anything (and are
refused if they post one); tenants and café staff are refused the pages."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.config import Settings
from hub.models import Role
from tenants.models import UnitKind
from tenants.services import agreements, units
from tests.conftest import Hub, base_settings
from tests.tenants.conftest import SYSTEM, hub_settings, make_agreement, make_unit

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Uploaded documents go to this test's own folder, not the working tree's var/data."""
    return replace(base_settings(database_url), data_dir=tmp_path / "data")


def _today(hub: Hub) -> date:
    return hub_settings(hub).today()


def _post(hub: Hub, path: str, data: dict[str, Any], page: str = "/") -> Any:
    """A form posted as the browser would, with the session's CSRF token (from ``page``)."""
    token = hub.csrf(page)
    return hub.client.post(path, data={"_csrf": token, **data}, follow_redirects=False)


def _unit_count(hub: Hub) -> int:
    return len(hub.run(lambda db: units.list_units(db, date(2026, 1, 1))))


def _agreement_count(hub: Hub) -> int:
    return len(hub.run(lambda db: agreements.list_agreements(db, SYSTEM)))


def _agreement_form(
    org_id: int, unit_ids: list[int], start: date, end: date | None, **extra: Any
) -> dict[str, Any]:
    form: dict[str, Any] = {
        "organisation": str(org_id),
        "kind": "licence",
        "units": [str(u) for u in unit_ids],
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else "",
        "notice_months": "",
        "rent": "12,000",
        "service_charge": "1,200.00",
        "frequency": "quarterly",
        "deposit": "1500",
        "included_hours": "4",
        "permitted_use": "Offices for the charity's staff",
    }
    form.update(extra)
    return form


def _error(html: str, field: str) -> str:
    """The message shown beside ``field`` (its ``{field}-error`` paragraph), or ''."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip() if match else ""


# --- units ------------------------------------------------------------------------------------------


def test_admin_adds_a_unit_which_is_listed_as_available(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    response = _post(
        hub,
        "/tenancies/units/new",
        {
            "name": "Office 2.14",
            "kind": "office",
            "floor": "2nd",
            "floor_area": "18.5",
            "features": "window, sink",
        },
    )
    assert response.status_code == 303, response.text
    page = hub.client.get(response.headers["location"]).text
    assert "Office 2.14 was added." in page
    assert "18.5 m²" in page and "window, sink" in page
    listing = hub.client.get("/tenancies/units").text
    assert "Office 2.14" in listing
    assert ">Available<" in listing


def test_unit_form_shows_each_error_beside_its_field_and_writes_nothing(hub: Hub) -> None:
    hub.login_as(Role.ADMIN)
    response = _post(
        hub,
        "/tenancies/units/new",
        {"name": "", "kind": "cupboard", "floor_area": "lots"},
        "/tenancies/units/new",
    )
    assert response.status_code == 422
    html = response.text
    assert _error(html, "name") and _error(html, "kind") and _error(html, "floor_area")
    assert 'id="error-summary"' in html
    assert _unit_count(hub) == 0


def test_unit_with_a_name_already_used_is_refused_beside_the_name(hub: Hub) -> None:
    make_unit(hub, "Office 1")
    hub.login_as(Role.ADMIN)
    response = _post(hub, "/tenancies/units/new", {"name": "Office 1", "kind": "desk", "floor_area": "4"})
    assert response.status_code == 409
    assert "already exists" in _error(response.text, "name")
    assert 'value="Office 1"' in response.text  # what was typed is kept
    assert _unit_count(hub) == 1


def test_unit_taken_out_of_use_shows_so_and_the_change_is_in_its_history(hub: Hub) -> None:
    unit_id = make_unit(hub, "Store B", area_m2="6")
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/units/{unit_id}"
    response = _post(
        hub, path, {"name": "Store B", "kind": "storage", "floor_area": "6", "out_of_use": "yes"}
    )
    assert response.status_code == 303, response.text
    page = hub.client.get(path).text
    assert "Out of use" in page
    assert "Change history" in page and "Changed unit Store B" in page
    # Back in use: no longer out of use.
    _post(hub, path, {"name": "Store B", "kind": "storage", "floor_area": "6"})
    assert ">Available<" in hub.client.get("/tenancies/units").text


def test_bad_area_on_edit_is_refused_and_nothing_changes(hub: Hub) -> None:
    unit_id = make_unit(hub, "Desk 3", area_m2="3")
    hub.login_as(Role.ADMIN)
    response = _post(
        hub, f"/tenancies/units/{unit_id}", {"name": "Desk 3", "kind": "desk", "floor_area": "-2"}
    )
    assert response.status_code == 422
    assert _error(response.text, "floor_area")
    unit = hub.run(lambda db: units.get_unit(db, unit_id))
    assert str(unit.area_m2) == "3.00"


# --- agreements ----------------------------------------------------------------------------------------


def test_admin_creates_activates_and_ends_an_agreement(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    office = make_unit(hub, "Office 1", area_m2="18.50")
    store = make_unit(hub, "Store A", area_m2="5", kind=UnitKind.STORAGE)
    hub.login_as(Role.ADMIN)
    today = _today(hub)
    start = today.replace(day=1)
    end = date(start.year + 2, start.month, 1) - timedelta(days=1)

    created = _post(hub, "/tenancies/agreements/new", _agreement_form(org, [office, store], start, end))
    assert created.status_code == 303, created.text
    path = created.headers["location"]
    page = hub.client.get(path).text
    assert "saved as a draft" in page
    assert "Fleetwood Food Bank" in page and "Office 1" in page and "Store A" in page
    assert "£12,000.00" in page and "£1,200.00" in page and "£1,500.00" in page
    assert "4 hours a month" in page
    assert ">Draft<" in page

    activated = _post(hub, f"{path}/activate", {}, path)
    assert activated.status_code == 303, activated.text
    assert ">Active<" in hub.client.get(path).text
    listing = hub.client.get("/tenancies/units").text
    assert listing.count(">Let<") == 2 and "Fleetwood Food Bank" in listing

    ended_on = today
    ended = _post(
        hub, f"{path}/end", {"ended_on": ended_on.isoformat(), "end_reason": "Moved to bigger premises"}
    )
    assert ended.status_code == 303, ended.text
    page = hub.client.get(path).text
    assert ">Ended<" in page and "Moved to bigger premises" in page
    assert "Change history" in page and "Activated" in page
    # Ended: nothing left to change on the page, and the list of current agreements omits it.
    assert f'action="{path}/end"' not in page
    assert "Fleetwood Food Bank" not in hub.client.get("/tenancies").text
    assert "Fleetwood Food Bank" in hub.client.get("/tenancies?status=ended").text


def test_ending_an_agreement_twice_is_refused_beside_the_date(hub: Hub) -> None:
    org = hub.make_org("Wyre Carers")
    unit = make_unit(hub, "Office 4")
    today = _today(hub)
    agreement_id = make_agreement(hub, org, [unit], today - timedelta(days=30), today + timedelta(days=300))
    settings = hub_settings(hub)
    hub.run(lambda db: agreements.end_agreement(db, settings, SYSTEM, agreement_id, today, "Closed"))
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    again = _post(hub, f"{path}/end", {"ended_on": today.isoformat(), "end_reason": "Again"}, path)
    assert again.status_code == 409
    assert "already ended" in again.text
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert agreement.end_reason == "Closed"


def test_end_needs_a_date_and_a_reason(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust")
    unit = make_unit(hub, "Office 5")
    today = _today(hub)
    agreement_id = make_agreement(hub, org, [unit], today - timedelta(days=30), today + timedelta(days=300))
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    response = _post(hub, f"{path}/end", {"ended_on": "31/12/2026", "end_reason": ""}, path)
    assert response.status_code == 422
    assert _error(response.text, "ended_on") and _error(response.text, "end_reason")
    assert "open" in response.text.split('id="end"')[1][:20]  # the panel stays open
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert agreement.status == "active"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2026-01-01", "start_date": "2026-06-01"}, "end_date"),  # end before start
        ({"rent": "-100"}, "rent"),  # rent below zero
        ({"rent_free_start": "2025-01-01", "rent_free_end": "2026-07-31"}, "rent_free_start"),  # outside
        ({"units": []}, "units"),
        ({"organisation": ""}, "organisation"),
        ({"discount_percent": "20", "discount_reason": ""}, "discount_reason"),
        ({"discount_percent": "120", "discount_reason": "Charity"}, "discount_percent"),
        ({"end_date": "", "notice_months": ""}, "notice_months"),  # rolling needs a notice period
    ],
)
def test_bad_agreement_input_is_shown_beside_its_field_and_nothing_written(
    hub: Hub, change: dict[str, Any], field: str
) -> None:
    org = hub.make_org("Harbour Art Group")
    unit = make_unit(hub, "Office 6")
    hub.login_as(Role.ADMIN)
    form = {**_agreement_form(org, [unit], date(2026, 6, 1), date(2028, 5, 31)), **change}
    response = _post(hub, "/tenancies/agreements/new", form)
    assert 400 <= response.status_code < 500, response.status_code
    assert _error(response.text, field), f"no error beside {field}"
    assert _agreement_count(hub) == 0


def test_a_unit_already_let_for_those_dates_is_refused(hub: Hub) -> None:
    first = hub.make_org("Fleetwood Food Bank")
    second = hub.make_org("Wyre Credit Union")
    unit = make_unit(hub, "Office 7")
    make_agreement(hub, first, [unit], date(2026, 4, 1), date(2028, 3, 31))
    hub.login_as(Role.ADMIN)
    response = _post(
        hub,
        "/tenancies/agreements/new",
        _agreement_form(second, [unit], date(2027, 1, 1), date(2027, 12, 31)),
    )
    assert response.status_code == 409
    assert "already let" in _error(response.text, "units")
    assert _agreement_count(hub) == 1


def test_editing_the_terms_keeps_the_tenant_and_records_the_change(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 8")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31), activate=False)
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    form = _agreement_form(
        org, [unit], date(2026, 4, 1), date(2028, 3, 31), rent="13,500", frequency="monthly"
    )
    form.pop("organisation")
    saved = _post(hub, path, form)
    assert saved.status_code == 303, saved.text
    page = hub.client.get(path).text
    assert "£13,500.00" in page and "Monthly on the 1st" in page
    assert "Changed AGR-" in page
    # A bad edit: the edit panel opens with the error, nothing saved.
    bad = _post(hub, path, {**form, "end_date": "2025-01-01"})
    assert bad.status_code == 422
    assert _error(bad.text, "end_date")
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert agreement.end_date == date(2028, 3, 31)


def test_break_dates_show_the_last_day_to_give_notice(hub: Hub) -> None:
    org = hub.make_org("Mind in Wyre")
    unit = make_unit(hub, "Office 9")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2029, 3, 31))
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    added = _post(hub, f"{path}/breaks", {"break_date": "2027-09-30", "notice_days": "90"}, path)
    assert added.status_code == 303, added.text
    page = hub.client.get(path).text
    assert "30 Sep 2027" in page and "2 Jul 2027" in page  # 30 Sep 2027 − 90 days
    after_end = _post(hub, f"{path}/breaks", {"break_date": "2030-01-01", "notice_days": "90"}, path)
    assert after_end.status_code == 422
    assert "after the end" in _error(after_end.text, "break_date")
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert len(agreement.breaks) == 1


def test_rent_review_with_a_fixed_uplift_shows_the_new_rent(hub: Hub) -> None:
    org = hub.make_org("Wyre Carers")
    unit = make_unit(hub, "Office 10")
    agreement_id = make_agreement(
        hub, org, [unit], date(2026, 4, 1), date(2029, 3, 31), rent_pence_per_year=1_000_000
    )
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    neither = _post(hub, f"{path}/reviews", {"review_date": "2027-04-01"}, path)
    assert neither.status_code == 422 and _error(neither.text, "uplift_percent")
    added = _post(hub, f"{path}/reviews", {"review_date": "2027-04-01", "uplift_percent": "3"}, path)
    assert added.status_code == 303, added.text
    page = hub.client.get(path).text
    assert "Fixed uplift of 3%" in page and "£10,300.00" in page


def test_notice_then_renewal_makes_a_linked_draft(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust")
    unit = make_unit(hub, "Office 11")
    today = _today(hub)
    agreement_id = make_agreement(hub, org, [unit], today - timedelta(days=60), today + timedelta(days=200))
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    no_reason = _post(hub, f"{path}/notice", {"notice_given_on": today.isoformat()}, path)
    assert no_reason.status_code == 422 and _error(no_reason.text, "notice_reason")
    notice = _post(
        hub, f"{path}/notice", {"notice_given_on": today.isoformat(), "notice_reason": "Tenant wrote"}
    )
    assert notice.status_code == 303, notice.text
    assert ">Notice given<" in hub.client.get(path).text
    renewed = _post(
        hub, f"{path}/renew", {"renew_end_date": "", "renew_rent": "", "renew_notice_months": "1"}
    )
    assert renewed.status_code == 303, renewed.text
    new_page = hub.client.get(renewed.headers["location"]).text
    assert ">Draft<" in new_page and "Renews" in new_page
    assert f'href="{path}"' in new_page
    old_page = hub.client.get(path).text
    assert "Renewed by" in old_page


def test_signed_document_upload_download_and_refusals(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 12")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    token = hub.csrf(path)
    not_pdf = hub.client.post(
        f"{path}/document",
        data={"_csrf": token},
        files={"document": ("lease.docx", b"PK\x03\x04 not a pdf", "application/octet-stream")},
        follow_redirects=False,
    )
    assert not_pdf.status_code == 422
    assert "PDF" in _error(not_pdf.text, "document")
    uploaded = hub.client.post(
        f"{path}/document",
        data={"_csrf": token},
        files={"document": ("signed lease.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = hub.client.get(path).text
    assert f'href="{path}/document"' in page and "signed lease.pdf" in page
    download = hub.client.get(f"{path}/document")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    # A trustee reads the agreement but is not served the document itself.
    hub.login_as(Role.TRUSTEE)
    page = hub.client.get(path).text
    assert "signed lease.pdf" in page and f'href="{path}/document"' not in page
    assert hub.client.get(f"{path}/document").status_code == 403


def test_a_document_over_the_limit_is_refused(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 13")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    hub.client.app.state.settings = replace(hub_settings(hub), agreement_document_max_bytes=50)
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    response = hub.client.post(
        f"{path}/document",
        data={"_csrf": hub.csrf(path)},
        files={"document": ("big.pdf", PDF + b"x" * 100, "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert "larger than" in _error(response.text, "document")
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert agreement.document_stored_name is None


def test_deposit_received_then_part_kept_with_a_reason(hub: Hub) -> None:
    pytest.importorskip("tenants.services.deposits")
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 20")
    agreement_id = make_agreement(
        hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31), deposit_pence=150_000
    )
    hub.login_as(Role.ADMIN)
    path = f"/tenancies/agreements/{agreement_id}"
    received = _post(
        hub,
        f"{path}/deposit",
        {"deposit_action": "received", "deposit_on": "2026-04-01", "deposit_method": "bank"},
    )
    assert received.status_code == 303, received.text
    no_reason = _post(
        hub,
        f"{path}/deposit",
        {"deposit_action": "kept", "deposit_on": "2026-11-01", "deposit_amount": "200"},
    )
    assert no_reason.status_code == 422 and _error(no_reason.text, "deposit_note")
    kept = _post(
        hub,
        f"{path}/deposit",
        {
            "deposit_action": "kept",
            "deposit_on": "2026-11-01",
            "deposit_amount": "200",
            "deposit_note": "Repainting",
        },
    )
    assert kept.status_code == 303, kept.text
    page = hub.client.get(path).text
    assert "1 Apr 2026" in page and "£200.00 on 1 Nov 2026" in page and "Repainting" in page
    too_much = _post(
        hub,
        f"{path}/deposit",
        {"deposit_action": "kept", "deposit_on": "2026-11-02", "deposit_amount": "5000", "deposit_note": "x"},
    )
    assert too_much.status_code in (409, 422)
    agreement = hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id))
    assert agreement.deposit_kept_pence == 20_000


def test_charges_from_the_billing_run_are_listed_on_the_agreement(hub: Hub) -> None:
    from hub.billing.services import charges as money_charges
    from tenants.services import billing

    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 21")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    settings = hub_settings(hub)
    hub.run(
        lambda db: billing.post_periodic_charges(db, settings, SYSTEM, date(2026, 6, 1), date(2026, 6, 30))
    )
    posted = hub.run(lambda db: money_charges.charges_for_source(db, SYSTEM, "agreement", str(agreement_id)))
    assert posted, "the June run charges the quarter from 24 June"
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/tenancies/agreements/{agreement_id}").text
    section = page.split('id="charges"')[1].split("</section>")[0]
    for charge in posted:
        assert charge.description in section
        assert f"£{charge.gross_pence // 100:,}.{charge.gross_pence % 100:02d}" in section
    assert "Not yet invoiced" in section


# --- the list and the alerts ----------------------------------------------------------------------------


def test_list_filters_by_status_and_says_so_for_nonsense(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    other = hub.make_org("Wyre Credit Union")
    one, two = make_unit(hub, "Office 14"), make_unit(hub, "Office 15")
    make_agreement(hub, org, [one], date(2026, 4, 1), date(2028, 3, 31))
    make_agreement(hub, other, [two], date(2026, 4, 1), date(2028, 3, 31), activate=False)
    hub.login_as(Role.RECEPTIONIST)
    drafts = hub.client.get("/tenancies?status=draft").text
    assert "Wyre Credit Union" in drafts and "Fleetwood Food Bank" not in drafts
    everything = hub.client.get("/tenancies").text
    assert "Wyre Credit Union" in everything and "Fleetwood Food Bank" in everything
    nonsense = hub.client.get("/tenancies?status=gone")
    assert nonsense.status_code == 200 and _error(nonsense.text, "status")


def test_list_shows_each_agreements_next_key_date(hub: Hub) -> None:
    org = hub.make_org("Mind in Wyre")
    today = _today(hub)
    agreement_id = make_agreement(
        hub,
        org,
        [make_unit(hub, "Office 22")],
        today - timedelta(days=100),
        today + timedelta(days=700),
        insurance_expires_on=today + timedelta(days=200),
    )
    settings = hub_settings(hub)
    from tenants.schemas import BreakIn

    brk = BreakIn(break_date=today + timedelta(days=365), notice_days=180)
    hub.run(lambda db: agreements.add_break(db, settings, SYSTEM, agreement_id, brk))
    hub.login_as(Role.TRUSTEE)
    row = (
        hub.client.get("/tenancies").text.split(f"/tenancies/agreements/{agreement_id}")[1].split("</tr>")[0]
    )
    # The last day to give notice for the break (in 185 days) comes before the insurance (200).
    notice_by = today + timedelta(days=185)
    assert f"{notice_by.day} {notice_by:%b %Y}" in row and "last day to give notice" in row


def test_alerts_list_soonest_first_with_links_and_the_last_day_for_notice(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    other = hub.make_org("Wyre Credit Union")
    today = _today(hub)
    ending = make_agreement(
        hub, org, [make_unit(hub, "Office 16")], today - timedelta(days=300), today + timedelta(days=40)
    )
    with_break = make_agreement(
        hub, other, [make_unit(hub, "Office 17")], today - timedelta(days=300), today + timedelta(days=900)
    )
    settings = hub_settings(hub)
    from tenants.schemas import BreakIn

    brk = BreakIn(break_date=today + timedelta(days=100), notice_days=90)
    hub.run(lambda db: agreements.add_break(db, settings, SYSTEM, with_break, brk))
    hub.login_as(Role.TRUSTEE)
    page = hub.client.get("/tenancies/alerts").text
    assert f'href="/tenancies/agreements/{ending}"' in page
    assert f'href="/tenancies/agreements/{with_break}"' in page
    notice_by = today + timedelta(days=10)
    assert f"{notice_by.day} {notice_by:%b %Y}" in page
    # Soonest first: the break's last notice day (10 days) comes before the end (40 days).
    assert page.index(f"/tenancies/agreements/{with_break}") < page.index(f"/tenancies/agreements/{ending}")


# --- who may do what -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.TRUSTEE])
def test_receptionist_and_trustee_read_without_forms_and_cannot_post(hub: Hub, role: Role) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 18")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    hub.login_as(role)
    path = f"/tenancies/agreements/{agreement_id}"
    for page in ("/tenancies", path, "/tenancies/units", f"/tenancies/units/{unit}", "/tenancies/alerts"):
        response = hub.client.get(page)
        assert response.status_code == 200, page
        assert 'method="post" action="/tenancies' not in response.text, page
        assert "New agreement" not in response.text and "Add a unit" not in response.text
    assert hub.client.get("/tenancies/agreements/new").status_code == 403
    assert hub.client.get("/tenancies/units/new").status_code == 403
    token = hub.csrf("/tenancies")
    refused = hub.client.post(
        f"{path}/end",
        data={"_csrf": token, "ended_on": "2026-12-31", "end_reason": "x"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    refused = hub.client.post(
        "/tenancies/units/new",
        data={"_csrf": token, "name": "Sneaky", "kind": "desk", "floor_area": "2"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert hub.run(lambda db: agreements.get_agreement(db, SYSTEM, agreement_id)).status == "active"
    assert _unit_count(hub) == 1
    nav = hub.client.get("/").text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/tenancies"' in nav


@pytest.mark.parametrize("role", [Role.TENANT, Role.CAFE, Role.CAFE_SUPERVISOR])
def test_tenant_and_cafe_roles_are_refused_the_pages(hub: Hub, role: Role) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    unit = make_unit(hub, "Office 19")
    agreement_id = make_agreement(hub, org, [unit], date(2026, 4, 1), date(2028, 3, 31))
    hub.login_as(role, organisation_id=org if role == Role.TENANT else None)
    for page in (
        "/tenancies",
        f"/tenancies/agreements/{agreement_id}",
        "/tenancies/units",
        "/tenancies/alerts",
    ):
        assert hub.client.get(page).status_code == 403, page
    assert hub.client.get(f"/tenancies/agreements/{agreement_id}/document").status_code == 403
    nav = hub.client.get("/").text
    assert 'href="/tenancies"' not in nav


def test_anonymous_is_sent_to_sign_in(hub: Hub) -> None:
    response = hub.client.get("/tenancies/units", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")
