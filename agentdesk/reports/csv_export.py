"""CSV export of a report table: a header row, then the rows; empty cells where nothing to count.

Columns keep their machine names and cells their codes (unit `ZZM`, category `greenery`, IVR
step ids, `total`), stable for programs; beside each column of codes a `<column>_name` column
says it in the reader's language (`agentdesk.reports.names`).

Two dialects: `rfc4180` for programs (UTF-8, comma, numbers with a dot) and `excel-pl` for a
spreadsheet set to Polish (byte-order mark so Excel reads UTF-8, semicolon, decimal comma).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from agentdesk.reports.names import ReportNames
from agentdesk.reports.report import Cell, CodeKind, ReportTable

# Columns whose codes get a `_name` column (a day label is already words; "total" stays a code).
NAMED_KINDS = frozenset({CodeKind.IVR_BRANCH, CodeKind.CATEGORY, CodeKind.UNIT})

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


def table_csv(
    table: ReportTable, dialect: CSVDialect = RFC4180, names: ReportNames | None = None
) -> str:
    """The table as CSV; with `names`, a `<column>_name` column after each column of codes."""
    named = [
        i for i in range(len(table.headers)) if names is not None and table.kind(i) in NAMED_KINDS
    ]
    buffer = io.StringIO()
    if dialect.byte_order_mark:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    header: list[str] = []
    for i, column in enumerate(table.headers):
        header += [column, f"{column}_name"] if i in named else [column]
    writer.writerow(header)
    for row in table.rows:
        cells: list[str | int] = []
        for i, value in enumerate(row):
            cells.append(_cell(value, dialect))
            if i in named and names is not None:
                kind = table.kind(i) or ""
                cells.append(_cell(names.name(kind, str(value or "")), dialect))
        writer.writerow(cells)
    return buffer.getvalue()
