"""Income by stream and aged debtors, on a small fixed history, against figures worked out by hand
— and against the ledger check: the income report agrees to the penny with the invoices, credit
notes and till takings that the check proves the ledger holds."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.billing.models import DocumentKind, Invoice, InvoiceLine, PaymentMethod
from hub.billing.schemas import ChargeCreate, CreditLineIn, CreditNoteCreate, InvoiceCreate, PaymentCreate
from hub.billing.services import charges, invoices, ledger, payments
from hub.config import Settings
from hub.models import OrganisationKind, Role
from hub.reports import periods, services
from tests.conftest import Hub

SYSTEM = Identity.system("test")


def _invoice(
    hub: Hub, settings: Settings, org: int, net: int, vat_bp: int, stream: str, supply: date, on: date
) -> Invoice:
    async def work(db: AsyncSession) -> Invoice:
        charge = await charges.create_manual(
            db,
            SYSTEM,
            ChargeCreate(
                organisation_id=org,
                description=f"{stream} {supply}",
                net_pence=net,
                supply_date=supply,
                vat_rate_bp=vat_bp,
                stream=stream,
            ),
        )
        return await invoices.create_invoice(
            db, settings, SYSTEM, InvoiceCreate(organisation_id=org, charge_ids=[charge.id]), on=on
        )

    return hub.run(work)


@pytest.fixture
def history(reports_hub: Hub, settings: Settings) -> dict[str, int]:
    hub = reports_hub
    org = hub.make_org("Coastal Youth Trust", kind=OrganisationKind.VCSE)
    # Last financial year (2025–26): room hire £100.00 invoiced on its last day.
    _invoice(hub, settings, org, 10_000, 0, "room_hire", date(2026, 3, 20), date(2026, 3, 31))
    # This one (2026–27): other income £25.00 + 20% VAT on its first day, paid on the 10th.
    first = _invoice(hub, settings, org, 2_500, 2_000, "other", date(2026, 4, 1), date(2026, 4, 1))
    hub.run(
        lambda db: payments.record_payment(
            db,
            settings,
            SYSTEM,
            PaymentCreate(
                organisation_id=org,
                method=PaymentMethod.BACS,
                amount_pence=3_000,
                received_on=date(2026, 4, 10),
            ),
        )
    )
    # Room hire £40.00 in May, £10.00 of it credited in June.
    may = _invoice(hub, settings, org, 4_000, 0, "room_hire", date(2026, 5, 15), date(2026, 5, 15))
    line_id = may.lines[0].id
    hub.run(
        lambda db: invoices.create_credit_note(
            db,
            settings,
            SYSTEM,
            may.id,
            CreditNoteCreate(
                reason="One hour not used", lines=[CreditLineIn(line_id=line_id, net_pence=1_000)]
            ),
            on=date(2026, 6, 2),
        )
    )

    # A till session's takings on 30 April: £10.00 net + £2.00 VAT, paid in cash.
    async def takings(db: AsyncSession) -> None:
        ledger.post_takings(
            db,
            source_type="till_session",
            source_id="1",
            entry_date=date(2026, 4, 30),
            lines=[ledger.TakingsLine(1_000, 200, 2_000)],
            cash_pence=1_200,
            card_pence=0,
            description="Till session 1",
            stream="other",
        )
        await db.commit()

    hub.run(takings)
    return {"org": org, "first": first.id}


def _income(hub: Hub, settings: Settings, key: str) -> services.Income:
    registry = hub.client.app.state.registry
    return hub.run(lambda db: services.income(db, settings, registry, periods.parse(settings, key)))


def test_income_by_stream_beside_the_year_before(
    reports_hub: Hub, settings: Settings, history: dict[str, int]
) -> None:
    report = _income(reports_hub, settings, "FY2026")
    streams = {
        s.stream: (s.net_pence, s.vat_pence, s.last_net_pence, s.last_vat_pence) for s in report.streams
    }
    assert streams["room_hire"] == (3_000, 0, 10_000, 0)  # £40 less the £10 credit; last year £100
    assert streams["other"] == (3_500, 700, 0, 0)  # £25 + £5 VAT invoiced, £10 + £2 VAT at the till
    assert (report.net_pence, report.vat_pence, report.last_net_pence, report.last_vat_pence) == (
        6_500,
        700,
        10_000,
        0,
    )
    months = [(m.first, m.net_pence, m.vat_pence, m.last_net_pence) for m in report.months]
    assert months[:3] == [
        (date(2026, 4, 1), 3_500, 700, 0),
        (date(2026, 5, 1), 4_000, 0, 0),
        (date(2026, 6, 1), -1_000, 0, 0),
    ]
    assert months[-1] == (date(2027, 3, 1), 0, 0, 10_000)  # March 2026 sits beside March 2027
    assert len(report.months) == 12
    assert [(q.net_pence, q.vat_pence, q.last_net_pence) for q in report.quarters] == [
        (6_500, 700, 0),
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 10_000),
    ]


def test_a_month_and_a_quarter(reports_hub: Hub, settings: Settings, history: dict[str, int]) -> None:
    march = _income(reports_hub, settings, "2026-03")
    assert (march.net_pence, march.last_net_pence) == (10_000, 0)
    q1 = _income(reports_hub, settings, "FY2026-Q1")
    assert (q1.period.first, q1.period.last, q1.net_pence, q1.vat_pence) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
        6_500,
        700,
    )
    assert q1.quarters == []


def test_income_agrees_with_the_ledger_check_to_the_penny(
    reports_hub: Hub, settings: Settings, history: dict[str, int]
) -> None:
    registry = reports_hub.client.app.state.registry
    check = reports_hub.run(lambda db: ledger.check(db))
    assert check.ok, check.problems
    assert (check.invoices, check.payments) == (4, 1)  # three invoices and one credit note

    # What the documents themselves say, per stream (issued invoices less credit notes), plus the
    # till's takings: read from the invoice lines, not the ledger.
    async def documents(db: AsyncSession) -> dict[str, tuple[int, int]]:
        sign = case((Invoice.kind == DocumentKind.INVOICE.value, 1), else_=-1)
        rows = await db.execute(
            select(
                InvoiceLine.stream,
                func.sum(sign * InvoiceLine.net_pence),
                func.sum(sign * InvoiceLine.vat_pence),
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.number.is_not(None))
            .group_by(InvoiceLine.stream)
        )
        return {stream: (int(net), int(vat)) for stream, net, vat in rows.all()}

    by_documents = reports_hub.run(documents)
    by_documents["other"] = (by_documents["other"][0] + 1_000, by_documents["other"][1] + 200)  # the till
    custom = periods.parse(settings, "custom", "2025-04-01", "2027-03-31")
    report = reports_hub.run(lambda db: services.income(db, settings, registry, custom))
    by_report = {s.stream: (s.net_pence, s.vat_pence) for s in report.streams if s.net_pence or s.vat_pence}
    assert by_report == by_documents == {"room_hire": (13_000, 0), "other": (3_500, 700)}


def test_debtors_reuse_aged_debt_down_to_the_invoices(
    reports_hub: Hub, settings: Settings, history: dict[str, int]
) -> None:
    report = reports_hub.run(lambda db: services.debtors(db, settings))
    # Invoiced £100 + £30 + £40, credited £10, paid £30: £130 owed. A payment without allocations
    # settles the oldest invoice first, so the March one is £30 down and the April one is open.
    assert report.aged.totals.total_pence == 13_000
    assert sorted((i.number, i.owed_pence, i.issue_date) for i in report.invoices) == [
        ("INV-000001", 7_000, date(2026, 3, 31)),
        ("INV-000002", 3_000, date(2026, 4, 1)),
        ("INV-000003", 3_000, date(2026, 5, 15)),
    ]
    assert sum(i.owed_pence for i in report.invoices) == report.aged.totals.total_pence
    today = settings.today()
    assert {i.number: i.days for i in report.invoices} == {
        "INV-000001": (today - date(2026, 3, 31)).days,
        "INV-000002": (today - date(2026, 4, 1)).days,
        "INV-000003": (today - date(2026, 5, 15)).days,
    }


def test_csv_of_income_opens_in_a_spreadsheet(
    reports_hub: Hub, settings: Settings, history: dict[str, int]
) -> None:
    headers = reports_hub.headers_for(Role.TRUSTEE)
    response = reports_hub.client.get("/reports/income/months.csv?period=FY2026", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == 'Month,Net,VAT,"Net, year before","VAT, year before"'
    assert lines[1:4] == [
        "Apr 2026,35.00,7.00,0.00,0.00",
        "May 2026,40.00,0.00,0.00,0.00",
        "Jun 2026,-10.00,0.00,0.00,0.00",
    ]
    assert lines[-1] == "Total,65.00,7.00,100.00,0.00"
    invoices_csv = reports_hub.client.get("/reports/debtors/invoices.csv", headers=headers).content.decode(
        "utf-8-sig"
    )
    assert "INV-000001,Coastal Youth Trust,2026-03-31" in invoices_csv  # ISO dates


def test_bad_periods_are_refused_naming_the_field(reports_hub: Hub) -> None:
    headers = reports_hub.headers_for(Role.TRUSTEE)
    for query, field in (
        ("period=2026-13", "period"),
        ("period=soon", "period"),
        ("period=custom&from=2026-05-01&to=2026-04-01", "to"),
        ("period=custom&from=yesterday&to=2026-04-01", "from"),
        ("period=custom&from=2020-01-01&to=2026-01-01", "to"),
    ):
        response = reports_hub.client.get(f"/api/v1/reports/income?{query}", headers=headers)
        assert 400 <= response.status_code < 500, query
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == [field], query
    page = reports_hub.client.get("/reports/income?period=soon", headers=headers)
    assert page.status_code in (400, 422) and "Choose a month" in page.text
