"""Invoices and credit notes as PDF.

The renderer takes a plain, already-computed :class:`PdfDocument` and does no arithmetic of its own,
so the PDF can never disagree with the ledger: every figure printed is one the caller worked out.
It uses only fpdf2's core Helvetica font, so there is no font file to ship, at the price of
latin-1 text; :func:`pdf_text` makes any string safe for that.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from hub.money import format_pence
from hub.text import strip_control

__all__ = ["PdfDocument", "PdfLine", "format_rate", "pdf_text", "render_pdf"]


@dataclass(frozen=True)
class PdfLine:
    description: str
    quantity: int
    supply_date: date
    net_pence: int
    vat_rate_bp: int  # basis points: 2000 = 20%, 0 = zero-rated/exempt
    vat_pence: int
    gross_pence: int


@dataclass(frozen=True)
class PdfDocument:
    title: str  # "Invoice" or "Credit note"
    number: str | None  # "INV-000123"; None for a draft
    status_label: str  # e.g. "Issued", "Paid", "Part paid", "Credited", "Draft", "Void"
    issue_date: date | None
    tax_point: date | None
    due_date: date | None
    supplier_name: str
    supplier_address: list[str]
    supplier_vat_number: str | None
    supplier_charity_number: str | None
    customer_name: str
    customer_address: list[str]
    lines: list[PdfLine]
    net_total_pence: int
    vat_total_pence: int
    gross_total_pence: int
    vat_summary: list[tuple[int, int, int]]  # (rate_bp, net_pence, vat_pence) per VAT rate
    payment_terms: str  # e.g. "Payment due within 30 days"
    payment_instructions: str  # multi-line text (bank details etc.)
    refers_to: str | None  # a credit note: the original invoice number
    reason: str  # a credit note's reason ("" for invoices)
    paid_pence: int
    credited_pence: int
    outstanding_pence: int


# Typographic characters people paste in from word processors, with the plain latin-1 text a
# reader would expect instead of the "?" that a blind encode would give.
_LOOKALIKES = str.maketrans(
    {
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',  # double prime
        "\u2026": "...",
        "\u2022": "\u00b7",  # bullet -> middle dot
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\u2007": " ",  # figure space
        "\u20ac": "EUR",  # the euro sign is not in latin-1
        "\t": " ",
        "\r": "",
        # Invisible joiners and emoji variation selectors: dropped so that one emoji becomes one "?".
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufe0e": "",
        "\ufe0f": "",
    }
)


def pdf_text(value: str) -> str:
    """Text the core PDF fonts can draw, whatever was typed into a form.

    Core fonts only have latin-1, and fpdf2 raises on anything else; an invoice must still print
    when a customer's name contains an emoji, so this never raises. NFC first, so that an "é"
    typed as "e" plus a combining accent stays an "é" rather than becoming "e?".
    """
    text = unicodedata.normalize("NFC", strip_control(value)).translate(_LOOKALIKES)
    return text.encode("latin-1", errors="replace").decode("latin-1")


def format_rate(rate_bp: int) -> str:
    """A VAT rate as people write it: "20%", "0%", "12.5%" - never "20.00%"."""
    sign = "-" if rate_bp < 0 else ""
    whole, hundredths = divmod(abs(rate_bp), 100)
    if hundredths == 0:
        return f"{sign}{whole}%"
    return f"{sign}{whole}.{f'{hundredths:02d}'.rstrip('0')}%"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _format_date(value: date) -> str:
    """Day-month-year with the month spelt out, so it reads the same to everyone (and is not %b,
    which would follow the server's locale)."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


# Layout, in millimetres on A4 (210 x 297).
_MARGIN = 15.0
_CONTENT_WIDTH = 210.0 - 2 * _MARGIN
_RIGHT_BLOCK_WIDTH = 80.0
# Description | Date of supply | Qty | Net | VAT rate | VAT | Gross: sums to _CONTENT_WIDTH.
_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("Description", 63.0, "L"),
    ("Date of supply", 26.0, "L"),
    ("Qty", 10.0, "R"),
    ("Net", 21.0, "R"),
    ("VAT rate", 18.0, "C"),  # centred: right-aligned, its heading runs into "Net"
    ("VAT", 20.0, "R"),
    ("Gross", 22.0, "R"),
)
_LINE_HEIGHT = 4.5
_GREY = (110, 110, 110)
_BLACK = (0, 0, 0)
_DRAFT_RED = (190, 20, 20)
_HEADING_FILL = (230, 230, 230)
# Fixed, so that the same document always gives the same bytes (fpdf2 would otherwise stamp "now").
_FALLBACK_CREATION_DATE = datetime(2000, 1, 1, tzinfo=UTC)


