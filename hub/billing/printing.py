"""An invoice or credit note as a PDF: the same facts the printable page shows."""

from __future__ import annotations

from collections import defaultdict

from hub.billing.pdf import PdfDocument, PdfLine, render_pdf
from hub.billing.schemas import InvoiceOut

STATUS_LABELS = {
    "draft": "Draft",
    "issued": "Issued",
    "part_paid": "Part paid",
    "paid": "Paid",
    "void": "Void",
    "credited": "Credited",
}


def document_title(invoice: InvoiceOut) -> str:
    return "Credit note" if invoice.kind == "credit_note" else "Invoice"


def vat_summary(invoice: InvoiceOut) -> list[tuple[int, int, int]]:
    """Net and VAT per rate, as a VAT invoice must show them."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in invoice.lines:
        totals[line.vat_rate_bp][0] += line.net_pence
        totals[line.vat_rate_bp][1] += line.vat_pence
    return [(rate, net, vat) for rate, (net, vat) in sorted(totals.items())]


def invoice_pdf(invoice: InvoiceOut) -> bytes:
    terms = (
        f"Payment due within {invoice.payment_terms_days} days of the invoice date"
        if invoice.kind == "invoice"
        else ""
    )
    return render_pdf(
        PdfDocument(
            title=document_title(invoice),
            number=invoice.number,
            status_label=STATUS_LABELS.get(invoice.status, invoice.status),
            issue_date=invoice.issue_date,
            tax_point=invoice.tax_point,
            due_date=invoice.due_date,
            supplier_name=invoice.supplier_name,
            supplier_address=invoice.supplier_address,
            supplier_vat_number=invoice.supplier_vat_number,
            supplier_charity_number=invoice.supplier_charity_number,
            customer_name=invoice.customer_name,
            customer_address=invoice.customer_address,
            lines=[
                PdfLine(
                    description=line.description,
                    quantity=line.quantity,
                    supply_date=line.supply_date,
                    net_pence=line.net_pence,
                    vat_rate_bp=line.vat_rate_bp,
                    vat_pence=line.vat_pence,
                    gross_pence=line.gross_pence,
                )
                for line in invoice.lines
            ],
            net_total_pence=invoice.net_pence,
            vat_total_pence=invoice.vat_pence,
            gross_total_pence=invoice.gross_pence,
            vat_summary=vat_summary(invoice),
            payment_terms=terms,
            payment_instructions=invoice.payment_instructions if invoice.kind == "invoice" else "",
            refers_to=invoice.original_number,
            reason=invoice.reason,
            paid_pence=invoice.paid_pence,
            credited_pence=invoice.credited_pence,
            outstanding_pence=invoice.outstanding_pence,
        )
    )
