"""District-scoped API routes: /d/<district>/api/… . The schema and its docs page are global.

Every view here derives from districts.api.DistrictAPIMixin (tests/test_isolation_matrix.py
checks it, and walks each route as another district's user)."""

from django.urls import path

from cases.api import (
    CaseDetailAPI,
    CaseListAPI,
    InterventionListAPI,
    MeetingListAPI,
    PartnerListAPI,
    ReferralDetailAPI,
    ReferralListAPI,
    ReviewListAPI,
)
from districts.api import MeAPI
from imports.api import HeldRowListAPI, ImportRunDetailAPI, ImportRunListAPI
from outreach.api import (
    HuddleDetailAPI,
    HuddleListAPI,
    HuddleRowDetailAPI,
    HuddleRowListAPI,
    OutreachActionDetailAPI,
    OutreachActionListAPI,
)
from pulse.api import PulseAPI
from pulse.support_api import SupportRequestDetailAPI, SupportRequestListAPI
from students.api import (
    MentorAssignmentDetailAPI,
    MentorAssignmentListAPI,
    SchoolListAPI,
    StudentDetailAPI,
    StudentListAPI,
)
from tiers.api import AggregatesAPI, FlagListAPI, StudentMetricsAPI

app_name = "api"

urlpatterns = [
    path("me/", MeAPI.as_view(), name="me"),
    path("schools/", SchoolListAPI.as_view(), name="school_list"),
    path("students/", StudentListAPI.as_view(), name="student_list"),
    path("students/<int:student_id>/", StudentDetailAPI.as_view(), name="student_detail"),
    path("students/<int:student_id>/metrics/", StudentMetricsAPI.as_view(), name="student_metrics"),
    path("mentor-assignments/", MentorAssignmentListAPI.as_view(), name="mentor_assignment_list"),
    path(
        "mentor-assignments/<int:assignment_id>/", MentorAssignmentDetailAPI.as_view(), name="mentor_assignment_detail"
    ),
    path("flags/", FlagListAPI.as_view(), name="flag_list"),
    path("aggregates/", AggregatesAPI.as_view(), name="aggregates"),
    path("imports/", ImportRunListAPI.as_view(), name="import_list"),
    path("imports/<int:import_run_id>/", ImportRunDetailAPI.as_view(), name="import_detail"),
    path("imports/held/", HeldRowListAPI.as_view(), name="held_row_list"),
    path("huddles/", HuddleListAPI.as_view(), name="huddle_list"),
    path("huddles/<int:huddle_id>/", HuddleDetailAPI.as_view(), name="huddle_detail"),
    path("huddles/<int:huddle_id>/rows/", HuddleRowListAPI.as_view(), name="huddle_row_list"),
    path("huddle-rows/<int:row_id>/", HuddleRowDetailAPI.as_view(), name="huddle_row_detail"),
    path("outreach-actions/", OutreachActionListAPI.as_view(), name="outreach_action_list"),
    path("outreach-actions/<int:action_id>/", OutreachActionDetailAPI.as_view(), name="outreach_action_detail"),
    path("pulse/", PulseAPI.as_view(), name="pulse"),
    path("support-requests/", SupportRequestListAPI.as_view(), name="support_request_list"),
    path(
        "support-requests/<int:support_request_id>/", SupportRequestDetailAPI.as_view(), name="support_request_detail"
    ),
    path("partners/", PartnerListAPI.as_view(), name="partner_list"),
    path("cases/", CaseListAPI.as_view(), name="case_list"),
    path("cases/<int:case_id>/", CaseDetailAPI.as_view(), name="case_detail"),
    path("cases/<int:case_id>/interventions/", InterventionListAPI.as_view(), name="case_intervention_list"),
    path("cases/<int:case_id>/referrals/", ReferralListAPI.as_view(), name="case_referral_list"),
    path("cases/<int:case_id>/referrals/<int:referral_id>/", ReferralDetailAPI.as_view(), name="case_referral_detail"),
    path("cases/<int:case_id>/meetings/", MeetingListAPI.as_view(), name="case_meeting_list"),
    path("cases/<int:case_id>/reviews/", ReviewListAPI.as_view(), name="case_review_list"),
]
