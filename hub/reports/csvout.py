"""CSV that opens cleanly in a spreadsheet: UTF-8 with a byte-order mark (so Excel reads "£" and
"é"), ISO dates, money as pounds ("12.34"), and words that start like a formula (``=``, ``+``,
``-``, ``@``, tab, carriage return) neutralised with a leading apostrophe (OWASP's advice
against CSV injection). Numbers we made ourselves are typed cells and written as numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from hub.reports.cells import Area, Hours, Pounds, Share, Table

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Pounds | Hours | Share | Area):
        return value.csv()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([cell(v) for v in row])
    if table.totals:
        writer.writerow([cell(v) for v in table.totals])
    return (BOM + out.getvalue()).encode("utf-8")
