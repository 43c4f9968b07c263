"""Files a person opens in a spreadsheet program (Excel, WPS): text such a program would take for a
formula stays the text it is (OWASP, CSV injection). Every CSV export writes through here."""

import csv
from collections.abc import Iterable
from typing import Any, TextIO

# A formula starts with one of the first four; a tab or carriage return in front is skipped over.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Text that would start a formula behind a single quote, which the program shows as it is, so a
    reader sees what was typed; numbers, empty cells and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


class CsvWriter:
    """csv.writer whose every cell has been through `csv_cell`."""

    def __init__(self, out: TextIO, **dialect: Any) -> None:
        self._writer = csv.writer(out, **dialect)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
