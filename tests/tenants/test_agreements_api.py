"""Agreements through the API: drafting, the bad input the issue lists, the state machine,
renewals, breaks and reviews, the signed PDF, audit entries and tenant isolation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.models import AuditEntry, Role
from tenants.models import Agreement, AgreementBreak, RentReview, UnitKind
from tests.conftest import Hub, base_settings
from tests.rooms.conftest import live_url  # noqa: F401 - the app under a real server
from tests.tenants.conftest import Tenancy, make_agreement, make_unit

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LIMIT = 2_000


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return replace(
        base_settings(database_url), data_dir=tmp_path / "data", agreement_document_max_bytes=LIMIT
    )


def _counts(hub: Hub) -> tuple[int, int, int, int]:
    async def work(db: Any) -> tuple[int, int, int, int]:
        return (
            await db.scalar(select(func.count()).select_from(Agreement)),
            await db.scalar(select(func.count()).select_from(AgreementBreak)),
            await db.scalar(select(func.count()).select_from(RentReview)),
            await db.scalar(select(func.count()).select_from(AuditEntry)),
        )

    return hub.run(work)


def _actions(hub: Hub, agreement_id: int) -> list[str]:
    query = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "tenant_agreement", AuditEntry.object_id == str(agreement_id))
        .order_by(AuditEntry.id)
    )
    return list(hub.run(lambda db: db.scalars(query)))


def _body(org: int, units: list[int], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_id": org,
        "kind": "lease",
        "unit_ids": units,
        "start_date": "2026-04-01",
        "end_date": "2029-03-31",
        "rent_pence_per_year": 960_000,
        "service_charge_pence_per_year": 120_000,
        "frequency": "quarterly",
        "permitted_use": "Offices for a food bank",
    }
    body.update(changes)
    return body


def test_admin_drafts_an_agreement_with_breaks_and_reviews(hub: Hub) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    office, store = make_unit(hub, "Office 1"), make_unit(hub, "Store 1", kind=UnitKind.STORAGE)
    body = _body(
        org,
        [office, store],
        rent_free_start="2026-04-01",
        rent_free_end="2026-06-30",
        discount_bp=2_000,
        discount_reason="Registered charity",
        deposit_pence=240_000,
        included_minutes_per_month=600,
        insurance_expires_on="2027-01-31",
        breaks=[{"break_date": "2027-09-30", "notice_days": 90}],
        reviews=[
            {"review_date": "2027-04-01", "uplift_bp": 350},
            {"review_date": "2028-04-01", "index_name": "CPI"},
        ],
    )
    response = hub.client.post("/api/v1/agreements", json=body, headers=hub.headers_for(Role.ADMIN))
    assert response.status_code == 201, response.text
    agreement = response.json()
    assert agreement["reference"] == f"AGR-{agreement['id']:04d}"
    assert agreement["status"] == "draft"
    assert agreement["organisation_name"] == "Fleetwood Food Bank"
    assert [u["name"] for u in agreement["units"]] == ["Office 1", "Store 1"]
    assert agreement["vat_rate_bp"] == 0  # exempt: the hub has not opted to tax
    # Break on 30 Sep 2027 with 90 days' notice: the last day to give notice is 2 Jul 2027.
    assert agreement["breaks"] == [
        {
            "id": agreement["breaks"][0]["id"],
            "break_date": "2027-09-30",
            "notice_days": 90,
            "last_notice_day": "2027-07-02",
        }
    ]
    # A fixed uplift of 3.5 % on £9,600 a year: £9,936; the index review waits for a hand.
    assert [(r["review_date"], r["new_rent_pence_per_year"]) for r in agreement["reviews"]] == [
        ("2027-04-01", 993_600),
        ("2028-04-01", None),
    ]
    assert _actions(hub, agreement["id"]) == ["agreement.created"]


BAD_INPUT = [
    ("end before start", {"end_date": "2026-03-31"}, "end_date", 422),
    ("rent below zero", {"rent_pence_per_year": -1}, "rent_pence_per_year", 422),
    (
        "service charge below zero",
        {"service_charge_pence_per_year": -5},
        "service_charge_pence_per_year",
        422,
    ),
    (
        "rent-free before the start",
        {"rent_free_start": "2026-03-01", "rent_free_end": "2026-05-31"},
        "rent_free_start",
        422,
    ),
    (
        "rent-free after the end",
        {"rent_free_start": "2029-01-01", "rent_free_end": "2029-04-30"},
        "rent_free_end",
        422,
    ),
    ("rent-free half given", {"rent_free_start": "2026-04-01"}, "rent_free_end", 422),
    (
        "break after the end",
        {"breaks": [{"break_date": "2029-04-01", "notice_days": 30}]},
        "breaks[0].break_date",
        422,
    ),
    ("review with no basis", {"reviews": [{"review_date": "2027-04-01"}]}, "reviews[0].uplift_bp", 422),
    ("discount with no reason", {"discount_bp": 1_000}, "discount_reason", 422),
    ("discount over 100%", {"discount_bp": 10_001, "discount_reason": "x"}, "discount_bp", 400),
    ("rolling with no notice", {"end_date": None}, "notice_months", 422),
    ("no such unit", {"unit_ids": [424242]}, "unit_ids", 422),
    ("no such organisation", {"organisation_id": 424242}, "organisation_id", 422),
]


@pytest.mark.parametrize(
    ("changes", "field", "status"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
def test_bad_agreement_is_refused_naming_the_field_and_nothing_is_written(
    hub: Hub, changes: dict[str, Any], field: str, status: int
) -> None:
    org = hub.make_org("Fleetwood Food Bank")
    office = make_unit(hub, "Office 1")
    admin = hub.headers_for(Role.ADMIN)
    before = _counts(hub)
    response = hub.client.post("/api/v1/agreements", json=_body(org, [office], **changes), headers=admin)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _counts(hub) == before


def test_overlapping_agreements_for_one_unit_are_refused_but_back_to_back_ones_are_not(hub: Hub) -> None:
    org, other = hub.make_org("Fleetwood Food Bank"), hub.make_org("Wyre Credit Union")
    office, desk = make_unit(hub, "Office 1"), make_unit(hub, "Desk 1", kind=UnitKind.DESK)
    make_agreement(hub, org, [office], date(2026, 4, 1), date(2027, 3, 31))
    admin = hub.headers_for(Role.ADMIN)
    before = _counts(hub)
    # Its last day (31 Mar 2027) is the new one's first: one day of overlap is an overlap.
    clash = hub.client.post(
        "/api/v1/agreements",
        json=_body(other, [desk, office], start_date="2027-03-31", end_date="2028-03-31"),
        headers=admin,
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["errors"][0]["field"] == "unit_ids"
    # A rolling agreement with no end overlaps everything after its start.
    rolling = hub.client.post(
        "/api/v1/agreements",
        json=_body(other, [office], start_date="2025-01-01", end_date=None, notice_months=3),
        headers=admin,
    )
    assert rolling.status_code == 409, rolling.text
    assert _counts(hub) == before
    after = hub.client.post(
        "/api/v1/agreements",
        json=_body(other, [office], start_date="2027-04-01", end_date="2028-03-31"),
        headers=admin,
    )
    assert after.status_code == 201, after.text


def test_two_drafts_may_overlap_but_only_one_can_be_activated(hub: Hub) -> None:
    org, other = hub.make_org("Fleetwood Food Bank"), hub.make_org("Wyre Credit Union")
    office = make_unit(hub, "Office 1")
    first = make_agreement(hub, org, [office], date(2026, 4, 1), date(2027, 3, 31), activate=False)
    second = make_agreement(hub, other, [office], date(2026, 6, 1), date(2027, 5, 31), activate=False)
    admin = hub.headers_for(Role.ADMIN)
    assert hub.client.post(f"/api/v1/agreements/{first}/activate", headers=admin).status_code == 200
    refused = hub.client.post(f"/api/v1/agreements/{second}/activate", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "unit_ids"
    assert hub.run(lambda db: db.get(Agreement, second)).status == "draft"


def test_the_state_machine_draft_active_notice_ended_and_ending_twice_is_refused(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust")
    office = make_unit(hub, "Office 1")
    agreement_id = make_agreement(hub, org, [office], date(2026, 4, 1), None, activate=False, notice_months=3)
    admin = hub.headers_for(Role.ADMIN)
    base = f"/api/v1/agreements/{agreement_id}"

    early = hub.client.post(f"{base}/notice", json={"given_on": "2026-05-01"}, headers=admin)
    assert early.status_code == 409  # a draft cannot be given notice
    assert early.json()["errors"][0]["field"] == "status"

    active = hub.client.post(f"{base}/activate", headers=admin)
    assert active.json()["status"] == "active"
    assert hub.client.post(f"{base}/activate", headers=admin).status_code == 409

    # Rolling, three months' notice given on 15 May 2026: it ends on 15 Aug 2026.
    notice = hub.client.post(
        f"{base}/notice", json={"given_on": "2026-05-15", "reason": "Moving"}, headers=admin
    )
    assert notice.status_code == 200, notice.text
    assert (notice.json()["status"], notice.json()["end_date"]) == ("notice_given", "2026-08-15")

    missing_reason = hub.client.post(f"{base}/end", json={"ended_on": "2026-08-15"}, headers=admin)
    assert missing_reason.status_code == 400
    assert "reason" in [e["field"] for e in missing_reason.json()["errors"]]
    before_start = hub.client.post(
        f"{base}/end", json={"ended_on": "2026-03-01", "reason": "x"}, headers=admin
    )
    assert before_start.status_code == 422
    assert before_start.json()["errors"][0]["field"] == "ended_on"

    ended = hub.client.post(
        f"{base}/end", json={"ended_on": "2026-07-31", "reason": "Left early"}, headers=admin
    )
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert (body["status"], body["ended_on"], body["end_date"], body["end_reason"]) == (
        "ended",
        "2026-07-31",
        "2026-07-31",
        "Left early",
    )
    before = _counts(hub)
    twice = hub.client.post(f"{base}/end", json={"ended_on": "2026-08-01", "reason": "Again"}, headers=admin)
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "status"
    change = hub.client.patch(base, json={"rent_pence_per_year": 1}, headers=admin)
    assert change.status_code == 422
    assert _counts(hub) == before
    assert _actions(hub, agreement_id) == [
        "agreement.created",
        "agreement.activated",
        "agreement.notice_given",
        "agreement.ended",
    ]
    [entry] = hub.run(
        lambda db: db.scalars(select(AuditEntry).where(AuditEntry.action == "agreement.ended"))
    ).all()
    assert entry.reason == "Left early"
    assert entry.changes["status"] == ["notice_given", "ended"]


def test_renewal_is_a_new_linked_draft_from_the_day_after_the_end(hub: Hub, tenancy: Tenancy) -> None:
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.post(
        f"/api/v1/agreements/{tenancy.agreement_id}/renew",
        json={"end_date": "2031-03-31", "rent_pence_per_year": 1_300_000},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    renewal = response.json()
    assert renewal["id"] != tenancy.agreement_id
    assert (renewal["status"], renewal["renewal_of_id"]) == ("draft", tenancy.agreement_id)
    assert (renewal["start_date"], renewal["end_date"]) == ("2028-04-01", "2031-03-31")
    assert renewal["rent_pence_per_year"] == 1_300_000
    assert [u["id"] for u in renewal["units"]] == [tenancy.unit_id]
    assert renewal["organisation_id"] == tenancy.organisation_id
    again = hub.client.post(f"/api/v1/agreements/{tenancy.agreement_id}/renew", json={}, headers=admin)
    assert again.status_code == 409
    assert _actions(hub, tenancy.agreement_id)[-1] == "agreement.renewed"
    # The renewal can come into force: it starts the day after the old one ends.
    assert hub.client.post(f"/api/v1/agreements/{renewal['id']}/activate", headers=admin).status_code == 200


def test_breaks_and_reviews_are_added_checked_and_audited(hub: Hub, tenancy: Tenancy) -> None:
    admin = hub.headers_for(Role.ADMIN)
    base = f"/api/v1/agreements/{tenancy.agreement_id}"
    before = _counts(hub)
    late = hub.client.post(
        f"{base}/breaks", json={"break_date": "2028-04-01", "notice_days": 60}, headers=admin
    )
    assert late.status_code == 422
    assert late.json()["errors"][0]["field"] == "break.break_date"
    assert _counts(hub) == before
    added = hub.client.post(
        f"{base}/breaks", json={"break_date": "2027-03-31", "notice_days": 60}, headers=admin
    )
    assert added.status_code == 201, added.text
    assert added.json()["breaks"][0]["last_notice_day"] == "2027-01-30"
    review = hub.client.post(
        f"{base}/reviews", json={"review_date": "2027-04-01", "uplift_bp": 250}, headers=admin
    )
    assert review.status_code == 201, review.text
    # £12,000 a year raised 2.5 %: £12,300, in force from the review date.
    assert review.json()["reviews"][0]["new_rent_pence_per_year"] == 1_230_000
    assert _actions(hub, tenancy.agreement_id)[-2:] == ["agreement.break_added", "agreement.review_added"]


def test_update_rechecks_the_rules(hub: Hub, tenancy: Tenancy) -> None:
    admin = hub.headers_for(Role.ADMIN)
    base = f"/api/v1/agreements/{tenancy.agreement_id}"
    before = _counts(hub)
    bad = hub.client.patch(base, json={"end_date": "2026-01-01"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "end_date"
    clash = hub.client.patch(base, json={"unit_ids": [tenancy.unit_id, tenancy.other_unit_id]}, headers=admin)
    assert clash.status_code == 409
    assert _counts(hub) == before
    ok = hub.client.patch(
        base, json={"insurance_expires_on": "2027-02-28", "reason": "New certificate"}, headers=admin
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["insurance_expires_on"] == "2027-02-28"
    [entry] = hub.run(
        lambda db: db.scalars(select(AuditEntry).where(AuditEntry.action == "agreement.updated"))
    ).all()
    assert entry.changes == {"insurance_expires_on": [None, "2027-02-28"]}
    assert entry.reason == "New certificate"


def _stored_files(settings: Settings) -> list[Path]:
    folder = Path(settings.data_dir) / "agreements"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_signed_document_upload_refusals_write_nothing(
    hub: Hub, tenancy: Tenancy, settings: Settings
) -> None:
    admin = hub.headers_for(Role.ADMIN)
    url = f"/api/v1/agreements/{tenancy.agreement_id}/document"
    before = _counts(hub)
    not_pdf = hub.client.put(
        url, content=b"GIF89a not a pdf", headers={**admin, "content-type": "application/pdf"}
    )
    assert not_pdf.status_code == 422
    assert not_pdf.json()["errors"][0]["field"] == "document"
    too_big = hub.client.put(
        url, content=PDF + b"0" * LIMIT, headers={**admin, "content-type": "application/pdf"}
    )
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["field"] == "document"
    assert _counts(hub) == before
    assert _stored_files(settings) == []
    assert hub.client.get(url, headers=admin).status_code == 404


def test_signed_document_is_stored_under_a_random_name_and_served_to_staff_and_that_tenant_only(
    hub: Hub, tenancy: Tenancy, settings: Settings
) -> None:
    admin = hub.headers_for(Role.ADMIN)
    url = f"/api/v1/agreements/{tenancy.agreement_id}/document"
    response = hub.client.put(
        url,
        params={"filename": "../../Signed lease.pdf"},
        content=PDF,
        headers={**admin, "content-type": "application/pdf"},
    )
    assert response.status_code == 200, response.text
    document = response.json()["document"]
    assert (document["filename"], document["size"], document["url"]) == ("Signed lease.pdf", len(PDF), url)
    [stored] = _stored_files(settings)
    assert stored.suffix == ".pdf" and len(stored.stem) == 32 and int(stored.stem, 16) >= 0
    assert stored.read_bytes() == PDF
    assert _actions(hub, tenancy.agreement_id)[-1] == "agreement.document_uploaded"

    own = hub.headers_for(Role.TENANT, organisation_id=tenancy.organisation_id)
    other = hub.headers_for(Role.TENANT, organisation_id=tenancy.other_organisation_id)
    for headers in (admin, hub.headers_for(Role.RECEPTIONIST), hub.headers_for(Role.TRUSTEE), own):
        got = hub.client.get(url, headers=headers)
        assert got.status_code == 200
        assert got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
    assert hub.client.get(url, headers=other).status_code == 404
    assert hub.client.get(url).status_code == 401
    assert (
        hub.client.put(url, content=PDF, headers={**own, "content-type": "application/pdf"}).status_code
        == 403
    )


def test_a_tenant_sees_only_its_own_agreements_and_guessed_ids_are_404(hub: Hub, tenancy: Tenancy) -> None:
    own = hub.headers_for(Role.TENANT, organisation_id=tenancy.organisation_id)
    listed = hub.client.get("/api/v1/agreements", headers=own).json()
    assert [a["id"] for a in listed] == [tenancy.agreement_id]
    assert hub.client.get(f"/api/v1/agreements/{tenancy.agreement_id}", headers=own).status_code == 200
    other = hub.client.get(f"/api/v1/agreements/{tenancy.other_agreement_id}", headers=own)
    missing = hub.client.get("/api/v1/agreements/424242", headers=own)
    # Another tenant's agreement answers exactly as one that does not exist.
    assert (
        (other.status_code, other.json()["detail"])
        == (missing.status_code, missing.json()["detail"])
        == (
            404,
            "That agreement was not found.",
        )
    )
    # Asking by organisation does not widen a tenant's list.
    widened = hub.client.get(
        "/api/v1/agreements", params={"organisation_id": tenancy.other_organisation_id}, headers=own
    )
    assert widened.json() == []
    assert hub.client.get("/api/v1/units", headers=own).status_code == 403
    assert hub.client.get("/api/v1/agreements/alerts", headers=own).status_code == 403
    staff = hub.client.get("/api/v1/agreements", headers=hub.headers_for(Role.RECEPTIONIST)).json()
    assert sorted(a["id"] for a in staff) == sorted([tenancy.agreement_id, tenancy.other_agreement_id])


def test_opting_to_tax_shows_standard_vat(database_url: str, tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from hub.app import create_app

    settings = replace(base_settings(database_url), opted_to_tax=True, data_dir=tmp_path)
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        hub = Hub(client)
        org = hub.make_org("Fylde CIC")
        agreement_id = make_agreement(
            hub, org, [make_unit(hub, "Office 1")], date(2026, 4, 1), date(2027, 3, 31)
        )
        body = client.get(f"/api/v1/agreements/{agreement_id}", headers=hub.headers_for(Role.ADMIN)).json()
        assert body["vat_rate_bp"] == 2_000


def test_simultaneous_activations_of_overlapping_drafts_let_the_unit_once(
    hub: Hub,
    live_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    import asyncio

    import httpx

    office = make_unit(hub, "Office 1")
    drafts = [
        make_agreement(
            hub,
            hub.make_org(f"Tenant {i}"),
            [office],
            date(2026, 4, 1 + i),
            date(2027, 3, 31),
            activate=False,
        )
        for i in range(6)
    ]
    admin = hub.headers_for(Role.ADMIN)

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
            return await asyncio.gather(
                *(client.post(f"/api/v1/agreements/{d}/activate", headers=admin) for d in drafts)
            )

    responses = asyncio.run(fire())
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5, [
        (r.status_code, r.text[:200]) for r in responses
    ]
    statuses = [hub.run(lambda db, d=d: db.get(Agreement, d)).status for d in drafts]
    assert sorted(statuses) == ["active"] + ["draft"] * 5
