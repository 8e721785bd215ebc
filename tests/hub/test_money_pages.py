"""The money pages: invoices and their actions, charges, statements and aged debt, through the
real app. Data is made through the billing services; every amount checked is exact."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.auth import Identity
from hub.billing.models import Charge, Invoice, Payment
from hub.billing.schemas import ChargeCreate, InvoiceCreate, PayNowOut
from hub.billing.services import charges, invoices, stripe_pay
from hub.billing.services.charges import Posting, post_for_source
from hub.errors import InvalidInput
from hub.forms import parse_pence
from hub.models import Role
from tests.conftest import Hub

SYSTEM = Identity.system("test")


# --- making data through the services -----------------------------------------------------------


def local_today(hub: Hub) -> date:
    return hub.client.app.state.settings.today()  # type: ignore[no-any-return]


def make_charge(
    hub: Hub,
    org_id: int,
    net_pence: int,
    description: str = "Room hire",
    *,
    vat_rate_bp: int = 0,
    supply_date: date | None = None,
) -> int:
    data = ChargeCreate(
        organisation_id=org_id,
        description=description,
        net_pence=net_pence,
        supply_date=supply_date or local_today(hub),
        vat_rate_bp=vat_rate_bp,
    )
    return hub.run(lambda db: charges.create_manual(db, SYSTEM, data)).id


def make_invoice(
    hub: Hub, org_id: int, *nets: int, issue: bool = True, vat_rate_bp: int = 0, on: date | None = None
) -> int:
    """An invoice with one line per net amount (described "Line 1", "Line 2", …), issued ``on``."""
    ids = [
        make_charge(hub, org_id, net, f"Line {n}", vat_rate_bp=vat_rate_bp) for n, net in enumerate(nets, 1)
    ]
    settings = hub.client.app.state.settings
    data = InvoiceCreate(organisation_id=org_id, charge_ids=ids, issue=issue)
    return hub.run(lambda db: invoices.create_invoice(db, settings, SYSTEM, data, on=on)).id


def number_of(hub: Hub, invoice_id: int) -> str:
    invoice = hub.run(lambda db: invoices.get_invoice(db, SYSTEM, invoice_id))
    assert invoice.number_text is not None
    return invoice.number_text


def count(hub: Hub, model: Any) -> int:
    async def work(db: Any) -> int:
        return int(await db.scalar(select(func.count()).select_from(model)))

    return hub.run(work)


def text_of(html: str) -> str:
    """The page's words, tags removed and spaces squeezed: for asserting what a person reads."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post(hub: Hub, path: str, data: dict[str, str], page: str | None = None) -> Any:
    token = hub.csrf(page or path.rsplit("/", 1)[0])
    return hub.client.post(path, data={"_csrf": token, **data}, follow_redirects=False)


def pay(hub: Hub, invoice_id: int, amount: str, **extra: str) -> Any:
    return post(
        hub,
        f"/invoices/{invoice_id}/payments",
        {"amount": amount, "received_on": local_today(hub).isoformat(), "method": "bacs", **extra},
        page=f"/invoices/{invoice_id}",
    )


def follow(hub: Hub, response: Any) -> str:
    assert response.status_code == 303, response.text[:2000]
    return text_of(hub.client.get(response.headers["location"]).text)


# --- typed money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("12.50", 1250), ("£12.50", 1250), ("12", 1200), ("12.5", 1250), ("£1,250.05", 125_005), (" 0.01 ", 1)],
)
def test_amounts_people_type_become_pence(typed: str, pence: int) -> None:
    assert parse_pence(typed, "amount") == pence


@pytest.mark.parametrize(
    "typed", ["", "-5", "£-5", "12.345", "12.505", "abc", "1.2.3", "0", "2000000", "1e3"]
)
def test_amounts_that_are_not_money_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_pence(typed, "amount")
    assert caught.value.errors[0].field == "amount"


# --- the list -----------------------------------------------------------------------------------


