"""The pulse figures as files: CSV tables and the board-ready PDF."""

import csv

from .figures import COLUMNS, GroupRow


def write_pulse_csv(handle, rows: list[GroupRow]) -> None:
    """export_pulse's contract: the header, then one row per group (no free text to escape:
    levels, SIS ids, grades, subgroup codes and counts)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.csv_row())
