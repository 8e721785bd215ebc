"""The board pack as a PDF: headline figures, the trustee's commentary, a bar chart of income by
stream and the main tables, on A4 with fpdf2's core font (latin-1: :func:`pdf_text` makes any
text safe). Every figure is one the reports computed; nothing is added up here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from fpdf import FPDF

from hub.billing.pdf import pdf_text
from hub.config import Settings
from hub.reports.cells import Table, html, numeric
from hub.reports.periods import Period
from hub.reports.tables import ReportView

_MARGIN = 14.0
_WIDTH = 210.0 - 2 * _MARGIN
_BLUE = (29, 95, 138)
_GREY = (90, 90, 90)
# The tables a board member reads first, from each report (key: report slug → table keys).
PDF_TABLES = {
    "income": ("streams",),
    "debtors": ("organisations",),
    "utilisation": ("rooms", "no-shows"),
    "impact": ("categories", "rates", "discount", "occupancy"),
    "cafe": ("summary",),
}


def _text(value: object) -> str:
    return pdf_text(html(value).replace("²", "2"))


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut (with "...") to fit ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _table(pdf: FPDF, table: Table) -> None:
    """A table drawn cell by cell (fpdf2's table() lays out each cell as a paragraph, which is
    slow for a few hundred cells and not needed for one-line figures)."""
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 5, pdf_text(table.caption), new_x="LMARGIN", new_y="NEXT")
    columns = len(table.headers)
    first = min(70.0, _WIDTH * 0.4) if columns > 2 else _WIDTH * 0.7
    rest = (_WIDTH - first) / max(1, columns - 1)
    widths = [first, *([rest] * (columns - 1))]
    numeric_columns = table.numeric_columns()
    pdf.set_font("Helvetica", "B", 7.5)
    pdf.set_fill_color(230, 230, 230)
    for index, heading in enumerate(table.headers):
        align = "R" if numeric_columns[index] else "L"
        pdf.cell(widths[index], 4.5, _fit(pdf, pdf_text(heading), widths[index] - 1), align=align, fill=True)
    pdf.ln(4.5)
    rows = [*table.rows, *([table.totals] if table.totals else [])]
    for number, values in enumerate(rows):
        if pdf.get_y() + 4 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("Helvetica", "B" if table.totals and number == len(rows) - 1 else "", 7.5)
        for index, value in enumerate(values):
            align = "R" if index and numeric(value) else "L"
            pdf.cell(widths[index], 4, _fit(pdf, _text(value), widths[index] - 1), align=align)
        pdf.ln(4)
        pdf.set_draw_color(200, 200, 200)
        pdf.line(_MARGIN, pdf.get_y(), _MARGIN + _WIDTH, pdf.get_y())
    pdf.ln(3)


def _bars(
    pdf: FPDF, title: str, labels: Sequence[str], now: Sequence[int], before: Sequence[int], fmt: object
) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    top = max([*now, *before, 1])
    label_w, value_w = 45.0, 28.0
    scale = _WIDTH - label_w - value_w
    pdf.set_font("Helvetica", size=8)
    for label, a, b in zip(labels, now, before, strict=True):
        y = pdf.get_y()
        pdf.set_xy(_MARGIN, y)
        pdf.cell(label_w - 2, 4, pdf_text(label[:28]), align="R")
        for offset, value, colour in ((0.0, a, _BLUE), (4.0, b, (176, 196, 216))):
            width = max(0.3, scale * max(0, value) / top)
            pdf.set_fill_color(*colour)
            pdf.rect(_MARGIN + label_w, y + offset + 0.3, width, 3.4, style="F")
            pdf.set_xy(_MARGIN + label_w + width + 1, y + offset)
            pdf.cell(value_w, 4, pdf_text(fmt(value)))  # type: ignore[operator]
        pdf.set_y(y + 9)
    pdf.set_text_color(*_GREY)
    pdf.cell(0, 4, "Dark: this period. Light: the same period a year before.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def board_pack_pdf(
    settings: Settings,
    period: Period,
    views: dict[str, ReportView],
    notes: dict[str, str],
    commentary: list[tuple[str, str]],
    *,
    made_on: date,
    compress: bool = True,
) -> bytes:
    from hub.money import format_pence

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_creation_date(datetime(made_on.year, made_on.month, made_on.day, tzinfo=UTC))
    pdf.set_title(pdf_text(f"Board pack, {period.label}"))
    pdf.set_author(pdf_text(settings.hub_name))
    pdf.set_creator("Hubkeeper")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, pdf_text(f"{settings.hub_name}: board pack"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(
        0,
        5,
        pdf_text(f"{period.label} ({html(period.first)} to {html(period.last)}). Prepared {html(made_on)}."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Headline figures", new_x="LMARGIN", new_y="NEXT")
    for view in views.values():
        for headline in view.headlines:
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(60, 4.5, pdf_text(headline.label))
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(
                0,
                4.5,
                pdf_text(f"{headline.value}  {headline.detail}".strip()),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        if view.message:
            pdf.set_font("Helvetica", "I", 9)
            pdf.multi_cell(0, 4.5, pdf_text(f"{view.title}: {view.message}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    written = [(label, notes.get(key, "").strip()) for key, label in commentary if notes.get(key, "").strip()]
    if written:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, "Commentary", new_x="LMARGIN", new_y="NEXT")
        for label, text in written:
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(0, 4.5, pdf_text(label), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(0, 4.5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        pdf.ln(2)
    income = views.get("income")
    streams = income.table("streams") if income else None
    if streams is not None:
        rows = [r for r in streams.rows]
        _bars(
            pdf,
            "Net income by stream",
            [str(r[0]) for r in rows],
            [r[2].pence for r in rows],
            [r[5].pence for r in rows],
            format_pence,
        )
    for slug, keys in PDF_TABLES.items():
        shown = views.get(slug)
        if shown is None:
            continue
        for key in keys:
            table = shown.table(key)
            if table is not None and table.rows:
                _table(pdf, table)
    return bytes(pdf.output())
