"""The reports' output: CSV safe against formula injection, charts with their words, the board
pack (page and PDF), what shows when no module provides a figure, and a trustee who reads every
report and changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.billing.models import LedgerEntry
from hub.config import Settings
from hub.models import AuditEntry, Organisation, OrganisationKind, Role
from hub.reports import charts, periods
from hub.reports.cells import Hours, Pounds, Share, Table
from hub.reports.csvout import table_csv
from hub.reports.pdf import board_pack_pdf
from hub.reports.tables import Headline, ReportView
from tests.conftest import Hub

READ_ROUTES = [
    "/reports",
    "/reports/income",
    "/reports/debtors",
    "/reports/utilisation",
    "/reports/impact",
    "/reports/cafe",
    "/reports/board-pack?note_summary=A+good+quarter",
    "/reports/board-pack.pdf?note_summary=A+good+quarter",
    "/reports/income/streams.csv",
    "/reports/debtors/organisations.csv",
    "/reports/cafe/products.csv",
    "/api/v1/reports/income",
    "/api/v1/reports/debtors",
    "/api/v1/reports/utilisation",
    "/api/v1/reports/impact",
    "/api/v1/reports/cafe",
]


def test_csv_neutralises_formulas_and_writes_typed_cells() -> None:
    table = Table(
        "t",
        "Test",
        ["Name", "Owed", "Hours", "Share", "On", "Count"],
        [
            [
                '=HYPERLINK("http://evil.example","x")',
                Pounds(-1_234),
                Hours(5_400),
                Share(1_234),
                date(2026, 3, 31),
                7,
            ],
            ["+44 1253 000000", Pounds(5), Hours(0), Share(0), None, 0],
            ["-2+3", Pounds(100_000), Hours(3600), Share(10_000), date(2026, 1, 1), -3],
            ["@SUM(A1:A2)", Pounds(0), Hours(1), Share(1), None, 1],
            ["\tTabbed", Pounds(0), Hours(0), Share(0), None, 0],
            ["Café £ ümlaut", Pounds(0), Hours(0), Share(0), None, 0],
        ],
    )
    body = table_csv(table)
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Name,Owed,Hours,Share,On,Count"
    assert lines[1] == '"\'=HYPERLINK(""http://evil.example"",""x"")",-12.34,1.50,12.34%,2026-03-31,7'
    assert lines[2] == "'+44 1253 000000,0.05,0.00,0.00%,,0"
    assert lines[3] == "'-2+3,1000.00,1.00,100.00%,2026-01-01,-3"  # our own negative numbers stay numbers
    assert lines[4] == "'@SUM(A1:A2),0.00,0.00,0.01%,,1"
    assert lines[5] == "'\tTabbed,0.00,0.00,0.00%,,0"
    assert lines[6] == "Café £ ümlaut,0.00,0.00,0.00%,,0"


def test_an_organisation_named_like_a_formula_is_neutralised_in_the_debtors_csv(
    reports_hub: Hub, settings: Settings
) -> None:
    from hub.auth import Identity
    from hub.billing.schemas import ChargeCreate, InvoiceCreate
    from hub.billing.services import charges, invoices

    org = reports_hub.make_org("=cmd|' /C calc'!A0", kind=OrganisationKind.COMMUNITY_GROUP)
    actor = Identity.system("test")

    async def work(db: AsyncSession) -> None:
        charge = await charges.create_manual(
            db,
            actor,
            ChargeCreate(
                organisation_id=org, description="@Hire", net_pence=1_000, supply_date=date(2026, 3, 1)
            ),
        )
        await invoices.create_invoice(
            db,
            settings,
            actor,
            InvoiceCreate(organisation_id=org, charge_ids=[charge.id]),
            on=date(2026, 3, 2),
        )

    reports_hub.run(work)
    headers = reports_hub.headers_for(Role.TRUSTEE)
    text = reports_hub.client.get("/reports/debtors/organisations.csv", headers=headers).content.decode(
        "utf-8-sig"
    )
    assert "\"'=cmd|' /C calc'!A0\",10.00" in text or "'=cmd|' /C calc'!A0," in text
    assert "\n=cmd" not in text


def test_a_chart_is_an_image_with_its_words_and_bars_to_scale() -> None:
    svg = str(
        charts.bar_chart(
            "c1",
            "Income <by> stream",
            ["Room hire", "Café & bar"],
            [charts.Series("This year", [2_000, 1_000]), charts.Series("Last year", [500, 0])],
            str,
        )
    )
    assert svg.startswith('<svg class="chart" id="c1" role="img" aria-labelledby="c1-t c1-d"')
    assert '<title id="c1-t">Income &lt;by&gt; stream</title>' in svg
    assert '<defs><pattern id="c1-hatch" width="6"' in svg  # last year's bars are hatched, not only paler
    assert "Room hire: This year 2000, Last year 500; Café &amp; bar: This year 1000, Last year 0" in svg
    widths = [
        float(part.split('"')[0])
        for part in svg.split('<rect x="190" y="')[1:]
        for part in [part.split('width="')[1]]
    ]
    # The legend's swatch (14 px), then the bars: 360 px is the largest value; zero draws nothing.
    assert widths == [14.0, 360.0, 90.0, 180.0, 0.0]


def test_when_nobody_provides_a_figure_the_report_says_so(bare_hub: Hub) -> None:
    headers = bare_hub.headers_for(Role.TRUSTEE)
    for name in ("utilisation", "impact", "cafe"):
        body = bare_hub.client.get(f"/api/v1/reports/{name}", headers=headers).json()
        assert body["available"] is False and body["figures"] is None
        assert "not" in body["message"]
    bare_hub.login_as(Role.TRUSTEE)
    page = bare_hub.client.get("/reports/cafe")
    assert page.status_code == 200
    assert "Café trading is not available: no module in this hub runs a café till yet." in page.text
    dashboard = bare_hub.client.get("/reports").text
    assert "No module in this hub provides room utilisation" in dashboard
    assert (
        "Occupancy is not available" in bare_hub.client.get("/reports/impact").text
        or "community impact" in dashboard
    )


def test_provided_cafe_figures_are_shown_with_their_tables(reports_hub: Hub) -> None:
    reports_hub.login_as(Role.TRUSTEE)
    page = reports_hub.client.get("/reports/cafe?period=2026-03").text
    assert "£1,234.56" in page and "4,321" in page and "Pay-it-forward redeemed (value)" in page
    assert 'role="img"' in page and "<caption" in page
    csv_text = reports_hub.client.get("/reports/cafe/products.csv?period=2026-03").content.decode("utf-8-sig")
    assert csv_text.splitlines()[1:] == ["Tea,900,1350.00", "'=Toastie,12,54.00"]


def test_the_board_pack_pdf_carries_the_figures_and_the_commentary(settings: Settings) -> None:
    period = periods.parse(settings, "FY2026")
    view = ReportView(
        "income", "Income by stream", headlines=[Headline("Income (net of VAT)", "£65.00", "up 3.0%")]
    )
    view.blocks = []
    pdf = board_pack_pdf(
        settings,
        period,
        {"income": view},
        {"summary": "Hall bookings recovered — well done."},
        [("summary", "Summary for the board")],
        made_on=date(2026, 12, 3),
        compress=False,
    )
    assert pdf.startswith(b"%PDF-")
    assert b"Income \\(net of VAT\\)" in pdf and b"Hall bookings recovered - well done." in pdf
    assert pdf.count(b"/Type /Page\n") == 1


def test_a_trustee_reads_every_report_and_changes_nothing(reports_hub: Hub) -> None:
    reports_hub.make_org("Coastal Youth Trust", kind=OrganisationKind.VCSE)
    headers = reports_hub.headers_for(Role.TRUSTEE)

    async def counts(db: AsyncSession) -> tuple[int, int, int]:
        return (
            int(await db.scalar(select(func.count()).select_from(AuditEntry)) or 0),
            int(await db.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
            int(await db.scalar(select(func.count()).select_from(Organisation)) or 0),
        )

    before = reports_hub.run(counts)
    for path in READ_ROUTES:
        response = reports_hub.client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text[:300])
    for path in ("/reports", "/reports/board-pack", "/api/v1/reports/income"):
        assert reports_hub.client.post(path, headers=headers).status_code in (403, 405)
    assert reports_hub.run(counts) == before
    pdf = reports_hub.client.get("/reports/board-pack.pdf?period=FY2026", headers=headers)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert "board-pack-2026-04-01-to-2027-03-31.pdf" in pdf.headers["content-disposition"]


def test_tenants_cafe_and_reception_cannot_read_reports(reports_hub: Hub) -> None:
    for role in (Role.RECEPTIONIST, Role.TENANT, Role.CAFE, Role.CAFE_SUPERVISOR):
        headers = reports_hub.headers_for(role)
        for path in ("/api/v1/reports/income", "/reports/income/streams.csv", "/reports/board-pack.pdf"):
            assert reports_hub.client.get(path, headers=headers).status_code == 403, (role, path)
    assert reports_hub.client.get("/api/v1/reports/income").status_code == 401
