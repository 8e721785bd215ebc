"""Till sessions, cash-up, X/Z reports, refunds, voids, pay-it-forward and the ledger, through the API.
Expected figures come from the rules: expected cash = float + cash taken − change − cash refunded;
VAT per line half-up; the Z report's VAT is the sum of its lines; takings posted at close."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cafe.models import Refund
from hub.billing.models import LedgerEntry
from hub.billing.services.ledger import check
from hub.models import AuditEntry
from tests.cafe.factory import Cafe, counted, make_cafe
from tests.conftest import Hub


@pytest.fixture
def cafe(hub: Hub) -> Cafe:
    return make_cafe(hub)


def fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [error["field"] for error in response.json().get("errors", [])]


def ledger_check(cafe: Cafe) -> Any:
    registry = cafe.hub.client.app.state.registry
    return cafe.hub.run(lambda db: check(db, registry=registry))


def close(cafe: Cafe, pence: int, reason: str = "", session: int | None = None) -> Any:
    return cafe.post(
        f"/api/v1/cafe/sessions/{session or cafe.session}/close",
        {"counted": counted(pence), "variance_reason": reason},
        as_supervisor=True,
    )


def test_one_open_session_per_till(cafe: Cafe) -> None:
    again = cafe.post(
        "/api/v1/cafe/sessions", {"till_id": cafe.counter, "float_pence": 100}, as_supervisor=True
    )
    assert again.status_code == 409 and fields(again) == ["till_id"]
    other = cafe.post(
        "/api/v1/cafe/sessions", {"till_id": cafe.window, "float_pence": 2000}, as_supervisor=True
    )
    assert other.status_code == 201
    tills = {t["name"]: t["open_session_id"] for t in cafe.get("/api/v1/cafe/tills").json()}
    assert tills == {"Counter": cafe.session, "Window": other.json()["id"]}


def test_staff_may_not_open_or_close_a_session(cafe: Cafe) -> None:
    refused = cafe.post("/api/v1/cafe/sessions", {"till_id": cafe.window, "float_pence": 100})
    assert refused.status_code == 403
    refused = cafe.post(f"/api/v1/cafe/sessions/{cafe.session}/close", {"counted": counted(5000)})
    assert refused.status_code == 403


def test_close_counts_the_drawer_and_a_variance_needs_its_reason(cafe: Cafe) -> None:
    cafe.ring(
        cafe.sale([cafe.line("Coffee", 2)], [{"method": "cash", "amount_pence": 500, "tendered_pence": 1000}])
    )
    cafe.ring(cafe.sale([cafe.line("Tea")], [{"method": "card", "amount_pence": 180}]))
    # Float 5000 + cash 500 (1000 handed over, 500 change) = 5500 expected; 5450 counted.
    short = close(cafe, 5450)
    assert short.status_code == 422 and fields(short) == ["variance_reason"]
    assert short.json()["variance_pence"] == -50
    bad = cafe.post(
        f"/api/v1/cafe/sessions/{cafe.session}/close", {"counted": {"300": 1}}, as_supervisor=True
    )
    assert bad.status_code == 422 and fields(bad) == ["counted.300"]
    assert cafe.get(f"/api/v1/cafe/sessions/{cafe.session}").json()["status"] == "open"
    closed = close(cafe, 5450, "50p given too much in change")
    assert closed.status_code == 200, closed.text
    session = closed.json()
    assert (session["expected_cash_pence"], session["counted_cash_pence"], session["variance_pence"]) == (
        5500,
        5450,
        -50,
    )
    assert close(cafe, 5450, "again").status_code == 409
    assert ledger_check(cafe).ok


def test_the_z_report_vat_summary_is_the_sum_of_its_lines_exactly(cafe: Cafe) -> None:
    sold = []
    # Many odd amounts so that rounding each line differs from rounding the total.
    for index in range(12):
        lines = [cafe.line("Squash", index % 3 + 1), cafe.line("Sandwich", eat_in=index % 2 == 0)]
        total = 99 * (index % 3 + 1) + 395
        body = cafe.sale(lines, [{"method": "card", "amount_pence": total}])
        if index % 4 == 0:
            body["discount_code"] = "volunteer"
            gross = [99 * (index % 3 + 1), 395]
            body["tenders"] = [
                {"method": "card", "amount_pence": sum(g - (g * 5000 * 2 + 10000) // 20000 for g in gross)}
            ]
        response = cafe.ring(body)
        assert response.status_code == 201, response.text
        sold.append(response.json())
    assert close(cafe, 5000).status_code == 200
    report = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert report["kind"] == "Z"
    by_rate: dict[int, list[int]] = {}
    for sale in sold:
        for line in sale["lines"]:
            entry = by_rate.setdefault(line["vat_rate_bp"], [0, 0, 0])
            entry[0] += line["line_total_pence"]
            entry[1] += line["net_pence"]
            entry[2] += line["vat_pence"]
    assert report["vat_by_rate"] == [
        {"vat_rate_bp": rate, "gross_pence": g, "net_pence": n, "vat_pence": v}
        for rate, (g, n, v) in sorted(by_rate.items())
    ]
    assert report["vat_pence"] == sum(sale["vat_pence"] for sale in sold)
    assert report["gross_pence"] == report["card_pence"] == sum(sale["total_pence"] for sale in sold)

    # The ledger holds the same VAT, rate by rate.
    async def vat_in_ledger(db: Any) -> dict[int, int]:
        rows = await db.execute(
            select(LedgerEntry.vat_rate_bp, func.sum(LedgerEntry.amount_pence))
            .where(LedgerEntry.account == "vat", LedgerEntry.source_type == "cafe_session")
            .group_by(LedgerEntry.vat_rate_bp)
        )
        return {int(rate): -int(amount) for rate, amount in rows.all()}

    assert cafe.hub.run(vat_in_ledger) == {rate: v for rate, (_, _, v) in by_rate.items() if v}
    assert ledger_check(cafe).ok


def test_refund_chosen_lines_never_more_than_sold_by_a_supervisor_with_a_reason(cafe: Cafe) -> None:
    sale = cafe.ring(
        cafe.sale([cafe.line("Coffee", 3), cafe.line("Cake")], [{"method": "cash", "amount_pence": 1050}])
    ).json()
    coffee = sale["lines"][0]["id"]
    path = f"/api/v1/cafe/sales/{sale['uuid']}/refund"
    body = {"reason": "Spilt", "method": "cash", "lines": [{"line_id": coffee, "quantity": 2}]}
    assert cafe.post(path, body).status_code == 403  # staff
    no_reason = cafe.post(path, {**body, "reason": ""}, as_supervisor=True)
    assert no_reason.status_code == 400 and fields(no_reason) == ["reason"]
    first = cafe.post(path, body, as_supervisor=True)
    assert first.status_code == 200, first.text
    # Two of three coffees: 750 × 2/3 = 500; VAT 125 × 2/3 = 83.33 → 83.
    assert (first.json()["refunds"][0]["amount_pence"], first.json()["refunds"][0]["vat_pence"]) == (500, 83)
    too_many = cafe.post(path, body, as_supervisor=True)
    assert too_many.status_code == 422 and fields(too_many) == ["lines[0].quantity"]
    other_sale_line = cafe.post(
        path, {**body, "lines": [{"line_id": 999_999, "quantity": 1}]}, as_supervisor=True
    )
    assert other_sale_line.status_code == 422 and fields(other_sale_line) == ["lines[0].line_id"]
    rest = cafe.post(path, {"reason": "Cold", "method": "cash", "all": True}, as_supervisor=True)
    assert rest.status_code == 200
    # The last coffee takes what is left of the line: 750 − 500 = 250 (VAT 125 − 83 = 42); the cake 300.
    assert [(r["amount_pence"], r["vat_pence"]) for r in rest.json()["refunds"]] == [(500, 83), (550, 42)]
    assert [line["refunded_quantity"] for line in rest.json()["lines"]] == [3, 1]
    nothing_left = cafe.post(path, {"reason": "Again", "method": "cash", "all": True}, as_supervisor=True)
    assert nothing_left.status_code == 409

    async def audited(db: Any) -> int:
        return int(
            await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "refund"))
        )

    assert cafe.hub.run(audited) == 2
    report = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert (report["refunds"], report["refunds_cash_pence"], report["expected_cash_pence"]) == (2, 1050, 5000)
    assert close(cafe, 5000).status_code == 200
    assert ledger_check(cafe).ok


def test_a_refund_needs_an_open_session_on_the_sales_till(cafe: Cafe) -> None:
    sale = cafe.ring(cafe.sale([cafe.line("Tea")], [{"method": "card", "amount_pence": 180}])).json()
    assert close(cafe, 5000).status_code == 200
    refused = cafe.post(
        f"/api/v1/cafe/sales/{sale['uuid']}/refund",
        {"reason": "Cold", "method": "card", "all": True},
        as_supervisor=True,
    )
    assert refused.status_code == 409 and fields(refused) == ["session_id"]

    async def refunds(db: Any) -> int:
        return int(await db.scalar(select(func.count()).select_from(Refund)))

    assert cafe.hub.run(refunds) == 0


def test_a_void_takes_the_sale_out_of_the_takings_while_the_session_is_open(cafe: Cafe) -> None:
    kept = cafe.ring(cafe.sale([cafe.line("Tea")], [{"method": "cash", "amount_pence": 180}])).json()
    wrong = cafe.ring(cafe.sale([cafe.line("Cake", 2)], [{"method": "cash", "amount_pence": 600}])).json()
    assert cafe.post(f"/api/v1/cafe/sales/{wrong['uuid']}/void", {"reason": "Rung twice"}).status_code == 403
    voided = cafe.post(
        f"/api/v1/cafe/sales/{wrong['uuid']}/void", {"reason": "Rung twice"}, as_supervisor=True
    )
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    # The cakes go back into stock.
    assert cafe.get(f"/api/v1/cafe/products/{cafe.products['Cake']}").json()["stock_count"] == 5
    report = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert (report["sales"], report["voids"], report["gross_pence"], report["expected_cash_pence"]) == (
        1,
        1,
        180,
        5180,
    )
    assert close(cafe, 5180).status_code == 200
    late_void = cafe.post(
        f"/api/v1/cafe/sales/{kept['uuid']}/void", {"reason": "Too late"}, as_supervisor=True
    )
    assert late_void.status_code == 409 and fields(late_void) == ["session_id"]
    assert ledger_check(cafe).ok


def test_pay_it_forward_gifts_are_held_and_redemptions_never_exceed_the_pool(cafe: Cafe) -> None:
    # Gift: two suspended coffees at the dearest coffee-kind price (Coffee 250p) = 500p, paid by card.
    gift = cafe.ring(
        cafe.sale([], [{"method": "card", "amount_pence": 500}], gifts=[{"kind": "coffee", "units": 2}])
    )
    assert gift.status_code == 201, gift.text
    assert gift.json()["gift_pence"] == 500 and gift.json()["vat_pence"] == 0
    pool = cafe.hub.client.get("/api/v1/cafe/menu", headers=cafe.staff).json()["pay_it_forward"]
    assert pool["coffee"] == {"units": 2, "value_pence": 500}
    # Redeem one coffee from the pool, with a tea paid in cash beside it.
    redeemed = cafe.ring(
        cafe.sale(
            [cafe.line("Coffee", from_pool=True), cafe.line("Tea")],
            [{"method": "pay_it_forward", "amount_pence": 250}, {"method": "cash", "amount_pence": 180}],
        )
    )
    assert redeemed.status_code == 201, redeemed.text
    # Nobody is named: the sale and its receipt have no field for who received it.
    assert not {"customer", "recipient", "customer_name"} & (
        set(redeemed.json()) | set(redeemed.json()["receipt"])
    )
    too_many = cafe.ring(
        cafe.sale(
            [cafe.line("Coffee", 2, from_pool=True)], [{"method": "pay_it_forward", "amount_pence": 500}]
        )
    )
    assert too_many.status_code == 422 and fields(too_many) == ["tenders"]
    not_redeemable = cafe.ring(
        cafe.sale([cafe.line("Tea", from_pool=True)], [{"method": "pay_it_forward", "amount_pence": 180}])
    )
    assert not_redeemable.status_code == 422 and fields(not_redeemable) == ["lines[0].from_pool"]
    pool = cafe.hub.client.get("/api/v1/cafe/menu", headers=cafe.staff).json()["pay_it_forward"]
    assert pool["coffee"] == {"units": 1, "value_pence": 250}
    report = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert (report["pay_it_forward_given_units"], report["pay_it_forward_redeemed_units"]) == (2, 1)
    # Takings are the goods sold (coffee 250 + tea 180); the gift is not income.
    assert (report["gross_pence"], report["cash_pence"], report["card_pence"]) == (430, 180, 500)
    assert close(cafe, 5180).status_code == 200

    async def deferred(db: Any) -> int:
        return int(
            await db.scalar(
                select(func.sum(LedgerEntry.amount_pence)).where(LedgerEntry.account == "deferred")
            )
        )

    # 500 given (a credit: held for someone) less 250 redeemed: 250 still owed in coffees.
    assert cafe.hub.run(deferred) == -250
    assert ledger_check(cafe).ok


def test_two_tills_sessions_do_not_interfere(cafe: Cafe) -> None:
    window = cafe.post(
        "/api/v1/cafe/sessions", {"till_id": cafe.window, "float_pence": 2000}, as_supervisor=True
    ).json()
    cafe.ring(cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}]))
    cafe.ring(
        cafe.sale(
            [cafe.line("Soup")],
            [{"method": "cash", "amount_pence": 450}],
            session_id=window["id"],
            till_id=cafe.window,
        )
    )
    assert close(cafe, 2450, session=window["id"]).status_code == 200
    counter = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert (counter["kind"], counter["gross_pence"], counter["expected_cash_pence"]) == ("X", 250, 5250)
    still = cafe.ring(cafe.sale([cafe.line("Tea")], [{"method": "card", "amount_pence": 180}]))
    assert still.status_code == 201
    assert ledger_check(cafe).ok


def test_a_trustee_reads_reports_and_nothing_else(cafe: Cafe) -> None:
    from hub.models import Role

    trustee = cafe.hub.headers_for(Role.TRUSTEE)
    client = cafe.hub.client
    assert client.get(f"/api/v1/cafe/sessions/{cafe.session}/report", headers=trustee).status_code == 200
    assert (
        client.get(
            "/api/v1/cafe/reports/trading?first=2026-01-01&last=2026-12-31", headers=trustee
        ).status_code
        == 200
    )
    assert client.get("/api/v1/cafe/menu", headers=trustee).status_code == 403
    body = cafe.sale([cafe.line("Tea")], [{"method": "card", "amount_pence": 180}])
    assert client.post("/api/v1/cafe/sales", json=body, headers=trustee).status_code == 403


def test_the_trading_report_adds_up_takings_refunds_gifts_and_variances(cafe: Cafe) -> None:
    cafe.ring(
        cafe.sale([cafe.line("Coffee", 2), cafe.line("Sandwich")], [{"method": "card", "amount_pence": 895}])
    )
    refunded = cafe.ring(cafe.sale([cafe.line("Soup")], [{"method": "cash", "amount_pence": 450}])).json()
    cafe.ring(cafe.sale([], [{"method": "card", "amount_pence": 450}], gifts=[{"kind": "meal", "units": 1}]))
    cafe.post(
        f"/api/v1/cafe/sales/{refunded['uuid']}/refund",
        {"reason": "Cold", "method": "cash", "all": True},
        as_supervisor=True,
    )
    assert close(cafe, 4990, "10p short").status_code == 200
    today = cafe.hub.client.app.state.settings.today().isoformat()
    report = cafe.get("/api/v1/cafe/reports/trading", first=today, last=today).json()
    # Takings: coffee 500 (VAT 83) + takeaway sandwich 395 (zero) + soup 450 (VAT 75) − soup refunded.
    assert (report["takings_gross_pence"], report["takings_vat_pence"], report["takings_net_pence"]) == (
        895,
        83,
        812,
    )
    assert report["vat_by_rate"] == [
        {"vat_rate_bp": 0, "net_pence": 395, "vat_pence": 0},
        {"vat_rate_bp": 2000, "net_pence": 417, "vat_pence": 83},
    ]
    assert report["transactions"] == 3
    assert (report["pif_given_units"], report["pif_given_pence"]) == (1, 450)
    assert [(v["variance_pence"], v["reason"]) for v in report["variances"]] == [(-10, "10p short")]
    assert (report["by_month"][0]["gross_pence"], report["by_month"][0]["transactions"]) == (1345, 3)
    assert ledger_check(cafe).ok
    bad = cafe.get("/api/v1/cafe/reports/trading", first=today, last="2000-01-01")
    assert bad.status_code == 422 and fields(bad) == ["last"]
