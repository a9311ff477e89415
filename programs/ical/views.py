from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from accounts.api.services import calendar_token_rotate
from accounts.models import User

from .feed import member_calendar


@require_GET
def feed(request, token: str):
    """The private feed: the unguessable token in the URL is the only credential (calendar apps cannot log in)."""
    member = User.objects.filter(calendar_token=token, is_active=True).first()
    if member is None:
        raise Http404(gettext("No calendar at this address."))
    response = HttpResponse(member_calendar(member=member), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="stretchhub.ics"'
    # The URL is a secret: no shared cache may keep a copy.
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_POST
@login_required
def rotate(request):
    """A new private calendar URL; calendar apps subscribed to the old one stop receiving updates."""
    calendar_token_rotate(user=request.user)
    messages.success(
        request, gettext("Your calendar has a new private address. Subscribe to it again in your calendar app.")
    )
    return redirect("accounts:settings")
