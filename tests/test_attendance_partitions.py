"""Attendance partitioned by district (students.partitions, issue 14): a district's first
attendance loads into a table of its own, attached with its foreign keys checked set-based; the
migration keeps every stored row, id and the sequence; a district whose rows are in the default
partition loads through the parent as before. PostgreSQL only: SQLite keeps one plain table."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_scopes import scope, scopes_disabled

from imports import services
from imports.models import ImportChange, ImportRun
from students import partitions
from students.models import AttendanceRecord

from .district_data import district_records
from .import_support import _media_in_tmp, build_year  # noqa: F401

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")


def _partition_of(district_id: int) -> tuple[str | None, int]:
    """(the partition's parent, its foreign keys) for the district's own table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT inhparent::regclass::text,
                      (SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f')
               FROM pg_inherits WHERE inhrelid = to_regclass(%s)""",
            [partitions.district_partition(district_id)] * 2,
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, 0)


def _rows_by_table(district_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text, count(*) FROM {partitions.TABLE} WHERE district_id = %s GROUP BY 1",
            [district_id],
        )
        return dict(cursor.fetchall())


def test_first_import_attaches_the_districts_own_partition(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    district_id = tenant_a.district.pk
    parent, foreign_keys = _partition_of(district_id)
    assert parent == partitions.TABLE
    assert foreign_keys == 3  # district, student, school: the parent's keys, validated at the ATTACH
    with scope(district=tenant_a.district):
        ids = sorted(AttendanceRecord.objects.values_list("pk", flat=True))
        (added,) = ImportChange.objects.filter(model="students.attendancerecord").values_list("row_ids", flat=True)
    assert ids and added == ids  # every row journaled as added, for the undo
    assert _rows_by_table(district_id) == {partitions.district_partition(district_id): len(ids)}


def test_undoing_a_first_import_drops_the_emptied_partition_and_the_next_import_is_first_again(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    district_id = tenant_a.district.pk
    with scope(district=tenant_a.district):
        run = ImportRun.objects.get()
        undo = services.import_run_process(run=services.import_run_undo_create(run=run))
        assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
        assert not AttendanceRecord.objects.exists()
    assert not partitions.has_partition(district_id)

    build_year(tenant_a.district, tmp_path / "again")
    assert _partition_of(district_id)[0] == partitions.TABLE


def test_a_partition_still_holding_rows_is_not_dropped(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    assert not partitions.drop_if_empty(tenant_a.district.pk)
    assert partitions.has_partition(tenant_a.district.pk)


def test_attach_refuses_a_row_whose_student_does_not_exist(tenant_a):
    district_id = tenant_a.district.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        part = partitions.create_bare(district_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {part} (district_id, student_id, school_id, date, code, category)
                    VALUES (%s, -1, %s, '2025-09-02', 'U', 'absent_unexcused')""",
                [district_id, tenant_a.school.pk],
            )
        partitions.attach(district_id)
    assert _partition_of(district_id) == (None, 0)


def test_bare_table_refuses_another_districts_row(tenant_a, tenant_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        part = partitions.create_bare(tenant_a.district.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {part} (district_id, student_id, school_id, date, code, category)
                    VALUES (%s, 1, 1, '2025-09-02', 'U', 'absent_unexcused')""",
                [tenant_b.district.pk],
            )


def test_district_with_rows_in_the_default_partition_loads_through_the_parent(tenant_a, tmp_path):
    district_records(tenant_a, prefix="A")  # one absence written through the ORM: the default partition
    build_year(tenant_a.district, tmp_path)
    district_id = tenant_a.district.pk
    assert _partition_of(district_id) == (None, 0)
    with scope(district=tenant_a.district):
        stored = AttendanceRecord.objects.count()
    assert stored > 1 and _rows_by_table(district_id) == {partitions.DEFAULT: stored}


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_two_districts_rows_and_ids(tenant_a, tenant_b):
    before, after = (
        ("students", "0002_attendance_no_district_index"),
        ("students", "0003_attendance_partitioned_by_district"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    assert not partitions.partitioned()
    with scopes_disabled():
        for tenant, prefix in ((tenant_a, "A"), (tenant_b, "B")):
            records = district_records(tenant, prefix=prefix)
            AttendanceRecord.objects.create(
                district=tenant.district,
                student=records.student,
                school=tenant.school,
                date=datetime.date(2025, 9, 3),
                code="E",
                category="absent_excused",
            )
        stored = sorted(AttendanceRecord.objects.values_list())
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    try:
        assert partitions.partitioned()
        with scopes_disabled():
            assert sorted(AttendanceRecord.objects.values_list()) == stored
            for tenant in (tenant_a, tenant_b):
                assert _partition_of(tenant.district.pk)[0] == partitions.TABLE
                assert _rows_by_table(tenant.district.pk) == {partitions.district_partition(tenant.district.pk): 2}
            # The identity sequence goes on after the moved rows.
            record = AttendanceRecord.objects.filter(district=tenant_a.district).first()
            record.pk, record.code = None, "T"
            record.save()
            assert record.pk > max(row[0] for row in stored)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
                [partitions.TABLE],
            )
            assert cursor.fetchone()[0] == "PRIMARY KEY (district_id, id)"
        executor = MigrationExecutor(connection)
        executor.migrate([before])  # and back: one plain table with the same rows
        assert not partitions.partitioned()
        with scopes_disabled():
            assert len(AttendanceRecord.objects.all()) == len(stored) + 1
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
