from django.contrib import admin

from .models import AttendanceCode, AttendanceRecord, CalendarDay, Enrollment, Guardian, PriorYearSummary, Student


class GuardianInline(admin.TabularInline):
    model = Guardian
    extra = 0


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["sis_id", "last_name", "first_name", "grade", "district"]
    list_filter = ["district", "grade"]
    search_fields = ["sis_id", "last_name", "first_name"]
    inlines = [EnrollmentInline, GuardianInline]


@admin.register(AttendanceCode)
class AttendanceCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "category", "district"]
    list_filter = ["district", "category"]


@admin.register(AttendanceRecord)
class AttendanceRecordAdmin(admin.ModelAdmin):
    list_display = ["date", "student", "school", "code", "category", "minutes_absent"]
    list_filter = ["district", "category"]
    raw_id_fields = ["student", "school"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "school", "instructional", "minutes", "event"]
    list_filter = ["district", "instructional"]


@admin.register(PriorYearSummary)
class PriorYearSummaryAdmin(admin.ModelAdmin):
    list_display = ["student", "school_year", "days_enrolled", "days_absent"]
    list_filter = ["district", "school_year"]
    raw_id_fields = ["student"]