class _InvoicePdf(FPDF):
    """FPDF with a footer, so every page of a long invoice says whose it is and where it fits."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*_GREY)
        self.cell(
            0,
            4,
            f"{self._footer_text}   Page {self.page_no()} of {{nb}}",
            align="C",
        )
        self.set_text_color(*_BLACK)


def _ensure_space(pdf: FPDF, height: float) -> None:
    """Start a new page unless ``height`` fits, so a block (totals, bank details) is never split
    across a page break."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _draft_banner(doc: PdfDocument) -> str:
    return pdf_text(f"DRAFT — not a VAT {doc.title.lower()}")


def _header(pdf: FPDF, doc: PdfDocument) -> None:
    top = pdf.get_y()

    # Supplier, top-left.
    left_width = _CONTENT_WIDTH - _RIGHT_BLOCK_WIDTH - 5
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(left_width, 6, pdf_text(doc.supplier_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    for address_line in doc.supplier_address:
        pdf.multi_cell(left_width, 4.5, pdf_text(address_line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.supplier_vat_number:
        pdf.multi_cell(
            left_width,
            4.5,
            pdf_text(f"VAT registration number: {doc.supplier_vat_number}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if doc.supplier_charity_number:
        pdf.multi_cell(
            left_width,
            4.5,
            pdf_text(f"Registered charity number {doc.supplier_charity_number}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    left_bottom = pdf.get_y()

    # Title, number, status and dates, top-right.
    right_x = pdf.l_margin + _CONTENT_WIDTH - _RIGHT_BLOCK_WIDTH
    pdf.set_xy(right_x, top)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(_RIGHT_BLOCK_WIDTH, 9, pdf_text(doc.title), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    if doc.number is not None:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(_RIGHT_BLOCK_WIDTH, 6, pdf_text(doc.number), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    else:
        pdf.set_font("Helvetica", "B", 12)
        pdf.set_text_color(*_DRAFT_RED)
        pdf.cell(_RIGHT_BLOCK_WIDTH, 6, _draft_banner(doc), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_text_color(*_BLACK)
    pdf.ln(1.5)
    pdf.set_x(right_x)

    rows: list[tuple[str, str]] = [("Status", doc.status_label)]
    if doc.issue_date is not None:
        rows.append((f"{doc.title} date", _format_date(doc.issue_date)))
    if doc.tax_point is not None:
        rows.append(("Tax point (time of supply)", _format_date(doc.tax_point)))
    if doc.due_date is not None:
        rows.append(("Due date", _format_date(doc.due_date)))
    label_width = 46.0
    for label, value in rows:
        pdf.set_font("Helvetica", size=9)
        pdf.set_text_color(*_GREY)
        pdf.cell(label_width, 4.5, pdf_text(label), align="R")
        pdf.set_text_color(*_BLACK)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(_RIGHT_BLOCK_WIDTH - label_width, 4.5, pdf_text(value), align="R")
        pdf.set_xy(right_x, pdf.get_y() + 4.5)
    right_bottom = pdf.get_y()

    pdf.set_xy(pdf.l_margin, max(left_bottom, right_bottom) + 6)


def _draft_warning(pdf: FPDF, doc: PdfDocument) -> None:
    """A draft must not be mistaken for a real VAT document, so say so full-width as well."""
    pdf.set_font("Helvetica", "B", 14)
    pdf.set_text_color(*_DRAFT_RED)
    pdf.set_draw_color(*_DRAFT_RED)
    pdf.cell(0, 10, _draft_banner(doc), border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_BLACK)
    pdf.set_draw_color(*_BLACK)
    pdf.ln(5)


def _bill_to(pdf: FPDF, doc: PdfDocument) -> None:
    width = _CONTENT_WIDTH - _RIGHT_BLOCK_WIDTH - 5
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_text_color(*_GREY)
    pdf.cell(width, 5, "Bill to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_BLACK)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(width, 5.5, pdf_text(doc.customer_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    for address_line in doc.customer_address:
        pdf.multi_cell(width, 4.5, pdf_text(address_line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _lines_table(pdf: FPDF, doc: PdfDocument) -> None:
    pdf.set_font("Helvetica", size=9)
    headings = FontFace(emphasis="BOLD", fill_color=_HEADING_FILL)
    with pdf.table(
        col_widths=tuple(width for _, width, _ in _COLUMNS),
        width=_CONTENT_WIDTH,
        align="LEFT",
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=headings,
        line_height=_LINE_HEIGHT,
        padding=(1.2, 1.2, 1.2, 1.2),
        v_align="TOP",
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        heading_row = table.row()
        for heading, _, align in _COLUMNS:
            heading_row.cell(heading, align=align)
        for line in doc.lines:
            cells = (
                line.description,
                _format_date(line.supply_date),
                str(line.quantity),
                format_pence(line.net_pence),
                format_rate(line.vat_rate_bp),
                format_pence(line.vat_pence),
                format_pence(line.gross_pence),
            )
            row = table.row()
            for text, (_, _, align) in zip(cells, _COLUMNS, strict=True):
                row.cell(pdf_text(text), align=align)
    # HORIZONTAL_LINES draws no rule under the last row; close the table off.
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + _CONTENT_WIDTH, pdf.get_y())
    pdf.ln(4)


def _amounts(pdf: FPDF, x: float, y: float, rows: list[tuple[str, str, bool]]) -> float:
    """Label/value pairs right-aligned under the Gross column, the way totals are read on paper.
    Returns the y below the block."""
    label_width, value_width = 46.0, 30.0
    pdf.set_xy(x, y)
    for label, value, strong in rows:
        if strong:
            pdf.set_draw_color(*_BLACK)
            pdf.line(x, pdf.get_y(), x + label_width + value_width, pdf.get_y())
        pdf.set_font("Helvetica", "B" if strong else "", 10 if strong else 9)
        pdf.cell(label_width, 6 if strong else 5, pdf_text(label), align="R")
        pdf.cell(value_width, 6 if strong else 5, pdf_text(value), align="R")
        pdf.set_xy(x, pdf.get_y() + (6 if strong else 5))
    return pdf.get_y()


def _totals_and_vat_summary(pdf: FPDF, doc: PdfDocument) -> None:
    summary_rows = len(doc.vat_summary)
    _ensure_space(pdf, max(3 * 5.5 + 2, 5 + 5 * (summary_rows + 1)) + 4)
    top = pdf.get_y()

    # VAT summary per rate, bottom-left; a VAT invoice must show the VAT at each rate.
    bottom_left = top
    if doc.vat_summary:
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 5, "VAT summary", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        widths = (20.0, 28.0, 28.0)
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.set_fill_color(*_HEADING_FILL)
        for heading, width, align in zip(("Rate", "Net", "VAT"), widths, ("L", "R", "R"), strict=True):
            pdf.cell(width, 5, heading, align=align, fill=True)
        pdf.ln(5)
        pdf.set_font("Helvetica", size=8.5)
        for rate_bp, net, vat in doc.vat_summary:
            pdf.cell(widths[0], 5, format_rate(rate_bp))
            pdf.cell(widths[1], 5, format_pence(net), align="R")
            pdf.cell(widths[2], 5, format_pence(vat), align="R")
            pdf.ln(5)
        bottom_left = pdf.get_y()

    total_label = "Total" if doc.title.lower() != "credit note" else "Total credit"
    right_x = pdf.l_margin + _CONTENT_WIDTH - 76.0
    bottom_right = _amounts(
        pdf,
        right_x,
        top,
        [
            ("Net", format_pence(doc.net_total_pence), False),
            ("VAT", format_pence(doc.vat_total_pence), False),
            (total_label, format_pence(doc.gross_total_pence), True),
        ],
    )
    pdf.set_xy(pdf.l_margin, max(bottom_left, bottom_right) + 6)


def _credit_note_details(pdf: FPDF, doc: PdfDocument) -> None:
    if not doc.refers_to and not doc.reason:
        return
    _ensure_space(pdf, 16)
    if doc.refers_to:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(
            0, 5.5, pdf_text(f"Credit note for invoice {doc.refers_to}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    if doc.reason:
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, pdf_text(f"Reason: {doc.reason}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _balance(pdf: FPDF, doc: PdfDocument) -> None:
    _ensure_space(pdf, 3 * 5.5 + 6)
    right_x = pdf.l_margin + _CONTENT_WIDTH - 76.0
    bottom = _amounts(
        pdf,
        right_x,
        pdf.get_y(),
        [
            ("Paid", format_pence(doc.paid_pence), False),
            ("Credited", format_pence(doc.credited_pence), False),
            ("Amount due", format_pence(doc.outstanding_pence), True),
        ],
    )
    pdf.set_xy(pdf.l_margin, bottom + 6)


def _payment(pdf: FPDF, doc: PdfDocument) -> None:
    terms = pdf_text(doc.payment_terms).strip()
    instructions = pdf_text(doc.payment_instructions).strip()
    if not terms and not instructions:
        return
    # Keep the heading with at least a few lines of bank details; the rest may flow on.
    _ensure_space(pdf, 5 + 5 + 4.5 * min(4, instructions.count("\n") + 1))
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Payment", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if terms:
        pdf.set_font("Helvetica", "B", 9)
        pdf.multi_cell(0, 5, terms, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if instructions:
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 4.5, instructions, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _creation_date(doc: PdfDocument) -> datetime:
    """The document's own date rather than "now", so re-rendering an invoice reproduces its bytes."""
    when = doc.issue_date or doc.tax_point
    if when is None:
        return _FALLBACK_CREATION_DATE
    return datetime(when.year, when.month, when.day, tzinfo=UTC)


def render_pdf(doc: PdfDocument, *, compress: bool = True) -> bytes:
    """Render ``doc`` as an A4 PDF.

    ``compress=False`` leaves the page streams readable, which is what lets tests look for text in
    the bytes.
    """
    label = doc.number or _draft_banner(doc)
    pdf = _InvoicePdf(pdf_text(f"{doc.supplier_name} · {doc.title} {label}"))
    pdf.set_compression(compress)
    pdf.set_creation_date(_creation_date(doc))
    pdf.set_title(pdf_text(f"{doc.title} {label}"))
    pdf.set_author(pdf_text(doc.supplier_name))
    pdf.set_creator("Hubkeeper")
    pdf.set_producer("Hubkeeper")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()

    _header(pdf, doc)
    if doc.number is None:
        _draft_warning(pdf, doc)
    _bill_to(pdf, doc)
    _lines_table(pdf, doc)
    _totals_and_vat_summary(pdf, doc)
    _credit_note_details(pdf, doc)
    _balance(pdf, doc)
    _payment(pdf, doc)

    return bytes(pdf.output())
