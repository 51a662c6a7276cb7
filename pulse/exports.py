"""The pulse figures as files: CSV tables and the board-ready PDF."""

from districts.csvfiles import csv_writer

from .figures import COLUMNS, GroupRow


def write_pulse_csv(handle, rows: list[GroupRow]) -> None:
    """export_pulse's contract: the header, then one row per group. SIS ids come from district
    files, so cells go through the app's formula-escaping writer like every CSV."""
    writer = csv_writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.csv_row())
