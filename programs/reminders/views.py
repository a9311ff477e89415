"""Pages behind the links in outbox emails: tick-off and unsubscribe.

The signed token is the credential, so no login is needed. GET only shows a
confirmation (mail scanners follow links); the POST acts, and acting twice is
the same as acting once.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.services import user_switch_off_email
from programs.models import Completion, Enrolment, ProgramSession
from programs.services import EnrolmentError, completion_record, enrolment_update_reminder

from . import links


def _link_problem(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    return render(
        request,
        "reminders/link_problem.html",
        {"message": message, "expired": status == 410, "settings_url": links.settings_url()},
        status=status,
    )


def _bad_link(request: HttpRequest, error: links.LinkError) -> HttpResponse:
    return _link_problem(request, status=error.status, message=str(error))


def _gone(request: HttpRequest) -> HttpResponse:
    return _link_problem(request, status=404, message=gettext("What this link pointed to no longer exists."))


@never_cache
@require_http_methods(["GET", "POST"])
def done(request: HttpRequest, token: str) -> HttpResponse:
    try:
        enrolment_id, session_id = links.done_token_read(token)
    except links.LinkError as error:
        return _bad_link(request, error)
    enrolment = Enrolment.objects.select_related("program").filter(pk=enrolment_id).first()
    session = ProgramSession.objects.filter(pk=session_id, program_id=getattr(enrolment, "program_id", None)).first()
    if enrolment is None or session is None:
        return _gone(request)
    context = {
        "enrolment": enrolment,
        "session": session,
        "session_url": links.session_url(enrolment_id=enrolment.pk, session_id=session.pk),
    }
    if request.method == "POST":
        try:
            _completion, created = completion_record(enrolment=enrolment, program_session=session)
        except EnrolmentError as error:
            return render(request, "reminders/done_confirm.html", {**context, "error": str(error)}, status=400)
        return render(request, "reminders/done_result.html", {**context, "already": not created})
    if Completion.objects.filter(enrolment=enrolment, program_session=session).exists():
        return render(request, "reminders/done_result.html", {**context, "already": True})
    return render(request, "reminders/done_confirm.html", context)


# Exempt from CSRF on purpose, and only this view: RFC 8058 one-click
# unsubscribe is a POST from the mail provider with no cookie or token, and
# the signed link is itself the proof that the request comes from the email.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        enrolment_id = links.unsubscribe_token_read(token)
    except links.LinkError as error:
        return _bad_link(request, error)
    enrolment = Enrolment.objects.select_related("program").filter(pk=enrolment_id).first()
    if enrolment is None:
        return _gone(request)
    context = {"enrolment": enrolment, "settings_url": links.settings_url()}
    if request.method == "POST":
        if enrolment.reminders_enabled:
            enrolment_update_reminder(enrolment=enrolment, reminders_enabled=False)
        return render(request, "reminders/unsubscribed.html", context)
    return render(request, "reminders/unsubscribe_confirm.html", context)


# Exempt from CSRF for the same reason as unsubscribe: the one-click target of
# List-Unsubscribe-Post in nudges, weekly summaries and trainer digests.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def preference_off(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user_id, preference = links.preference_off_token_read(token)
    except links.LinkError as error:
        return _bad_link(request, error)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return _gone(request)
    context = {"what": links.PREFERENCES[preference], "settings_url": links.settings_url()}
    if request.method == "POST":
        user_switch_off_email(user=user, preference=preference)
        return render(request, "reminders/preference_off_done.html", context)
    return render(request, "reminders/preference_off_confirm.html", context)
