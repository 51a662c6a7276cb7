from django.urls import path

from . import views

app_name = "cases"

# Few routes on purpose: each case form posts to the case page naming itself (`form`), and a
# case opens with a POST to the caseload, so every route stays walkable by the isolation matrix.
urlpatterns = [
    path("cases/", views.caseload, name="caseload"),
    path("cases/queue/", views.queue, name="queue"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/plan.pdf", views.case_pdf, name="case_pdf"),
    path("partners/", views.partners, name="partners"),
    path("partners/<int:partner_id>/", views.partner_edit, name="partner_edit"),
]
