from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.messages_home, name="messages_home"),
    path("messages/templates/new/", views.template_new, name="message_template_new"),
    path("messages/templates/<int:template_id>/", views.template_edit, name="message_template"),
    path("messages/contact/", views.contact_save, name="messages_contact"),
    path("messages/language-lines/", views.language_line_save, name="messages_language_line"),
    path("letters/", views.letters_home, name="letters"),
    path("students/<int:student_id>/notices/opt-out/", views.notice_opt_out, name="notice_opt_out"),
]