def test_invoice_list_filters_by_status_organisation_overdue_and_search(hub: Hub) -> None:
    harbour = hub.make_org("Harbour Art Group")
    wyre = hub.make_org("Wyre Carers")
    late = make_invoice(hub, wyre, 4_000, on=local_today(hub) - timedelta(days=45))
    current = make_invoice(hub, harbour, 2_500)
    draft = make_invoice(hub, harbour, 1_000, issue=False)
    hub.login_as(Role.RECEPTIONIST)

    everything = text_of(hub.client.get("/invoices").text)
    assert "3 documents found." in everything
    assert "New invoice" in everything

    overdue = text_of(hub.client.get("/invoices", params={"overdue": "yes"}).text)
    assert "1 document found." in overdue
    assert f"{number_of(hub, late)} Wyre Carers" in overdue
    assert "Issued ! Overdue" in overdue and "£40.00 £40.00" in overdue

    drafts = text_of(hub.client.get("/invoices", params={"status": "draft"}).text)
    assert "1 document found." in drafts and f"Draft {draft} Harbour Art Group" in drafts

    harbour_only = text_of(hub.client.get("/invoices", params={"organisation_id": str(harbour)}).text)
    assert "2 documents found." in harbour_only and "Wyre Carers £" not in harbour_only

    searched = text_of(hub.client.get("/invoices", params={"q": number_of(hub, current)}).text)
    assert "1 document found." in searched and "£25.00" in searched

    by_name = text_of(hub.client.get("/invoices", params={"q": "wyre"}).text)
    assert "1 document found." in by_name

    bad = hub.client.get("/invoices", params={"status": "lost", "organisation_id": "x"})
    assert bad.status_code == 200
    assert 'id="status-error"' in bad.text and 'id="organisation_id-error"' in bad.text


# --- a new invoice ------------------------------------------------------------------------------


