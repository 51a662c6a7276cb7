"""Attendance, enrollments, calendar days and prior years partitioned by district
(students.partitions, issue 14): a district's first import loads each into a table of its own,
attached with its foreign keys checked set-based; the migrations keep every stored row, id and
the sequence; a district whose rows are in the default partition loads through the parent as
before. PostgreSQL only: SQLite keeps plain tables."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_scopes import scope, scopes_disabled

from imports import services
from imports.models import ImportChange, ImportRun
from imports.undo import undo_blockers, undo_summary
from students import partitions
from students.models import AttendanceRecord, CalendarDay, Enrollment, PriorYearSummary

from .district_data import district_records
from .import_support import _media_in_tmp, build_year, run_import, school_days, write_csv  # noqa: F401

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")

ATTENDANCE = partitions.ATTENDANCE
# Each partitioned table, its model and the foreign keys its partition gets from the parent.
TABLES = [
    (partitions.ATTENDANCE, AttendanceRecord, 3),  # district, student, school
    (partitions.ENROLLMENTS, Enrollment, 3),  # district, student, school
    (partitions.CALENDAR, CalendarDay, 2),  # district, school
    (partitions.PRIOR_YEARS, PriorYearSummary, 2),  # district, student
]


def _partition_of(district_id: int, table: partitions.ByDistrict = ATTENDANCE) -> tuple[str | None, int]:
    """(the partition's parent, its foreign keys) for the district's own table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT inhparent::regclass::text,
                      (SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f')
               FROM pg_inherits WHERE inhrelid = to_regclass(%s)""",
            [table.district_partition(district_id)] * 2,
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, 0)


def _rows_by_table(district_id: int, table: partitions.ByDistrict = ATTENDANCE) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text, count(*) FROM {table.table} WHERE district_id = %s GROUP BY 1",
            [district_id],
        )
        return dict(cursor.fetchall())


def test_first_import_attaches_the_districts_own_partition_of_each_table(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    district_id = tenant_a.district.pk
    for table, model, keys in TABLES:
        parent, foreign_keys = _partition_of(district_id, table)
        assert (parent, foreign_keys) == (table.table, keys)  # the parent's keys, validated at the ATTACH
        with scope(district=tenant_a.district):
            ids = sorted(model.objects.values_list("pk", flat=True))
            (added,) = ImportChange.objects.filter(model=model._meta.label_lower).values_list(
                "row_ids", "first_id", "last_id", "row_count"
            )
        # Every row journaled as added, for the undo: the partition's range of ids, not a list.
        assert ids and added == (None, ids[0], ids[-1], len(ids))
        assert _rows_by_table(district_id, table) == {table.district_partition(district_id): len(ids)}


def test_a_calendar_partition_keeps_school_and_default_days_unique(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexdef LIKE 'CREATE UNIQUE INDEX%%WHERE%%'",
            [partitions.CALENDAR.district_partition(tenant_a.district.pk)],
        )
        assert cursor.fetchone()[0] == 2  # school days and the district's default days
    with scope(district=tenant_a.district):
        day = CalendarDay.objects.filter(school__isnull=True).first()
        with pytest.raises(IntegrityError), transaction.atomic():
            CalendarDay.objects.create(district=tenant_a.district, date=day.date)


def test_undoing_a_first_import_drops_the_emptied_partition_and_the_next_import_is_first_again(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    district_id = tenant_a.district.pk
    with scope(district=tenant_a.district):
        run = ImportRun.objects.get()
        undo = services.import_run_process(run=services.import_run_undo_create(run=run))
        assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
        for _table, model, _keys in TABLES:
            assert not model.objects.exists()
    for table, _model, _keys in TABLES:
        assert not table.has_partition(district_id)

    build_year(tenant_a.district, tmp_path / "again")
    for table, _model, _keys in TABLES:
        assert _partition_of(district_id, table)[0] == table.table


def test_a_first_import_journaled_as_a_range_cannot_be_undone_over_a_later_change_in_it(tenant_a, tmp_path):
    district = build_year(tenant_a.district, tmp_path)
    day = next(day for day, open_ in school_days() if open_)
    with scope(district=district):
        first = ImportRun.objects.get()
        stored = AttendanceRecord.objects.get(student__sis_id="S1", date=day)
    # S1's absence that day recoded by a later import, which removes the first import's row.
    later = run_import(
        district,
        write_csv(tmp_path / "later", "attendance.csv", "student_id,school_id,date,code", [("S1", "MS1", day, "E")]),
    )
    with scope(district=district):
        assert not AttendanceRecord.objects.filter(pk=stored.pk).exists()
        # S1's and S2's rows at MS1 that day (the file covers the school's day), both in the range.
        assert f"Import #{later.pk}, after this one, changed or removed 2 attendance records" in undo_blockers(first)[0]
        assert undo_summary(first)["added"] >= AttendanceRecord.objects.count() + 1  # the removed row counted
        # Newest first: the later one undone, the first one undoes to an empty district.
        services.import_run_process(run=services.import_run_undo_create(run=later))
        assert AttendanceRecord.objects.filter(pk=stored.pk).exists()
        undo = services.import_run_process(run=services.import_run_undo_create(run=ImportRun.objects.get(pk=first.pk)))
        assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
        assert not AttendanceRecord.objects.exists() and not Enrollment.objects.exists()


def test_a_partition_still_holding_rows_is_not_dropped(tenant_a, tmp_path):
    build_year(tenant_a.district, tmp_path)
    for table, _model, _keys in TABLES:
        assert not table.drop_if_empty(tenant_a.district.pk)
        assert table.has_partition(tenant_a.district.pk)


def test_attach_refuses_a_row_whose_student_does_not_exist(tenant_a):
    district_id = tenant_a.district.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        part = ATTENDANCE.create_bare(district_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {part} (district_id, student_id, school_id, date, code, category)
                    VALUES (%s, -1, %s, '2025-09-02', 'U', 'absent_unexcused')""",
                [district_id, tenant_a.school.pk],
            )
        ATTENDANCE.attach(district_id)
    assert _partition_of(district_id) == (None, 0)


def test_bare_table_refuses_another_districts_row(tenant_a, tenant_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        part = ATTENDANCE.create_bare(tenant_a.district.pk)
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
    assert stored > 1 and _rows_by_table(district_id) == {ATTENDANCE.default: stored}


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_two_districts_rows_and_ids(tenant_a, tenant_b):
    before, after = (
        ("students", "0002_attendance_no_district_index"),
        ("students", "0003_attendance_partitioned_by_district"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    assert not ATTENDANCE.partitioned()
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
        assert ATTENDANCE.partitioned()
        with scopes_disabled():
            assert sorted(AttendanceRecord.objects.values_list()) == stored
            for tenant in (tenant_a, tenant_b):
                assert _partition_of(tenant.district.pk)[0] == ATTENDANCE.table
                assert _rows_by_table(tenant.district.pk) == {ATTENDANCE.district_partition(tenant.district.pk): 2}
            # The identity sequence goes on after the moved rows.
            record = AttendanceRecord.objects.filter(district=tenant_a.district).first()
            record.pk, record.code = None, "T"
            record.save()
            assert record.pk > max(row[0] for row in stored)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
                [ATTENDANCE.table],
            )
            assert cursor.fetchone()[0] == "PRIMARY KEY (district_id, id)"
        executor = MigrationExecutor(connection)
        executor.migrate([before])  # and back: one plain table with the same rows
        assert not ATTENDANCE.partitioned()
        with scopes_disabled():
            assert len(AttendanceRecord.objects.all()) == len(stored) + 1
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration_of_enrollments_calendar_and_prior_years_keeps_two_districts_rows_and_ids(tenant_a, tenant_b):
    before, after = (
        ("students", "0004_no_district_only_indexes"),
        ("students", "0005_enrollments_calendar_prior_years_partitioned_by_district"),
    )
    moved = [(table, model) for table, model, _keys in TABLES if table is not ATTENDANCE]
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    assert not any(table.partitioned() for table, _model in moved)
    with scopes_disabled():
        for tenant, prefix in ((tenant_a, "A"), (tenant_b, "B")):
            records = district_records(tenant, prefix=prefix)
            CalendarDay.objects.create(district=tenant.district, school=tenant.school, date=datetime.date(2025, 9, 3))
            CalendarDay.objects.create(district=tenant.district, date=datetime.date(2025, 9, 4), instructional=False)
            PriorYearSummary.objects.create(
                district=tenant.district,
                student=records.student,
                school_year="2024-25",
                days_enrolled=180,
                days_absent=20,
            )
        stored = {model: sorted(model.objects.values_list()) for _table, model in moved}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    try:
        with scopes_disabled():
            for table, model in moved:
                assert table.partitioned()
                assert sorted(model.objects.values_list()) == stored[model]
                for tenant in (tenant_a, tenant_b):
                    count = model.objects.filter(district=tenant.district).count()
                    assert _partition_of(tenant.district.pk, table)[0] == table.table
                    assert _rows_by_table(tenant.district.pk, table) == {
                        table.district_partition(tenant.district.pk): count
                    }
            # The identity sequence goes on after the moved rows.
            summary = PriorYearSummary.objects.filter(district=tenant_a.district).first()
            summary.pk, summary.school_year = None, "2023-24"
            summary.save()
            assert summary.pk > max(row[0] for row in stored[PriorYearSummary])
        executor = MigrationExecutor(connection)
        executor.migrate([before])  # and back: plain tables with the same rows
        assert not any(table.partitioned() for table, _model in moved)
        with scopes_disabled():
            assert len(PriorYearSummary.objects.all()) == len(stored[PriorYearSummary]) + 1
            assert sorted(Enrollment.objects.values_list()) == stored[Enrollment]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_reserved_ids_are_a_block_nobody_else_is_given(tenant_a):
    first = ATTENDANCE.reserve_ids(1000)
    district_records(tenant_a, prefix="A")  # one attendance record through the ORM, after the block
    with scope(district=tenant_a.district):
        (later,) = AttendanceRecord.objects.values_list("pk", flat=True)
    assert first is not None and later >= first + 1000
    assert ATTENDANCE.reserve_ids(5) > later


@pytest.mark.django_db(transaction=True)
def test_no_block_while_a_transaction_writing_the_table_is_open_and_the_import_takes_ids_one_by_one(tenant_a, tmp_path):
    with transaction.atomic():
        district_records(tenant_a, prefix="A")  # this transaction holds the sequence until it ends
        assert ATTENDANCE.reserve_ids(1000) is None
    with connection.cursor() as cursor:  # the records of the district written, its partition left to the import
        cursor.execute("DELETE FROM students_attendancerecord WHERE district_id = %s", [tenant_a.district.pk])
    with transaction.atomic():
        AttendanceRecord.objects.none()  # noqa: B018 - nothing; the import below runs in this transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('students_attendancerecord', 'id'))")
        build_year(tenant_a.district, tmp_path)
    with scope(district=tenant_a.district):
        ids = sorted(AttendanceRecord.objects.values_list("pk", flat=True))
        (added,) = ImportChange.objects.filter(model="students.attendancerecord").values_list(
            "first_id", "last_id", "row_count"
        )
    assert _partition_of(tenant_a.district.pk)[0] == ATTENDANCE.table
    assert added == (ids[0], ids[-1], len(ids))
