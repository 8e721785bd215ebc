"""The till in a real browser, on the demo hub: the usual sale (two coffees and a cake, cash) in at
most six taps, counted; a split payment; pay-it-forward given and redeemed; a refund by a
supervisor; and the offline queue — the browser context taken offline mid-queue and back, the server
holding each sale exactly once. axe-core checks each screen; screenshots at 768 px (a tablet) and
1366 px are saved for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

STAFF = ("cafe@hub.test", "cafe-demo-pass")
SUPERVISOR = ("cafe.supervisor@hub.test", "supervisor-demo-pass")
API = "/api/v1/cafe"


class Taps:
    """Counts every tap the test makes on the till, as a worker's finger would."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator: Any) -> None:
        self.count += 1
        locator.click()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")


def _check(page: Any, name: str) -> None:
    assert accessibility_violations(page) == [], name
    _no_sideways_scroll(page)
    screenshot(page, name)


def _json(response: Any) -> Any:
    assert response.ok, f"{response.status} {response.text()}"
    return response.json()


def _menu(page: Any, base: str) -> dict[str, Any]:
    return dict(_json(page.request.get(f"{base}{API}/menu")))


def _products(menu: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["short_name"]: {**p, "tab": i} for i, c in enumerate(menu["categories"]) for p in c["products"]}


def _pick(products: dict[str, dict[str, Any]], *words: str, pif: str | None = None) -> dict[str, Any]:
    """The first available product whose name has one of ``words`` (in the order given)."""
    for word in words:
        for name, product in products.items():
            usable = product["available"] and product["stock_count"] != 0
            if (
                word.lower() in name.lower()
                and usable
                and (pif is None or product["pay_it_forward_kind"] == pif)
            ):
                return product
    raise AssertionError(f"no product like {words} on the demo menu: {sorted(products)}")


def _small_menu(page: Any, base: str) -> None:
    """Only if the demo has no café yet: a few items, through the API, as a supervisor."""
    token = page.evaluate("document.querySelector('input[name=_csrf]').value")
    headers = {"x-csrf-token": token}
    hot = _json(page.request.post(f"{base}{API}/categories", data={"name": "Hot drinks"}, headers=headers))
    food = _json(
        page.request.post(f"{base}{API}/categories", data={"name": "Cakes", "sort_order": 2}, headers=headers)
    )
    items: list[tuple[Any, str, int, str, dict[str, Any]]] = [
        (
            hot,
            "Coffee",
            250,
            "hot",
            {
                "allergens": ["milk"],
                "pictogram": "coffee",
                "pay_it_forward_kind": "coffee",
                "modifiers": [{"name": "Oat milk", "price_pence": 30}],
            },
        ),
        (hot, "Tea", 180, "hot", {"allergens": ["milk"]}),
        (food, "Cake", 300, "cold_food", {"allergens": ["eggs", "milk", "cereals_gluten"]}),
        (food, "Soup", 450, "hot", {"allergens": ["celery"], "pay_it_forward_kind": "meal"}),
    ]
    for category, name, price, vat_kind, extra in items:
        body = {
            "category_id": category["id"],
            "short_name": name,
            "price_pence": price,
            "vat_kind": vat_kind,
            **extra,
        }
        _json(page.request.post(f"{base}{API}/products", data=body, headers=headers))
    _json(
        page.request.post(
            f"{base}{API}/discounts",
            data={"code": "volunteer", "label": "Volunteer", "percent_bp": 5000},
            headers=headers,
        )
    )
    if not _json(page.request.get(f"{base}{API}/tills")):
        _json(page.request.post(f"{base}{API}/tills", data={"name": "Counter"}, headers=headers))
    page.reload()


