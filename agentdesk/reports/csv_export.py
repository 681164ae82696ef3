"""CSV export of a report table: a header row, numbers with a dot, empty cells where nothing to count."""

from __future__ import annotations

import csv
import io

from agentdesk.reports.report import ReportTable


def table_csv(table: ReportTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()
