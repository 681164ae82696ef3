"""CSV export of a report table: a header row, then the rows; empty cells where nothing to count.

Two dialects: `rfc4180` for programs (UTF-8, comma, numbers with a dot) and `excel-pl` for a
spreadsheet set to Polish (byte-order mark so Excel reads UTF-8, semicolon, decimal comma).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from agentdesk.reports.report import Cell, ReportTable

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CSVDialect:
    name: str
    delimiter: str
    decimal_point: str
    byte_order_mark: bool
    text_as_text: bool  # text that looks like a formula is kept as text (leading apostrophe)


RFC4180 = CSVDialect("rfc4180", ",", ".", byte_order_mark=False, text_as_text=False)
EXCEL_PL = CSVDialect("excel-pl", ";", ",", byte_order_mark=True, text_as_text=True)
CSV_DIALECTS = {dialect.name: dialect for dialect in (RFC4180, EXCEL_PL)}


def _cell(value: Cell, dialect: CSVDialect) -> str | int:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal_point)
    if isinstance(value, str) and dialect.text_as_text and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(table: ReportTable, dialect: CSVDialect = RFC4180) -> str:
    buffer = io.StringIO()
    if dialect.byte_order_mark:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_cell(cell, dialect) for cell in row])
    return buffer.getvalue()
