"""Invoice and credit-note PDFs: rendered uncompressed, so the text can be looked for in the bytes.

Core-font text is written latin-1 encoded, so "£" is the byte 0xA3 in these assertions.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from hub.billing.pdf import PdfDocument, PdfLine, format_rate, pdf_text, render_pdf

BANK = (
    "Bank: Co-operative Bank\nSort code: 08-92-99\nAccount number: 12345678\nReference: your invoice number"
)


def line(description: str, net: int, rate_bp: int, quantity: int = 1, day: int = 1) -> PdfLine:
    vat = (net * rate_bp + 5_000) // 10_000
    return PdfLine(
        description=description,
        quantity=quantity,
        supply_date=date(2025, 3, day),
        net_pence=net,
        vat_rate_bp=rate_bp,
        vat_pence=vat,
        gross_pence=net + vat,
    )


def invoice(**changes: object) -> PdfDocument:
    lines = [
        line("Main hall hire, Saturday evening", 10_000, 2000),
        line("Office licence fee, March", 2_500, 0, day=2),
        line("Service charge, March", 5_000, 0, quantity=2, day=3),
    ]
    doc = PdfDocument(
        title="Invoice",
        number="INV-000123",
        status_label="Issued",
        issue_date=date(2025, 3, 5),
        tax_point=date(2025, 3, 3),
        due_date=date(2025, 4, 4),
        supplier_name="Riverside Community Hub",
        supplier_address=["1 Mill Lane", "Bristol", "BS1 1AA"],
        supplier_vat_number="GB 123 4567 89",
        supplier_charity_number="1123456",
        customer_name="Acme Lettings Ltd",
        customer_address=["2 High Street", "Bath", "BA1 1AA"],
        lines=lines,
        net_total_pence=17_500,
        vat_total_pence=2_000,
        gross_total_pence=19_500,
        vat_summary=[(2000, 10_000, 2_000), (0, 7_500, 0)],
        payment_terms="Payment due within 30 days",
        payment_instructions=BANK,
        refers_to=None,
        reason="",
        paid_pence=5_000,
        credited_pence=0,
        outstanding_pence=14_500,
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page(?!s)", pdf))


def assert_is_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_invoice_with_standard_and_exempt_lines() -> None:
    pdf = render_pdf(invoice(), compress=False)

    assert_is_pdf(pdf)
    assert page_count(pdf) == 1
    for text in (
        b"(Invoice)",
        b"(INV-000123)",
        b"(Issued)",
        b"Riverside Community Hub",
        b"(1 Mill Lane)",
        b"(VAT registration number: GB 123 4567 89)",
        b"(Registered charity number 1123456)",
        b"(Bill to)",
        b"(Acme Lettings Ltd)",
        b"(BA1 1AA)",
        b"(Invoice date)",
        b"(5 Mar 2025)",
        b"(Tax point \\(time of supply\\))",
        b"(3 Mar 2025)",
        b"(Due date)",
        b"(4 Apr 2025)",
        b"(Main hall hire, Saturday evening)",
        b"(Service charge, March)",
        b"(Date of supply)",
        b"(\xa3100.00)",  # net of the standard-rated line
        b"(20%)",
        b"(\xa320.00)",
        b"(\xa3120.00)",  # its gross
        b"(0%)",
        b"(\xa325.00)",
        b"(\xa350.00)",
        b"(\xa3175.00)",  # net total
        b"(\xa3195.00)",  # total
        b"(\xa375.00)",  # exempt net in the VAT summary
        b"(VAT summary)",
        b"(Paid)",
        b"(Amount due)",
        b"(\xa3145.00)",
        b"(Payment due within 30 days)",
        b"(Sort code: 08-92-99)",
        b"(Account number: 12345678)",
        b"Page 1 of ",  # fpdf2 writes the page total as a separate text run
    ):
        assert text in pdf, text
    assert b"DRAFT" not in pdf
    assert b"Credit note for invoice" not in pdf
    # Three lines, each with its own supply date and quantity.
    assert b"(1 Mar 2025)" in pdf and b"(2 Mar 2025)" in pdf
    assert pdf.count(b"(2)") == 1


def test_vat_registration_number_only_when_registered() -> None:
    pdf = render_pdf(invoice(supplier_vat_number=None, supplier_charity_number=None), compress=False)

    assert b"VAT registration number" not in pdf
    assert b"Registered charity number" not in pdf
    assert b"(INV-000123)" in pdf


def test_credit_note() -> None:
    doc = invoice(
        title="Credit note",
        number="CN-000007",
        status_label="Issued",
        due_date=None,
        lines=[line("Hall hire – cancelled", 10_000, 2000)],
        net_total_pence=10_000,
        vat_total_pence=2_000,
        gross_total_pence=12_000,
        vat_summary=[(2000, 10_000, 2_000)],
        payment_terms="",
        payment_instructions="",
        refers_to="INV-000123",
        reason="Hall closed for a burst pipe; booking cancelled by the hub.",
        paid_pence=0,
        credited_pence=0,
        outstanding_pence=0,
    )
    pdf = render_pdf(doc, compress=False)

    assert_is_pdf(pdf)
    assert page_count(pdf) == 1
    for text in (
        b"(Credit note)",
        b"(CN-000007)",
        b"(Credit note date)",
        b"(Credit note for invoice INV-000123)",
        b"(Reason: Hall closed for a burst pipe; booking cancelled by the hub.)",
        b"(Hall hire - cancelled)",
        b"(Total credit)",
        b"(\xa3120.00)",
    ):
        assert text in pdf, text
    assert b"(Due date)" not in pdf
    assert b"(Payment)" not in pdf
    assert b"DRAFT" not in pdf


def test_draft_says_it_is_not_a_vat_invoice() -> None:
    pdf = render_pdf(
        invoice(number=None, status_label="Draft", issue_date=None, tax_point=None, due_date=None),
        compress=False,
    )

    assert_is_pdf(pdf)
    assert page_count(pdf) == 1
    # Once under the title, once as a full-width banner; the footer says it too.
    assert pdf.count(b"(DRAFT - not a VAT invoice)") == 2
    assert b"Invoice DRAFT - not a VAT invoice" in pdf
    assert b"(Draft)" in pdf
    assert b"INV-" not in pdf
    assert b"(Invoice date)" not in pdf
    assert b"(Tax point" not in pdf
    assert b"(\xa3195.00)" in pdf


def test_eighty_lines_continue_on_new_pages_with_headings_repeated() -> None:
    lines = [line(f"Desk hire, day {n:02d}", 1_000, 0, day=1 + n % 28) for n in range(1, 81)]
    doc = invoice(
        lines=lines,
        net_total_pence=80_000,
        vat_total_pence=0,
        gross_total_pence=80_000,
        vat_summary=[(0, 80_000, 0)],
        paid_pence=0,
        outstanding_pence=80_000,
    )
    pdf = render_pdf(doc, compress=False)

    assert_is_pdf(pdf)
    pages = page_count(pdf)
    assert pages == 3
    assert pdf.count(b"(Date of supply)") == pages
    assert pdf.count(b"(Description)") == pages
    assert b"Page 3 of " in pdf
    assert b"Page 4 of " not in pdf
    for n in (1, 40, 80):
        assert f"(Desk hire, day {n:02d})".encode() in pdf
    assert pdf.count(b"(\xa310.00)") == 80 * 2  # net and gross of every line
    assert b"(\xa3800.00)" in pdf


def test_long_description_wraps_inside_its_cell() -> None:
    words = " ".join(f"word{n}" for n in range(60))
    pdf = render_pdf(invoice(lines=[line(words, 10_000, 2000)]), compress=False)

    assert page_count(pdf) == 1
    assert words.encode() not in pdf
    assert b"(word0 " in pdf
    assert b" word59)" in pdf


def test_characters_outside_latin1_never_raise() -> None:
    pdf = render_pdf(
        invoice(
            customer_name="Zoë’s Café – “Crafts” 😀…",
            customer_address=["Flat 2 — Rue d’Église"],
            lines=[line("Room hire ☕ 👩‍💻", 10_000, 2000)],
        ),
        compress=False,
    )

    assert_is_pdf(pdf)
    assert b'(Zo\xeb\'s Caf\xe9 - "Crafts" ?...)' in pdf
    assert b"(Flat 2 - Rue d'\xc9glise)" in pdf
    assert b"(Room hire ? ??)" in pdf  # the joiner in the ZWJ sequence is dropped


def test_negative_amounts() -> None:
    pdf = render_pdf(invoice(lines=[line("Refund of deposit", -100, 0)]), compress=False)

    assert pdf.count(b"(-\xa31.00)") == 2  # net and gross


def test_same_document_gives_same_bytes() -> None:
    first = render_pdf(invoice())
    assert_is_pdf(first)
    assert render_pdf(invoice()) == first
    assert render_pdf(invoice(number="INV-000124")) != first


def test_pdf_text() -> None:
    assert pdf_text("a – b — c") == "a - b - c"
    assert pdf_text("‘x’ “y”") == "'x' \"y\""
    assert pdf_text("wait…") == "wait..."
    assert pdf_text("£5 café") == "£5 café"
    assert pdf_text("cafe\u0301") == "café"  # combining accent composed, not lost
    assert pdf_text("👩‍💻 ❤️") == "?? ?"  # joiner and variation selector dropped
    assert pdf_text("漢字") == "??"
    assert pdf_text("a\x00b\tc") == "ab c"


def test_format_rate() -> None:
    assert format_rate(2000) == "20%"
    assert format_rate(0) == "0%"
    assert format_rate(500) == "5%"
    assert format_rate(1250) == "12.5%"
    assert format_rate(1275) == "12.75%"
    assert format_rate(5) == "0.05%"
