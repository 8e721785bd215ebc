"""The supervisor's pages: open a till, cash up, the X/Z report, a receipt with refund and void —
through the real app, the café made through its API (``tests/cafe/factory.py``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.models import Role
from tests.cafe.factory import Cafe, make_cafe
from tests.conftest import Hub


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def cafe(hub: Hub) -> Cafe:
    return make_cafe(hub)


def two_coffees_and_a_cake(cafe: Cafe, given: int = 1000) -> dict[str, Any]:
    body = cafe.sale(
        [cafe.line("Coffee", 2), cafe.line("Cake")],
        [{"method": "cash", "amount_pence": 800, "tendered_pence": given}],
    )
    answer = cafe.ring(body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_staff_see_the_sessions_but_only_a_supervisor_opens_a_till(hub: Hub, cafe: Cafe) -> None:
    hub.login_as(Role.CAFE)
    page = hub.client.get("/till/sessions")
    assert page.status_code == 200
    assert "Counter" in page.text and "Open a till" not in page.text
    response = hub.client.post(
        "/till/sessions", data={"_csrf": csrf_of(page.text), "till_id": str(cafe.window), "float": "50"}
    )
    assert response.status_code == 403
    hub.login_as(Role.CAFE_SUPERVISOR)
    page = hub.client.get("/till/sessions")
    assert "Open a till" in page.text
    assert hub.client.get(f"/till/sessions/{cafe.session}/close").status_code == 200


def test_opening_a_till_bad_input_reshows_the_form_naming_the_field(hub: Hub, cafe: Cafe) -> None:
    hub.login_as(Role.CAFE_SUPERVISOR)
    token = csrf_of(hub.client.get("/till/sessions").text)
    response = hub.client.post(
        "/till/sessions", data={"_csrf": token, "till_id": str(cafe.window), "float": "-5"}
    )
    assert response.status_code == 422
    assert 'id="float-error"' in response.text and "minus" in response.text
    # The Counter is open already: one open session per till.
    response = hub.client.post(
        "/till/sessions", data={"_csrf": token, "till_id": str(cafe.counter), "float": "50"}
    )
    assert response.status_code == 409
    assert 'id="till_id-error"' in response.text
    response = hub.client.post(
        "/till/sessions",
        data={"_csrf": token, "till_id": str(cafe.window), "float": "75.50"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = text_of(hub.client.get("/till/sessions").text)
    assert "Window — opened" in page and "float £75.50" in page


def test_cash_up_needs_a_reason_for_a_difference_then_shows_the_z_report(hub: Hub, cafe: Cafe) -> None:
    two_coffees_and_a_cake(cafe)  # £8.00 kept in cash on a £50 float: £58.00 expected
    hub.login_as(Role.CAFE_SUPERVISOR)
    page = hub.client.get(f"/till/sessions/{cafe.session}/close")
    assert 'data-pence="5800"' in page.text and "£58.00" in page.text
    token = csrf_of(page.text)
    # £50 + £5 + £2 + £0.50: 50p short, no reason.
    counts = {"count-5000": "1", "count-500": "1", "count-200": "1", "count-50": "1"}
    response = hub.client.post(f"/till/sessions/{cafe.session}/close", data={"_csrf": token, **counts})
    assert response.status_code == 422
    assert 'id="variance_reason-error"' in response.text and "short" in response.text
    assert 'value="1"' in response.text  # the counts typed are kept
    response = hub.client.post(
        f"/till/sessions/{cafe.session}/close", data={"_csrf": token, **counts, "count-20": "two"}
    )
    assert response.status_code == 422 and 'id="count-20-error"' in response.text
    response = hub.client.post(
        f"/till/sessions/{cafe.session}/close",
        data={"_csrf": token, **counts, "variance_reason": "A 50p coin went under the counter."},
        follow_redirects=False,
    )
    assert response.status_code == 303
    report = hub.client.get(response.headers["location"])
    text = text_of(report.text)
    assert "Z report · Counter" in text
    assert "Expected £58.00" in text and "Counted £57.50" in text and "Difference £0.50 short" in text
    assert "A 50p coin went under the counter." in text
    assert "data-print" in report.text and "/static/print.js" in report.text


def test_cafe_staff_read_the_x_report_but_may_not_cash_up(hub: Hub, cafe: Cafe) -> None:
    two_coffees_and_a_cake(cafe)
    hub.login_as(Role.CAFE)
    report = hub.client.get(f"/till/sessions/{cafe.session}/report")
    assert report.status_code == 200
    assert "X report · Counter" in text_of(report.text)
    assert hub.client.get(f"/till/sessions/{cafe.session}/close").status_code == 403


def test_a_receipt_is_a_simplified_vat_receipt(hub: Hub, cafe: Cafe) -> None:
    sale = two_coffees_and_a_cake(cafe, given=2000)
    hub.login_as(Role.CAFE)
    page = hub.client.get(f"/till/sales/{sale['uuid']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "2 × Coffee, take away £5.00 20%" in text and "1 × Cake, take away £3.00 0%" in text
    assert "Total £8.00" in text and "Change £12.00" in text
    assert "VAT at 20% on £5.00 £0.83" in text
    assert "Give money back" not in text  # staff: no refund or void


def test_a_supervisor_refunds_chosen_lines_never_more_than_sold(hub: Hub, cafe: Cafe) -> None:
    sale = two_coffees_and_a_cake(cafe)
    coffee_line = next(line for line in sale["lines"] if line["short_name"] == "Coffee")
    hub.login_as(Role.CAFE)
    page = hub.client.get(f"/till/sales/{sale['uuid']}")
    staff_try = hub.client.post(
        f"/till/sales/{sale['uuid']}/refund",
        data={
            "_csrf": csrf_of(page.text),
            f"refund-{coffee_line['id']}": "1",
            "method": "cash",
            "reason": "x",
        },
    )
    assert staff_try.status_code == 403
    hub.login_as(Role.CAFE_SUPERVISOR)
    page = hub.client.get(f"/till/sales/{sale['uuid']}")
    assert "Give money back" in page.text
    token = csrf_of(page.text)
    field = f"refund-{coffee_line['id']}"
    response = hub.client.post(
        f"/till/sales/{sale['uuid']}/refund",
        data={"_csrf": token, field: "1", "method": "cash", "reason": ""},
    )
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    response = hub.client.post(
        f"/till/sales/{sale['uuid']}/refund",
        data={"_csrf": token, field: "3", "method": "cash", "reason": "Spilt"},
    )
    assert response.status_code in (409, 422)
    assert f'id="{field}-error"' in response.text or "more than" in response.text
    response = hub.client.post(
        f"/till/sales/{sale['uuid']}/refund",
        data={"_csrf": token, field: "1", "method": "cash", "reason": "Spilt"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    text = text_of(hub.client.get(f"/till/sales/{sale['uuid']}").text)
    assert "£2.50 by cash" in text and "Spilt" in text and "1 refunded already" in text


def test_a_supervisor_voids_with_a_reason(hub: Hub, cafe: Cafe) -> None:
    sale = two_coffees_and_a_cake(cafe)
    hub.login_as(Role.CAFE_SUPERVISOR)
    token = csrf_of(hub.client.get(f"/till/sales/{sale['uuid']}").text)
    response = hub.client.post(f"/till/sales/{sale['uuid']}/void", data={"_csrf": token, "void_reason": ""})
    assert response.status_code == 422 and 'id="void_reason-error"' in response.text
    response = hub.client.post(
        f"/till/sales/{sale['uuid']}/void",
        data={"_csrf": token, "void_reason": "Rung twice"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    text = text_of(hub.client.get(f"/till/sales/{sale['uuid']}").text)
    assert "Voided" in text and "Rung twice" in text


def test_an_unknown_sale_or_session_is_not_found(hub: Hub, cafe: Cafe) -> None:
    hub.login_as(Role.CAFE_SUPERVISOR)
    assert hub.client.get("/till/sales/00000000-0000-4000-8000-000000000000").status_code == 404
    assert hub.client.get("/till/sessions/999999/report").status_code == 404