def test_new_invoice_form_issues_an_invoice_for_the_ticked_charges(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    hire = make_charge(hub, org, 3_000, "Main hall hire")
    cleaning = make_charge(hub, org, 2_500, "Extra cleaning", vat_rate_bp=2_000)
    key = make_charge(hub, org, 700, "Lost key")
    hub.login_as(Role.RECEPTIONIST)

    form = hub.client.get("/invoices/new", params={"organisation_id": str(org)}).text
    for charge_id in (hire, cleaning, key):
        assert f'name="charge-{charge_id}" value="yes" checked' in form  # all ticked to start with

    response = post(
        hub,
        "/invoices/new",
        {"organisation_id": str(org), f"charge-{hire}": "yes", f"charge-{cleaning}": "yes", "issue": "now"},
        page=f"/invoices/new?organisation_id={org}",
    )
    page = follow(hub, response)
    assert "Invoice INV-000001 for £60.00 was issued to Harbour Art Group." in page
    assert "Main hall hire" in page and "Extra cleaning" in page and "Lost key" not in page
    assert "Totals £55.00 £5.00 £60.00" in page
    assert "20% £25.00 £5.00" in page  # the VAT summary per rate

    left = hub.run(lambda db: charges.list_charges(db, SYSTEM, organisation_id=org, status="open"))
    assert [c.id for c in left.items] == [key]


def test_new_invoice_can_be_saved_as_a_draft_then_issued(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    hire = make_charge(hub, org, 3_000)
    hub.login_as(Role.RECEPTIONIST)
    response = post(
        hub,
        "/invoices/new",
        {"organisation_id": str(org), f"charge-{hire}": "yes", "issue": "draft", "notes": "PO 4471"},
        page="/invoices/new",
    )
    page = follow(hub, response)
    assert "Draft invoice for £30.00 was saved." in page
    assert "This invoice is a draft" in page and "PO 4471" in page
    invoice_id = int(response.headers["location"].rsplit("/", 1)[1])
    issued = follow(hub, post(hub, f"/invoices/{invoice_id}/issue", {}, page=f"/invoices/{invoice_id}"))
    assert "Invoice INV-000001 was issued." in issued


def test_new_invoice_with_nothing_ticked_says_so_and_writes_nothing(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    hire = make_charge(hub, org, 3_000, "Main hall hire")
    hub.login_as(Role.RECEPTIONIST)
    response = post(hub, "/invoices/new", {"organisation_id": str(org), "issue": "now"}, page="/invoices/new")
    assert response.status_code == 422
    assert 'id="charges-error"' in response.text and 'id="error-summary"' in response.text
    assert f'name="charge-{hire}" value="yes">' in response.text  # left unticked, as it was sent
    assert count(hub, Invoice) == 0


def test_invoice_everything_open_for_one_source_from_its_page(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    other = hub.make_org("Wyre Carers")
    posting = Posting(
        source_key="booking:77:hire",
        source_type="booking",
        source_id="77",
        organisation_id=org,
        description="Main hall, Tue 3 Nov 10:00–12:00",
        supply_date=local_today(hub),
        net_pence=4_500,
        vat_rate_bp=0,
        stream="room_hire",
    )

    async def post_charge(db: Any) -> None:
        await post_for_source(db, SYSTEM, [posting], "price changed")
        await db.commit()

    hub.run(post_charge)
    hub.login_as(Role.RECEPTIONIST)
    # The charge links to the thing charged for, as its module's charge source says.
    listed = hub.client.get("/charges", params={"organisation_id": str(org)}).text
    assert 'Room hire · <a href="/desk/bookings/77">room booking</a>' in listed
    wrong = post(hub, "/invoices/for-source/booking/77", {"organisation_id": str(other)}, page="/invoices")
    assert wrong.status_code == 303 and wrong.headers["location"] == "/desk/bookings/77"
    assert count(hub, Invoice) == 0
    flash = hub.client.get("/invoices").text  # the flash cookie is shown on the next page
    assert "This room booking was not invoiced: Wyre Carers has no uninvoiced charges" in text_of(flash)

    nobody = post(hub, "/invoices/for-source/booking/77", {"organisation_id": ""}, page="/invoices")
    assert nobody.headers["location"] == "/desk/bookings/77"
    assert "This room booking was not invoiced: it has no organisation to invoice" in text_of(
        hub.client.get("/invoices").text
    )

    made = post(hub, "/invoices/for-source/booking/77", {"organisation_id": str(org)}, page="/invoices")
    page = follow(hub, made)
    assert "Invoice INV-000001 for £45.00 was issued for this room booking." in page
    assert "Main hall, Tue 3 Nov 10:00–12:00" in page


# --- payments -----------------------------------------------------------------------------------


def test_part_payment_then_the_rest(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 10_000, vat_rate_bp=2_000)  # £120.00
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/invoices/{invoice_id}").text
    assert 'id="amount" name="amount" type="text" inputmode="decimal"' in page
    assert 'value="120.00"' in page  # the amount defaults to what is outstanding

    first = follow(hub, pay(hub, invoice_id, "£50", reference="BACS 1142"))
    assert "Payment of £50.00 recorded against INV-000001. £70.00 is still owed." in first
    assert "Status: Part paid" in first
    assert "Outstanding £70.00" in first and "Paid £50.00" in first
    assert "BACS 1142" in first

    second = follow(hub, pay(hub, invoice_id, "70.00", method="cheque"))
    assert "Payment of £70.00 recorded against INV-000001. It is now paid in full." in second
    assert "Status: Paid" in second and "Outstanding £0.00" in second
    assert "Record a payment" not in second  # nothing left to pay


def test_over_payment_is_kept_as_credit(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 2_000)
    hub.login_as(Role.RECEPTIONIST)
    page = follow(hub, pay(hub, invoice_id, "25.00", method="cash"))
    assert "£5.00 kept as credit for Harbour Art Group." in page
    assert "Status: Paid" in page
    aged = text_of(hub.client.get("/debt").text)
    assert "Harbour Art Group £0.00 £0.00 £0.00 £0.00 £0.00 £5.00 -£5.00" in aged


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("-5", "Enter the amount without a minus sign."),
        ("12.345", "Enter pounds and pence, with no more than two digits after the point."),
        ("", "Enter an amount in pounds, such as 12.50."),
        ("twelve", "Enter an amount in pounds, such as 12.50."),
        ("5000000", "That is more than £1,000,000.00; check the amount."),
    ],
)
def test_a_bad_amount_is_shown_beside_the_field_and_nothing_is_written(
    hub: Hub, typed: str, reason: str
) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 2_000)
    hub.login_as(Role.RECEPTIONIST)
    response = pay(hub, invoice_id, typed, reference="kept ref")
    assert response.status_code == 422
    html = response.text
    assert (
        f'<p class="field-error" id="amount-error"><span class="visually-hidden">Error:</span> {reason}</p>'
        in html
    )
    assert 'id="error-summary"' in html and 'href="#amount"' in html
    assert 'aria-invalid="true" aria-describedby="amount-hint amount-error"' in html
    assert f'value="{typed}"' in html and 'value="kept ref"' in html  # what was typed is kept
    assert count(hub, Payment) == 0


def test_a_future_date_and_a_missing_method_are_both_reported(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 2_000)
    hub.login_as(Role.RECEPTIONIST)
    tomorrow = (local_today(hub) + timedelta(days=1)).isoformat()
    response = pay(hub, invoice_id, "10", received_on=tomorrow, method="")
    assert response.status_code == 422
    assert 'id="method-error"' in response.text
    assert count(hub, Payment) == 0
    future = pay(hub, invoice_id, "10", received_on=tomorrow)
    assert future.status_code == 422
    assert "a payment cannot be received in the future" in future.text
    assert 'id="received_on-error"' in future.text
    assert count(hub, Payment) == 0


def test_refund_of_a_payment_reopens_the_invoice(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 6_000)
    hub.login_as(Role.RECEPTIONIST)
    follow(hub, pay(hub, invoice_id, "60"))
    payment_id = hub.run(lambda db: db.scalar(select(Payment.id)))
    page = hub.client.get(f"/invoices/{invoice_id}").text
    assert "Refund a payment" in page
    assert f'<option value="{payment_id}" selected>Bank transfer (BACS) of £60.00 received' in page

    too_much = post(
        hub,
        f"/invoices/{invoice_id}/refunds",
        {"refund_payment": str(payment_id), "refund_amount": "75", "refund_reason": "Hall closed"},
        page=f"/invoices/{invoice_id}",
    )
    assert too_much.status_code == 422
    assert 'id="refund_amount-error"' in too_much.text
    assert count(hub, Payment) == 1

    done = post(
        hub,
        f"/invoices/{invoice_id}/refunds",
        {
            "refund_payment": str(payment_id),
            "refund_amount": "£20.00",
            "refund_reason": "Hall closed early",
        },
        page=f"/invoices/{invoice_id}",
    )
    page_text = follow(hub, done)
    assert "Refund of £20.00 recorded." in page_text
    assert "Status: Part paid" in page_text and "Outstanding £20.00" in page_text
    assert "Refund (Bank transfer (BACS)) Refund of payment" in page_text and "-£20.00" in page_text


# --- credit notes and drafts --------------------------------------------------------------------


def test_credit_the_whole_invoice_from_the_page(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 3_000, 1_000, vat_rate_bp=2_000)  # £48.00
    hub.login_as(Role.RECEPTIONIST)
    response = post(
        hub,
        f"/invoices/{invoice_id}/credit-notes",
        {"credit_reason": "Event cancelled by the hub", "credit_scope": "whole"},
        page=f"/invoices/{invoice_id}",
    )
    note = follow(hub, response)
    assert "Credit note CN-000001 for £48.00 was issued against INV-000001." in note
    assert "Credit note for invoice INV-000001 . Reason: Event cancelled by the hub" in note
    original = text_of(hub.client.get(f"/invoices/{invoice_id}").text)
    assert (
        "Status: Credited" in original and "Credited £48.00" in original and "Outstanding £0.00" in original
    )
    assert "Credit notes against this invoice Number Date Amount CN-000001" in original
    assert "Issue a credit note" not in original  # nothing left to credit


def test_credit_part_of_some_lines(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 3_000, 1_000, vat_rate_bp=2_000)
    hub.login_as(Role.RECEPTIONIST)
    too_much = post(
        hub,
        f"/invoices/{invoice_id}/credit-notes",
        {"credit_reason": "Shorter booking", "credit_scope": "lines", "line-1": "10", "line-2": "12.00"},
        page=f"/invoices/{invoice_id}",
    )
    assert too_much.status_code == 422
    assert (
        'id="line-2-error"' in too_much.text and "only £10.00 of this line is left to credit" in too_much.text
    )
    assert 'value="12.00"' in too_much.text and count(hub, Invoice) == 1

    bad = post(
        hub,
        f"/invoices/{invoice_id}/credit-notes",
        {"credit_reason": "", "credit_scope": "lines", "line-1": "1.234"},
        page=f"/invoices/{invoice_id}",
    )
    assert bad.status_code == 422
    assert 'id="line-1-error"' in bad.text and 'id="credit_reason-error"' in bad.text
    assert count(hub, Invoice) == 1

    response = post(
        hub,
        f"/invoices/{invoice_id}/credit-notes",
        {"credit_reason": "Shorter booking", "credit_scope": "lines", "line-1": "10", "line-2": ""},
        page=f"/invoices/{invoice_id}",
    )
    note = follow(hub, response)
    assert "Credit note CN-000001 for £12.00 was issued against INV-000001." in note
    original = text_of(hub.client.get(f"/invoices/{invoice_id}").text)
    assert "Credited £12.00" in original and "Outstanding £36.00" in original
    assert "£10.00 net credited" in original
    assert "Issue a credit note" in original  # the rest can still be credited


def test_void_a_draft_needs_a_reason(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 3_000, issue=False)
    hub.login_as(Role.RECEPTIONIST)
    missing = post(hub, f"/invoices/{invoice_id}/void", {"void_reason": ""}, page=f"/invoices/{invoice_id}")
    assert missing.status_code == 422 and 'id="void_reason-error"' in missing.text
    assert '<details class="money-subpanel" id="void" open>' in missing.text
    voided = follow(hub, post(hub, f"/invoices/{invoice_id}/void", {"void_reason": "Wrong organisation"}))
    assert "The draft was voided. Its charges are open to invoice again." in voided
    assert "Status: Void" in voided and "Wrong organisation" in voided
    left = hub.run(lambda db: charges.list_charges(db, SYSTEM, organisation_id=org, status="open"))
    assert [c.net_pence for c in left.items] == [3_000]


# --- documents ----------------------------------------------------------------------------------


def test_pdf_of_an_invoice_and_of_a_draft(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 3_000)
    draft_id = make_invoice(hub, org, 1_000, issue=False)
    hub.login_as(Role.RECEPTIONIST)
    pdf = hub.client.get(f"/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'inline; filename="INV-000001.pdf"'
    assert pdf.content.startswith(b"%PDF")
    draft = hub.client.get(f"/invoices/{draft_id}.pdf")
    assert draft.headers["content-disposition"] == f'inline; filename="draft-invoice-{draft_id}.pdf"'
    assert hub.client.get("/invoices/424242.pdf").status_code == 404
    assert hub.client.get("/invoices/abc.pdf").status_code == 404


def test_print_page_is_the_document_alone(hub: Hub) -> None:
    org = hub.make_org(
        "Harbour Art Group", address_line1="1 Dock Street", town="Fleetwood", postcode="FY7 6HP"
    )
    invoice_id = make_invoice(hub, org, 3_000)
    hub.login_as(Role.RECEPTIONIST)
    html = hub.client.get(f"/invoices/{invoice_id}/print").text
    assert 'aria-label="Main"' not in html and "Sign out" not in html and "Record a payment" not in html
    page = text_of(html)
    assert "Invoice INV-000001" in page and "To Harbour Art Group 1 Dock Street Fleetwood FY7 6HP" in page
    assert "Totals £30.00 £0.00 £30.00" in page
    assert 'class="money-print"' in html


# --- statement and aged debt --------------------------------------------------------------------


def test_statement_shows_a_running_balance(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    today = local_today(hub)
    first = make_invoice(hub, org, 10_000, on=today - timedelta(days=10))
    second = make_invoice(hub, org, 5_000)
    hub.login_as(Role.RECEPTIONIST)
    follow(hub, pay(hub, first, "30", reference="BACS 77"))
    html = hub.client.get(f"/organisations/{org}/statement").text
    page = text_of(html)
    assert "Opening balance £0.00" in page
    first_day = f"{(today - timedelta(days=10)).day} {today - timedelta(days=10):%b %Y}"
    today_text = f"{today.day} {today:%b %Y}"
    assert f"{first_day} Invoice INV-000001 Due" in page and "£100.00 £100.00" in page
    assert f"{today_text} Invoice INV-000002" in page and "£50.00 £150.00" in page
    assert f"{today_text} Payment BACS 77 Bank transfer (BACS) £30.00 £120.00" in page
    assert "Closing balance £120.00" in page
    assert f'href="/invoices/{second}"' in html

    narrowed = text_of(
        hub.client.get(f"/organisations/{org}/statement", params={"from": today.isoformat()}).text
    )
    assert "Opening balance £100.00" in narrowed and "Closing balance £120.00" in narrowed
    wrong = hub.client.get(
        f"/organisations/{org}/statement", params={"from": today.isoformat(), "to": "2000-01-01"}
    )
    assert wrong.status_code == 422 and 'id="from-error"' in wrong.text
    rubbish = hub.client.get(f"/organisations/{org}/statement", params={"from": "soon"})
    assert rubbish.status_code == 422 and "Enter a real date" in rubbish.text


def test_aged_debt_buckets_and_totals(hub: Hub) -> None:
    harbour = hub.make_org("Harbour Art Group")
    wyre = hub.make_org("Wyre Carers")
    today = local_today(hub)
    make_invoice(hub, harbour, 9_000, on=today - timedelta(days=95))
    make_invoice(hub, harbour, 3_000, on=today - timedelta(days=40))
    make_invoice(hub, wyre, 1_500)
    hub.login_as(Role.TRUSTEE)
    html = hub.client.get("/debt").text
    page = text_of(html)
    assert f"Aged debt at {today.day} {today:%B %Y}" in page
    assert "Harbour Art Group £0.00 £30.00 £0.00 £90.00 £120.00 £0.00 £120.00" in page
    assert "Wyre Carers £15.00 £0.00 £0.00 £0.00 £0.00 £0.00 £15.00" in page
    assert "Total £15.00 £30.00 £0.00 £90.00 £120.00 £0.00 £135.00" in page
    assert f'href="/organisations/{harbour}/statement"' in html
    assert '<th scope="col" class="num">90+ days</th>' in html


# --- charges ------------------------------------------------------------------------------------


def test_add_and_cancel_a_charge_through_the_page(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    hub.login_as(Role.RECEPTIONIST)
    form = {
        "organisation": str(org),
        "description": "Extra cleaning",
        "amount": "£12.50",
        "vat_rate": "2000",
        "supply_date": local_today(hub).isoformat(),
        "stream": "other",
    }
    bad = post(hub, "/charges", {**form, "amount": "12.505", "description": ""}, page="/charges")
    assert bad.status_code == 422
    assert 'id="amount-error"' in bad.text and 'id="description-error"' in bad.text
    assert '<details class="panel" id="add" open>' in bad.text
    assert count(hub, Charge) == 0

    page = follow(hub, post(hub, "/charges", form, page="/charges"))
    assert "Charge “Extra cleaning” for £15.00 was added." in page
    # The stream as its module declares it (hub.plugin: "other" is "Other income").
    assert "Harbour Art Group Extra cleaning Other income £12.50 £2.50 (20%) £15.00 Open" in page
    charge_id = hub.run(lambda db: db.scalar(select(Charge.id)))

    no_reason = post(hub, f"/charges/{charge_id}/cancel", {f"cancel-{charge_id}": ""}, page="/charges")
    assert no_reason.status_code == 422 and f'id="cancel-{charge_id}-error"' in no_reason.text
    cancelled = follow(
        hub,
        post(hub, f"/charges/{charge_id}/cancel", {f"cancel-{charge_id}": "Added twice"}, page="/charges"),
    )
    assert "Charge “Extra cleaning” was cancelled." in cancelled
    listed = text_of(hub.client.get("/charges", params={"status": "cancelled"}).text)
    assert "Cancelled Added twice" in listed


# --- who sees what ------------------------------------------------------------------------------


def test_a_tenant_sees_only_its_own_issued_invoices(hub: Hub) -> None:
    own = hub.make_org("Coastal Youth Trust")
    other = hub.make_org("Wyre Carers")
    mine = make_invoice(hub, own, 2_000)
    own_draft = make_invoice(hub, own, 500, issue=False)
    theirs = make_invoice(hub, other, 9_900)
    hub.login_as(Role.TENANT, organisation_id=own)

    listed = hub.client.get("/invoices").text
    words = text_of(listed)
    assert "1 document found." in words and number_of(hub, mine) in words
    assert number_of(hub, theirs) not in words and "Wyre Carers" not in listed
    assert 'id="organisation_id"' not in listed  # no list of other organisations
    assert "New invoice" not in words
    assert "Wyre Carers" not in hub.client.get("/invoices", params={"organisation_id": str(other)}).text
    assert '<option value="draft"' not in listed

    for path in (
        f"/invoices/{theirs}",
        f"/invoices/{theirs}.pdf",
        f"/invoices/{theirs}/print",
        f"/invoices/{own_draft}",
        f"/invoices/{own_draft}.pdf",
        f"/organisations/{other}/statement",
    ):
        response = hub.client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.text and "Wyre Carers" not in response.text

    page = hub.client.get(f"/invoices/{mine}").text
    assert "Pay by bank transfer" in page
    for action in ("/payments", "/credit-notes", "/refunds", "/issue", "/void"):
        assert f'action="/invoices/{mine}{action}"' not in page
    assert hub.client.get(f"/invoices/{mine}.pdf").headers["content-type"] == "application/pdf"
    assert hub.client.get(f"/organisations/{own}/statement").status_code == 200
    for path in ("/charges", "/debt", "/invoices/new"):
        assert hub.client.get(path).status_code == 403, path
    denied = hub.client.post(
        f"/invoices/{mine}/payments",
        data={"_csrf": hub.csrf("/invoices"), "amount": "20", "method": "cash", "received_on": "2026-01-01"},
    )
    assert denied.status_code == 403 and count(hub, Payment) == 0


def test_a_trustee_reads_everything_but_has_no_action_forms(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 2_000)
    draft_id = make_invoice(hub, org, 500, issue=False)
    hub.login_as(Role.TRUSTEE)
    listed = text_of(hub.client.get("/invoices").text)
    assert "2 documents found." in listed and "New invoice" not in listed
    for shown in (invoice_id, draft_id):
        html = hub.client.get(f"/invoices/{shown}").text
        assert 'action="/invoices/' not in html
        assert "Record a payment" not in html and "Issue a credit note" not in html
    assert hub.client.get("/debt").status_code == 200
    assert hub.client.get(f"/organisations/{org}/statement").status_code == 200
    assert hub.client.get("/charges").status_code == 403
    assert hub.client.get(f"/invoices/{invoice_id}/pay").status_code == 403


@pytest.mark.parametrize("role", [Role.CAFE, Role.CAFE_SUPERVISOR])
def test_cafe_roles_are_refused(hub: Hub, role: Role) -> None:
    org = hub.make_org("Harbour Art Group")
    invoice_id = make_invoice(hub, org, 2_000)
    hub.login_as(role)
    for path in ("/invoices", f"/invoices/{invoice_id}", f"/invoices/{invoice_id}.pdf", "/debt", "/charges"):
        response = hub.client.get(path)
        assert response.status_code == 403, path
        assert "Harbour Art Group" not in response.text


def test_signed_out_visitors_are_sent_to_sign_in(hub: Hub) -> None:
    response = hub.client.get("/invoices", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login?next=/invoices"


def test_pay_now_without_stripe_points_to_bank_transfer(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust")
    invoice_id = make_invoice(hub, org, 2_000)
    hub.login_as(Role.TENANT, organisation_id=org)
    response = hub.client.get(f"/invoices/{invoice_id}/pay", follow_redirects=False)
    page = follow(hub, response)
    assert "Online payment is not available: online payment is not set up here; pay by bank transfer" in page
    assert "Pay by bank transfer" in page


def test_nav_shows_the_money_pages_to_staff(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    html = hub.client.get("/").text
    for href, label in (("/invoices", "Invoices"), ("/charges", "Charges"), ("/debt", "Aged debt")):
        assert f'<a href="{href}">{label}</a>' in html


def test_pay_now_page_mounts_stripe_for_what_is_owed(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    org = hub.make_org("Coastal Youth Trust")
    invoice_id = make_invoice(hub, org, 2_000)
    settings = hub.client.app.state.settings
    hub.client.app.state.settings = replace(
        settings, stripe_secret_key="sk_test_page", stripe_publishable_key="pk_test_page"
    )
    asked: list[int] = []

    async def fake_pay_now(db: Any, settings: Any, viewer: Identity, invoice: int) -> PayNowOut:
        asked.append(invoice)
        return PayNowOut("pi_123", "pi_123_secret_456", 2_000, "gbp", settings.stripe_publishable_key)

    monkeypatch.setattr(stripe_pay, "pay_now", fake_pay_now)
    hub.login_as(Role.TENANT, organisation_id=org)
    page = hub.client.get(f"/invoices/{invoice_id}").text
    assert f'<a class="button primary" href="/invoices/{invoice_id}/pay">Pay £20.00 now by card</a>' in page
    assert "Pay by bank transfer" not in page

    pay = hub.client.get(f"/invoices/{invoice_id}/pay").text
    assert asked == [invoice_id]
    assert "Amount to pay: £20.00" in text_of(pay)
    assert 'data-publishable-key="pk_test_page" data-client-secret="pi_123_secret_456"' in pay
    assert f'data-return-url="/invoices/{invoice_id}"' in pay
    assert '<div id="payment-element">' in pay and 'aria-live="polite"' in pay
    assert '<script src="https://js.stripe.com/v3/"></script>' in pay

    back = text_of(hub.client.get(f"/invoices/{invoice_id}", params={"redirect_status": "succeeded"}).text)
    assert "Thank you: your card payment was accepted." in back


def test_the_monthly_billing_run_page_invoices_once_and_says_so(hub: Hub) -> None:
    youth = hub.make_org("Coastal Youth Trust")
    art = hub.make_org("Harbour Art Group")
    make_charge(hub, youth, 2_400, "Youth club", supply_date=date(2026, 10, 6))
    make_charge(hub, youth, 1_200, "Youth club", supply_date=date(2026, 10, 13))
    make_charge(hub, art, 900, "Art studio", supply_date=date(2026, 10, 20))
    make_charge(hub, art, 500, "Art studio", supply_date=date(2026, 11, 3))  # next month's: stays open
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get("/invoices/billing-run")
    assert page.status_code == 200
    last_month = (local_today(hub).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert f'value="{last_month}"' in page.text
    response = post(hub, "/invoices/billing-run", {"month": "2026-10"}, page="/invoices/billing-run")
    assert response.status_code == 200, response.text
    words = text_of(response.text)
    assert "2 invoices for charges to the end of 2026-10, £45.00 in all" in words
    assert "INV-000001 Coastal Youth Trust £36.00" in words
    assert "INV-000002 Harbour Art Group £9.00" in words
    again = post(hub, "/invoices/billing-run", {"month": "2026-10"}, page="/invoices/billing-run")
    assert (
        "Nothing to invoice: every charge supplied by the end of 2026-10 is already on an invoice."
        in text_of(again.text)
    )
    assert count(hub, Invoice) == 2


def test_the_billing_run_page_refuses_a_bad_month_beside_the_field(hub: Hub) -> None:
    hub.login_as(Role.RECEPTIONIST)
    for month, reason in (
        ("", "Choose the month to invoice."),
        ("2026-13", "expected a month such as 2026-11"),
    ):
        response = post(hub, "/invoices/billing-run", {"month": month}, page="/invoices/billing-run")
        assert response.status_code == 422
        assert 'id="month-error"' in response.text
        assert reason in text_of(response.text)
    assert count(hub, Invoice) == 0


def test_only_staff_run_the_billing(hub: Hub) -> None:
    org = hub.make_org("Tenant Group")
    hub.login_as(Role.TENANT, organisation_id=org)
    assert hub.client.get("/invoices/billing-run").status_code == 403
    hub.login_as(Role.TRUSTEE)
    assert hub.client.get("/invoices/billing-run").status_code == 403


def test_invoicing_an_unknown_source_goes_back_to_the_invoices_with_the_reason(hub: Hub) -> None:
    org = hub.make_org("Harbour Art Group")
    hub.login_as(Role.RECEPTIONIST)
    refused = post(hub, "/invoices/for-source/locker/3", {"organisation_id": str(org)}, page="/invoices")
    assert refused.status_code == 303 and refused.headers["location"] == "/invoices"
    assert "This locker was not invoiced: no charge source is called 'locker'; choose one of: " in text_of(
        hub.client.get("/invoices").text
    )
    assert count(hub, Invoice) == 0
