"""factory_boy factories. District-owned factories take the district from their parent so a
test can never build a row that straddles two districts by accident."""

import datetime

import factory
from django.contrib.auth import get_user_model

from districts.models import District, Membership, RoleGrant, School
from students.models import AttendanceRecord, CalendarDay, Enrollment, Guardian, Student

PASSWORD = "correct-horse-battery"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")
    timezone = "America/New_York"
    school_year_start = datetime.date(2025, 8, 25)
    school_year_end = datetime.date(2026, 6, 10)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    sis_id = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"School {n}")
    grade_low = "6"
    grade_high = "8"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Member{n}")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    district = factory.SubFactory(DistrictFactory)
    user = factory.SubFactory(UserFactory)


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    membership = factory.SubFactory(MembershipFactory)
    district = factory.SelfAttribute("membership.district")
    role = "district_admin"
    school = None


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    district = factory.SubFactory(DistrictFactory)
    sis_id = factory.Sequence(lambda n: f"{100000 + n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    grade = "7"


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    student = factory.SubFactory(StudentFactory)
    district = factory.SelfAttribute("student.district")
    name = factory.Faker("name")
    phone = "919-555-0100"
    language = "English"
    preferred_channel = "phone"


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    district = factory.SelfAttribute("student.district")
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..district"))
    grade = "7"
    entry_date = datetime.date(2025, 8, 25)
    exit_date = None


class CalendarDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarDay

    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    date = datetime.date(2025, 8, 25)
    instructional = True
    minutes = 360


class AttendanceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttendanceRecord

    student = factory.SubFactory(StudentFactory)
    district = factory.SelfAttribute("student.district")
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..district"))
    date = datetime.date(2025, 9, 2)
    code = "U"
    category = "absent_unexcused"
