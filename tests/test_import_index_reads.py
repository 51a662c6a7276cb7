"""Issue 14: what an import places rows against (imports.placing.DistrictIndex) is read through
COPY on PostgreSQL, not the ORM. It must be exactly what the ORM gave: every SIS id as the text
stored (numbers with leading zeros, "NA", quotes and commas stay themselves), every stay with
its dates, and only the district's own rows."""

import datetime

import pandas as pd
import pytest
from django_scopes import scope

from imports.placing import DistrictIndex
from students.models import Enrollment, Student
from tests.factories import EnrollmentFactory, StudentFactory

SIS_IDS = ["00123", "123", "NA", "null", "", " padded ", 'quo"te', "comma, inside", "1e5", "José", "-0"]


def _orm_students() -> pd.Series:
    """The ORM's read, as placing did it before (imports.placing._lookup)."""
    pairs = list(Student.objects.values_list("sis_id", "pk"))
    return pd.Series([pk for _, pk in pairs], index=pd.Index([sis for sis, _ in pairs], dtype=object), dtype="int64")


def _orm_enrollments() -> pd.DataFrame:
    rows = Enrollment.objects.values_list("student_id", "school_id", "entry_date", "exit_date")
    frame = pd.DataFrame(list(rows), columns=["student", "school", "entry", "exit"])
    for column in ("entry", "exit"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _fill(tenant, prefix: str) -> None:
    with scope(district=tenant.district):
        for position, sis_id in enumerate(SIS_IDS):
            student = StudentFactory(district=tenant.district, sis_id=f"{prefix}{sis_id}" if prefix else sis_id)
            EnrollmentFactory(
                student=student,
                school=tenant.school,
                entry_date=datetime.date(2025, 8, 25),
                exit_date=datetime.date(2025, 10, 1) if position % 2 else None,
            )
            if position % 3 == 0:  # a second stay, at the other school
                EnrollmentFactory(
                    student=student, school=tenant.other_school, entry_date=datetime.date(2025, 10, 2), exit_date=None
                )


@pytest.mark.django_db
def test_the_index_reads_what_the_orm_read(tenant_a, tenant_b):
    _fill(tenant_a, "")
    _fill(tenant_b, "B")
    for tenant in (tenant_a, tenant_b):
        with scope(district=tenant.district):
            index = DistrictIndex(tenant.district)
            students, expected_students = index.students(), _orm_students()
            assert len(students) == len(SIS_IDS)
            pd.testing.assert_series_equal(students.sort_index(), expected_students.sort_index())
            assert all(type(sis_id) is str for sis_id in students.index)
            enrollments, expected = index.enrollments(), _orm_enrollments()
            assert len(enrollments) == len(SIS_IDS) + 4
            order = ["student", "school", "entry"]  # a lookup: the order the rows come in is not kept
            pd.testing.assert_frame_equal(
                enrollments.sort_values(order, ignore_index=True), expected.sort_values(order, ignore_index=True)
            )
            assert enrollments["exit"].isna().sum() == expected["exit"].isna().sum() > 0


@pytest.mark.django_db
def test_an_empty_district_reads_empty(tenant_a, tenant_b):
    _fill(tenant_b, "")
    with scope(district=tenant_a.district):
        index = DistrictIndex(tenant_a.district)
        assert index.students().empty
        assert index.enrollments().empty
        assert index.students().get("00123") is None
