from django.urls import path

from . import member_views, views

app_name = "programs"

urlpatterns = [
    path("programs/", views.catalogue, name="catalogue"),
    path("programs/<slug:slug>/", views.detail, name="detail"),
    path("programs/<slug:slug>/preview/", views.preview, name="preview"),
    path("programs/<slug:slug>/handout.pdf", views.program_handout, name="handout"),
    # Member pages (member_views.py)
    path("programs/<slug:slug>/enrol/", member_views.enrol, name="enrol"),
    path("today/", member_views.dashboard, name="dashboard"),
    path("enrolments/<int:pk>/", member_views.enrolment_detail, name="enrolment"),
    path("enrolments/<int:pk>/pause/", member_views.enrolment_pause, name="enrolment_pause"),
    path("enrolments/<int:pk>/resume/", member_views.enrolment_resume, name="enrolment_resume"),
    path("enrolments/<int:pk>/leave/", member_views.enrolment_leave, name="enrolment_leave"),
    path("enrolments/<int:pk>/finish/", member_views.enrolment_finish, name="enrolment_finish"),
    path("enrolments/<int:pk>/restart/", member_views.enrolment_restart, name="enrolment_restart"),
    path("enrolments/<int:pk>/reminder/", member_views.enrolment_reminder, name="enrolment_reminder"),
    path("enrolments/<int:pk>/sessions/<int:session_pk>/", member_views.session_detail, name="session"),
    path(
        "enrolments/<int:pk>/sessions/<int:session_pk>/handout.pdf",
        member_views.session_handout,
        name="session_handout",
    ),
    path("enrolments/<int:pk>/sessions/<int:session_pk>/tick/", member_views.session_tick, name="session_tick"),
    path("enrolments/<int:pk>/sessions/<int:session_pk>/undo/", member_views.session_undo, name="session_undo"),
]