@pytest.fixture(scope="module")
def till_server(live_server: str, browser: Any) -> Iterator[str]:
    """The demo hub with a session open on a till (the demo opens one on the Counter; a supervisor
    opens one here if not)."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, *SUPERVISOR)
    page.goto(f"{live_server}/till/sessions")
    if not _products(_menu(page, live_server)):
        _small_menu(page, live_server)
    open_now = _json(page.request.get(f"{live_server}{API}/sessions?status=open"))
    if not open_now:
        tills = _json(page.request.get(f"{live_server}{API}/tills"))
        page.get_by_label("Which till").select_option(str(tills[0]["id"]))
        page.get_by_label("Cash counted into the drawer to start (£)").fill("100")
        page.get_by_role("button", name="Open the till").click()
        page.wait_for_load_state()
    context.close()
    yield live_server


def _open_till(page: Any, base: str) -> None:
    sign_in(page, base, *STAFF)
    page.goto(f"{base}/till")
    page.wait_for_function("window.hubTill && window.hubTill.state.menu")
    chooser = page.locator("#choose-session")
    if chooser.is_visible():  # a tablet is told once which till it is; it remembers
        chooser.get_by_role("button").first.click()
    page.wait_for_function("window.hubTill.state.session !== null")


def _sale_uuid_when_sent(page: Any) -> str:
    """The UUID of the sale just paid, once the server has recorded it (fails with the server's
    reason if it refused it)."""
    page.wait_for_function(
        "(() => { const s = window.hubTill.state; return s.pendingReceipt && (s.lastSent === s.pendingReceipt"
        " || (s.lastProblem && s.lastProblem.uuid === s.pendingReceipt)); })()",
        timeout=15_000,
    )
    state = page.evaluate(
        "({uuid: window.hubTill.state.pendingReceipt, sent: window.hubTill.state.lastSent,"
        " problem: window.hubTill.state.lastProblem})"
    )
    assert state["sent"] == state["uuid"], state["problem"]
    page.locator("#receipt-link").wait_for(state="visible")
    return str(state["uuid"])


def _tab_and_tap(page: Any, taps: Taps, product: dict[str, Any]) -> None:
    tab = page.locator(f"#tab-{product['tab']}")
    if tab.get_attribute("aria-selected") != "true":
        taps(tab)
    taps(page.locator(f'button.product[data-product="{product["id"]}"]'))


@pytest.mark.parametrize("width", [768, 1366])
def test_the_usual_sale_in_six_taps_at_most(browser: Any, till_server: str, width: int) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 1024 if width == 768 else 900}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _open_till(page, till_server)
        products = _products(_menu(page, till_server))
        coffee = _pick(products, "Coffee", "Americano", "Latte", "Flat white")
        cake = _pick(products, "Cake", "Brownie", "Flapjack", "Scone")
        _check(page, f"till-start-{width}")

        taps = Taps()
        _tab_and_tap(page, taps, coffee)
        _tab_and_tap(page, taps, coffee)
        _tab_and_tap(page, taps, cake)
        total = coffee["price_pence"] * 2 + cake["price_pence"]
        assert page.locator("#total").inner_text() == f"£{total // 100}.{total % 100:02d}"
        assert "2 × " + coffee["short_name"] in page.locator("#lines").inner_text()
        _check(page, f"till-basket-{width}")
        taps(page.get_by_role("button", name="Cash"))
        dialog = page.get_by_role("dialog")
        assert "To pay" in dialog.inner_text()
        _check(page, f"till-pay-cash-{width}")
        # The quick amount: the next note up (or exact when nothing bigger is offered).
        quick = dialog.locator("button[data-cash]")
        note = quick.nth(1) if quick.count() > 1 else quick.first
        given = int(str(note.get_attribute("data-cash")))
        taps(note)
        assert taps.count <= 6, f"the usual sale took {taps.count} taps"
        change = given - total
        expected = f"Give change: £{change // 100}.{change % 100:02d}" if change else "No change to give"
        page.wait_for_function("document.getElementById('change').textContent !== ''")
        assert page.locator("#change").inner_text() == expected
        sale_uuid = _sale_uuid_when_sent(page)
        _check(page, f"till-paid-{width}")
        sale = _json(page.request.get(f"{till_server}{API}/sales/{sale_uuid}"))
        assert sale["total_pence"] == total and sale["change_pence"] == change
        assert [(t["method"], t["amount_pence"], t["tendered_pence"]) for t in sale["tenders"]] == [
            ("cash", total, given)
        ]
        print(f"usual sale at {width}px: {taps.count} taps")
    finally:
        context.close()


def test_undo_extras_eat_in_and_discount(page: Any, till_server: str) -> None:
    _open_till(page, till_server)
    products = _products(_menu(page, till_server))
    with_extras = next((p for p in products.values() if p["modifiers"] and p["available"]), None)
    assert with_extras, "the demo menu has an item with extras (oat milk, extra shot)"
    taps = Taps()
    _tab_and_tap(page, taps, with_extras)
    page.get_by_role("button", name=f"One more {with_extras['short_name']}").click()
    assert f"2 × {with_extras['short_name']}" in page.locator("#lines").inner_text()
    page.get_by_role("button", name=re.compile("^Undo: one more")).click()
    assert f"1 × {with_extras['short_name']}" in page.locator("#lines").inner_text()
    page.get_by_role("button", name=f"Extras for {with_extras['short_name']}").click()
    modifier = with_extras["modifiers"][0]
    page.get_by_role("dialog").get_by_role("button", name=re.compile(re.escape(modifier["name"]))).click()
    _check(page, "till-extras")
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    assert modifier["name"] in page.locator("#lines").inner_text()
    page.get_by_role("button", name="Eat in").click()
    assert page.get_by_role("button", name="✓ Eat in").get_attribute("aria-pressed") == "true"
    assert "Eat in" in page.locator("#lines").inner_text()
    discounts = _menu(page, till_server)["discounts"]
    if discounts:
        page.get_by_role("button", name="Discount").click()
        page.get_by_role("dialog").get_by_role(
            "button", name=re.compile(re.escape(discounts[0]["label"]))
        ).click()
        assert "Discount: " + discounts[0]["label"] in page.locator("#discount-line").inner_text()
    page.get_by_role("button", name="Card").click()
    page.get_by_label("Card slip number (from the machine’s slip)").fill("AUTH-4411")
    page.get_by_role("button", name="Card approved — finish").click()
    sale = _json(page.request.get(f"{till_server}{API}/sales/{_sale_uuid_when_sent(page)}"))
    line = sale["lines"][0]
    assert line["eat_in"] is True and [m["id"] for m in line["modifiers"]] == [modifier["id"]]
    assert sale["tenders"][0]["method"] == "card" and sale["tenders"][0]["reference"] == "AUTH-4411"
    if discounts:
        assert sale["discount_code"] == discounts[0]["code"]


def test_a_split_payment_card_then_cash(page: Any, till_server: str) -> None:
    _open_till(page, till_server)
    products = _products(_menu(page, till_server))
    item = _pick(products, "Soup", "Toastie", "Sandwich", "Coffee")
    taps = Taps()
    _tab_and_tap(page, taps, item)
    _tab_and_tap(page, taps, item)
    total = item["price_pence"] * 2
    page.get_by_role("button", name="Split or from the pool").click()
    page.get_by_label("Part on card (£) — the rest in cash").fill("1.00")
    page.get_by_role("button", name="Split", exact=True).click()
    page.get_by_label("Card slip number").fill("SPLIT-1")
    _check(page, "till-split")
    page.get_by_role("dialog").locator("button[data-cash]").first.click()
    sale = _json(page.request.get(f"{till_server}{API}/sales/{_sale_uuid_when_sent(page)}"))
    assert sorted((t["method"], t["amount_pence"]) for t in sale["tenders"]) == [
        ("card", 100),
        ("cash", total - 100),
    ]
    assert sale["total_pence"] == total


def test_pay_it_forward_given_then_redeemed(page: Any, till_server: str) -> None:
    _open_till(page, till_server)
    before = _menu(page, till_server)["pay_it_forward"]["coffee"]["units"]
    page.get_by_role("button", name="Pay it forward").click()
    _check(page, "till-gift")
    page.locator('button[data-gift="coffee"]').click()
    assert "pay it forward: a coffee" in page.locator("#lines").inner_text()
    page.get_by_role("button", name="Cash").click()
    page.get_by_role("dialog").locator("button[data-cash]").first.click()
    _sale_uuid_when_sent(page)
    page.wait_for_function(f"window.hubTill.state.menu.pay_it_forward.coffee.units === {before + 1}")
    assert f"{before + 1} coffee" in page.locator("#pool").inner_text()

    # Someone who needs it: a coffee from the pool, nothing to pay.
    products = _products(_menu(page, till_server))
    coffee = _pick(products, "Coffee", "Americano", "Tea", pif="coffee")
    _tab_and_tap(page, Taps(), coffee)
    page.get_by_role("button", name="Split or from the pool").click()
    page.locator("#use-pool").click()
    _check(page, "till-from-the-pool")
    page.get_by_role("button", name="All from the pool — finish").click()
    sale = _json(page.request.get(f"{till_server}{API}/sales/{_sale_uuid_when_sent(page)}"))
    assert [t["method"] for t in sale["tenders"]] == ["pay_it_forward"]
    assert _menu(page, till_server)["pay_it_forward"]["coffee"]["units"] == before


def test_a_supervisor_refunds_a_line_on_the_receipt(browser: Any, till_server: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, till_server, *SUPERVISOR)
        page.goto(f"{till_server}/till")
        page.wait_for_function("window.hubTill && window.hubTill.state.session !== null")
        products = _products(_menu(page, till_server))
        cake = _pick(products, "Cake", "Brownie", "Flapjack", "Scone")
        _tab_and_tap(page, Taps(), cake)
        page.get_by_role("button", name="Cash").click()
        page.get_by_role("dialog").locator("button[data-cash]").first.click()
        sale_uuid = _sale_uuid_when_sent(page)
        page.goto(f"{till_server}/till/sales/{sale_uuid}")
        _check(page, "till-receipt-768")
        page.get_by_label(re.compile(f"^{re.escape(cake['short_name'])}: how many to refund")).fill("1")
        page.get_by_label("Why is the money given back?").fill("Dropped on the floor")
        page.get_by_role("button", name="Refund").click()
        page.wait_for_load_state()
        assert "The refund is recorded." in page.inner_text("main")
        assert "Dropped on the floor" in page.inner_text("main")
        _check(page, "till-refunded-768")
        sale = _json(page.request.get(f"{till_server}{API}/sales/{sale_uuid}"))
        assert sale["refunds"][0]["amount_pence"] == cake["price_pence"]
        # The supervisor's other pages: sessions, X report, cash-up, allergens, menu — all pass axe.
        for path, name in (
            ("/till/sessions", "till-sessions-768"),
            ("/till/allergens", "till-allergens-768"),
            ("/cafe/menu", "cafe-menu-768"),
        ):
            page.goto(f"{till_server}{path}")
            _check(page, name)
        session_id = sale["session_id"]
        page.goto(f"{till_server}/till/sessions/{session_id}/report")
        _check(page, "till-x-report-768")
        page.goto(f"{till_server}/till/sessions/{session_id}/close")
        page.get_by_label("£50 notes").fill("1")
        assert (
            "short" in page.locator("#variance").inner_text()
            or "over" in page.locator("#variance").inner_text()
        )
        _check(page, "till-cash-up-768")
    finally:
        context.close()


def test_the_offline_queue_sends_each_sale_once_in_order(browser: Any, till_server: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _open_till(page, till_server)
        # The service worker is in charge of the till before the Wi-Fi drops.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.wait_for_function("window.hubTill && window.hubTill.state.session !== null")
        products = _products(_menu(page, till_server))
        coffee = _pick(products, "Coffee", "Americano", "Tea")

        def ring_cash() -> None:
            _tab_and_tap(page, Taps(), coffee)
            page.get_by_role("button", name="Cash").click()
            page.get_by_role("dialog").locator("button[data-cash]").first.click()

        ring_cash()
        first = _sale_uuid_when_sent(page)

        context.set_offline(True)
        ring_cash()
        page.get_by_role("button", name="Card").wait_for()
        _tab_and_tap(page, Taps(), coffee)
        page.get_by_role("button", name="Card").click()
        page.get_by_role("button", name="Card approved — finish").click()
        status = page.locator("#till-status")
        page.wait_for_function(
            "document.getElementById('till-status-text').textContent.startsWith('Offline — 2 sales waiting')"
        )
        assert "Offline — 2 sales waiting" in status.inner_text()
        _check(page, "till-offline-768")

        # The page reloads with no network (the service worker keeps it) and still knows the queue.
        page.reload()
        page.wait_for_function("window.hubTill && window.hubTill.state.session !== null")
        page.wait_for_function(
            "document.getElementById('till-status-text').textContent.startsWith('Offline — 2 sales waiting')"
        )
        ring_cash()
        page.wait_for_function(
            "document.getElementById('till-status-text').textContent.startsWith('Offline — 3 sales waiting')"
        )
        bodies = page.evaluate("window.hubTill.countQueue().then(all => all.map(r => r.body))")
        waiting = [b["uuid"] for b in bodies]
        assert len(waiting) == 3

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_function(
            "document.getElementById('till-status-text').textContent.startsWith('Online — all sales sent')",
            timeout=20_000,
        )
        session_id = page.evaluate("window.hubTill.state.session.id")
        recorded = _json(page.request.get(f"{till_server}{API}/sales?session_id={session_id}"))
        items = recorded if isinstance(recorded, list) else recorded.get("items", recorded.get("sales"))
        uuids = [s["uuid"] for s in items]
        for sale_uuid in [first, *waiting]:
            assert uuids.count(sale_uuid) == 1, sale_uuid
        numbers = {s["uuid"]: s["number"] for s in items}
        assert [numbers[u] for u in [first, *waiting]] == sorted(numbers[u] for u in [first, *waiting])

        # The same sale sent again (an answer lost on the way back) is still one sale: the first answer.
        token = page.evaluate("document.querySelector('meta[name=csrf-token]').content")
        again = page.request.post(
            f"{till_server}{API}/sales", data=bodies[0], headers={"x-csrf-token": token}
        )
        assert again.status == 200 and again.headers.get("idempotent-replay") == "true"
        assert again.json()["number"] == numbers[waiting[0]]
        recorded = _json(page.request.get(f"{till_server}{API}/sales?session_id={session_id}"))
        items = recorded if isinstance(recorded, list) else recorded.get("items", recorded.get("sales"))
        assert [s["uuid"] for s in items].count(waiting[0]) == 1
    finally:
        context.close()


def test_a_sale_the_server_refuses_is_shown_not_lost(browser: Any, till_server: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, till_server, *SUPERVISOR)
        page.goto(f"{till_server}/till")
        page.wait_for_function("window.hubTill && window.hubTill.state.session !== null")
        # A sale queued with a product the menu no longer has (as if deleted while offline).
        page.evaluate(
            """() => { const s = window.hubTill.state.session;
            return window.hubTill.enqueue({ body: { uuid: crypto.randomUUID(), session_id: s.id,
              till_id: s.till_id, rung_at: new Date().toISOString(),
              lines: [{ product_id: 999999, quantity: 1, modifier_ids: [], eat_in: false }],
              discount_code: null, gifts: [], tenders: [{ method: "card", amount_pence: 100 }] } })
              .then(() => window.hubTill.flush()); }"""
        )
        page.wait_for_function(
            "document.getElementById('till-status-text').textContent.includes('1 sale needs a supervisor')"
        )
        page.get_by_role("button", name="Sales not recorded").click()
        dialog = page.get_by_role("dialog")
        assert "Why: " in dialog.inner_text()
        _check(page, "till-refused-768")
        dialog.get_by_role("button", name="Remove from this tablet").click()
        page.wait_for_function("window.hubTill.state.problems === 0")
        assert page.get_by_role("button", name="Sales not recorded").is_hidden()
    finally:
        context.close()
