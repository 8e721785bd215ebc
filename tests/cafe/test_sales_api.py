"""Sales through the API: VAT per line (half-up, VAT-inclusive prices, eat-in vs takeaway), discounts,
cash with change, card, split, idempotent resends, and every bad input the issue lists (a 4xx
problem naming the field, nothing written)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from cafe.models import Sale, SaleLine, Tender
from tests.cafe.factory import Cafe, counted, make_cafe
from tests.conftest import Hub


@pytest.fixture
def cafe(hub: Hub) -> Cafe:
    return make_cafe(hub)


def fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [error["field"] for error in response.json().get("errors", [])]


def written(cafe: Cafe) -> tuple[int, int, int]:
    async def count(db: Any) -> tuple[int, int, int]:
        return (
            int(await db.scalar(select(func.count()).select_from(Sale))),
            int(await db.scalar(select(func.count()).select_from(SaleLine))),
            int(await db.scalar(select(func.count()).select_from(Tender))),
        )

    return cafe.hub.run(count)


def test_two_coffees_and_a_cake_for_cash_gives_change_and_vat_per_line(cafe: Cafe) -> None:
    sold = cafe.ring(
        cafe.sale(
            [cafe.line("Coffee", 2), cafe.line("Cake")],
            [{"method": "cash", "amount_pence": 800, "tendered_pence": 1000}],
        )
    )
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    assert (sale["total_pence"], sale["change_pence"]) == (800, 200)
    # Coffee is hot: standard-rated taken away, 500 × 20/120 = 83.33 → 83. Cake to take away is
    # cold food: zero-rated.
    assert [
        (line["line_total_pence"], line["vat_rate_bp"], line["vat_pence"], line["net_pence"])
        for line in sale["lines"]
    ] == [
        (500, 2000, 83, 417),
        (300, 0, 0, 300),
    ]
    assert sale["vat_pence"] == 83
    receipt = sale["receipt"]
    assert receipt["simplified"] is True and receipt["supplier_name"] == "Fleetwood Community Hub"
    assert receipt["vat_by_rate"] == [
        {"vat_rate_bp": 0, "gross_pence": 300, "vat_pence": 0},
        {"vat_rate_bp": 2000, "gross_pence": 500, "vat_pence": 83},
    ]


def test_cold_food_is_standard_rated_eaten_in_and_zero_rated_taken_away(cafe: Cafe) -> None:
    sold = cafe.ring(
        cafe.sale(
            [
                cafe.line("Sandwich", eat_in=True),
                cafe.line("Sandwich", eat_in=False),
                cafe.line("Soup", eat_in=False),
            ],
            [{"method": "card", "amount_pence": 395 + 395 + 450, "reference": "AUTH 123456"}],
        )
    )
    assert sold.status_code == 201, sold.text
    # 395 × 20/120 = 65.83 → 66; takeaway sandwich 0; hot soup taken away still 450/6 = 75.
    assert [(line["vat_rate_bp"], line["vat_pence"]) for line in sold.json()["lines"]] == [
        (2000, 66),
        (0, 0),
        (2000, 75),
    ]
    assert sold.json()["tenders"][0]["reference"] == "AUTH 123456"


def test_vat_rounds_half_up(cafe: Cafe) -> None:
    # 99p × 20/120 = 16.5p: half-up is 17p (never banker's 16p).
    sold = cafe.ring(cafe.sale([cafe.line("Squash")], [{"method": "card", "amount_pence": 99}]))
    assert sold.json()["lines"][0]["vat_pence"] == 17
    assert sold.json()["lines"][0]["net_pence"] == 82


def test_modifiers_add_their_price_and_are_snapshotted(cafe: Cafe) -> None:
    sold = cafe.ring(
        cafe.sale(
            [cafe.line("Coffee", modifier_ids=[cafe.modifiers["Oat milk"], cafe.modifiers["Extra shot"]])],
            [{"method": "card", "amount_pence": 330}],
        )
    )
    assert sold.status_code == 201, sold.text
    line = sold.json()["lines"][0]
    assert (line["unit_price_pence"], line["line_total_pence"], line["vat_pence"]) == (330, 330, 55)
    assert [m["name"] for m in line["modifiers"]] == ["Oat milk", "Extra shot"]
    cafe.hub.client.patch(
        f"/api/v1/cafe/products/{cafe.products['Coffee']}",
        json={"short_name": "Filter coffee", "price_pence": 999},
        headers=cafe.supervisor,
    )
    again = cafe.hub.client.get(f"/api/v1/cafe/sales/{sold.json()['uuid']}", headers=cafe.staff).json()
    assert (again["lines"][0]["short_name"], again["lines"][0]["unit_price_pence"]) == ("Coffee", 330)


def test_a_discount_is_taken_per_line_and_recorded_on_the_sale(cafe: Cafe) -> None:
    sold = cafe.ring(
        cafe.sale(
            [cafe.line("Coffee"), cafe.line("Squash")],
            [{"method": "cash", "amount_pence": 125 + 49}],
            discount_code="volunteer",
        )
    )
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    # 50% of 250 = 125; 50% of 99 = 49.5 → 50 off (half-up), 49 to pay.
    assert [(line["discount_pence"], line["line_total_pence"]) for line in sale["lines"]] == [
        (125, 125),
        (50, 49),
    ]
    assert (sale["discount_code"], sale["discount_pence"], sale["total_pence"]) == ("volunteer", 175, 174)


def test_the_discount_total_is_what_the_tenders_must_meet(cafe: Cafe) -> None:
    refused = cafe.ring(
        cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}], discount_code="volunteer")
    )
    assert refused.status_code == 422 and fields(refused) == ["tenders"]


def test_split_tender_cash_and_card(cafe: Cafe) -> None:
    sold = cafe.ring(
        cafe.sale(
            [cafe.line("Soup"), cafe.line("Coffee")],
            [
                {"method": "cash", "amount_pence": 300, "tendered_pence": 500},
                {"method": "card", "amount_pence": 400, "reference": "T-1"},
            ],
        )
    )
    assert sold.status_code == 201, sold.text
    assert (sold.json()["total_pence"], sold.json()["change_pence"]) == (700, 200)


def test_the_same_sale_sent_twice_is_recorded_once_with_the_first_answer(cafe: Cafe) -> None:
    body = cafe.sale([cafe.line("Tea")], [{"method": "cash", "amount_pence": 180, "tendered_pence": 200}])
    first = cafe.ring(body)
    assert first.status_code == 201
    second = cafe.ring(body)
    assert second.status_code == 200
    assert second.headers["idempotent-replay"] == "true"
    assert second.json() == first.json()
    # The same instant written in another time zone is the same sale.
    moved = dict(
        body,
        rung_at=datetime.fromisoformat(body["rung_at"]).astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )
    assert cafe.ring(moved).status_code == 200
    assert written(cafe)[0] == 1


def test_a_reused_uuid_with_other_content_is_refused_and_nothing_written(cafe: Cafe) -> None:
    body = cafe.sale([cafe.line("Tea")], [{"method": "cash", "amount_pence": 180}])
    assert cafe.ring(body).status_code == 201
    before = written(cafe)
    other = dict(body, lines=[cafe.line("Tea", 2)], tenders=[{"method": "cash", "amount_pence": 360}])
    refused = cafe.ring(other)
    assert refused.status_code == 409 and fields(refused) == ["uuid"]
    assert written(cafe) == before


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"lines": [{"quantity": 0}]}, 400, "lines[0].quantity"),
        ({"lines": [{"quantity": -2}]}, 400, "lines[0].quantity"),
        ({"lines": [{"product_id": 999_999}]}, 422, "lines[0].product_id"),
        ({"lines": [{"product": "Sold out pie"}]}, 422, "lines[0].product_id"),
        ({"lines": [{"modifier": "Lemon"}]}, 422, "lines[0].modifier_ids"),
        (
            {"tenders": [{"method": "cash", "amount_pence": 250, "tendered_pence": 200}]},
            422,
            "tenders[0].tendered_pence",
        ),
        (
            {"tenders": [{"method": "cash", "amount_pence": 100}, {"method": "card", "amount_pence": 100}]},
            422,
            "tenders",
        ),
        ({"tenders": []}, 422, "tenders"),
        ({"discount_code": "mates_rates"}, 422, "discount_code"),
        ({"rung_at": "2026-12-03T10:00:00"}, 422, "rung_at"),
        ({"uuid": "not-a-uuid"}, 400, "uuid"),
        ({"lines": []}, 422, "lines"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    cafe: Cafe, change: dict[str, Any], status: int, field: str
) -> None:
    body = cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}])
    for key, value in change.items():
        if key == "lines" and value:
            line = dict(body["lines"][0])
            spec = dict(value[0])
            if "product" in spec:
                line["product_id"] = cafe.products[spec.pop("product")]
                body["tenders"] = [{"method": "cash", "amount_pence": 500}]
            if "modifier" in spec:
                line["modifier_ids"] = [cafe.modifiers[spec.pop("modifier")]]
            line.update(spec)
            body["lines"] = [line]
        else:
            body[key] = value
    refused = cafe.ring(body)
    assert refused.status_code == status, refused.text
    assert field in fields(refused)
    assert written(cafe) == (0, 0, 0)


def test_a_sale_on_another_tills_session_is_refused(cafe: Cafe) -> None:
    refused = cafe.ring(
        cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}], till_id=cafe.window)
    )
    assert refused.status_code == 422 and fields(refused) == ["till_id"]
    assert written(cafe) == (0, 0, 0)


def test_a_sale_on_a_closed_session_is_refused(cafe: Cafe) -> None:
    closed = cafe.post(
        f"/api/v1/cafe/sessions/{cafe.session}/close", {"counted": counted(5000)}, as_supervisor=True
    )
    assert closed.status_code == 200, closed.text
    refused = cafe.ring(cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}]))
    assert refused.status_code == 409 and fields(refused) == ["session_id"]
    assert written(cafe) == (0, 0, 0)


def test_an_offline_sale_rung_before_the_close_still_belongs_to_its_session(cafe: Cafe) -> None:
    rung = datetime.now(UTC).isoformat()  # rung while the session is open, sent after the close
    offline = cafe.sale([cafe.line("Coffee")], [{"method": "cash", "amount_pence": 250}], rung_at=rung)
    closed = cafe.post(
        f"/api/v1/cafe/sessions/{cafe.session}/close",
        {"counted": counted(5250), "variance_reason": "A sale still on the till"},
        as_supervisor=True,
    )
    assert closed.json()["variance_pence"] == 250
    late = cafe.ring(offline)
    assert late.status_code == 201, late.text
    assert late.json()["late"] is True
    session = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}").json()
    # The cash was in the drawer when it was counted: now it is expected, and the drawer balances.
    assert (session["expected_cash_pence"], session["variance_pence"]) == (5250, 0)
    assert session["amended_at"] is not None
    report = cafe.get(f"/api/v1/cafe/sessions/{cafe.session}/report").json()
    assert (report["kind"], report["sales"], report["late_sales"], report["gross_pence"]) == ("Z", 1, 1, 250)
    # Sent again, it is the same sale.
    assert cafe.ring(offline).status_code == 200
