"""What the service worker keeps for a member to use with no network (docs/push.md)."""

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from . import selectors


@never_cache
def offline_pages(request: HttpRequest) -> JsonResponse:
    """The signed-in member's pages to keep offline: today, their progress pages, the coming sessions.

    Nobody signed in: no pages, and the service worker drops what it kept. The
    member's id tells it when someone else signed in on this browser.
    """
    member = request.user
    if not member.is_authenticated:
        return JsonResponse({"member": None, "pages": []})
    today = selectors.member_local_today(member)
    pages = [reverse("programs:dashboard")]
    for enrolment, slot in selectors.member_offline_sessions(member=member, today=today):
        progress = reverse("programs:enrolment", kwargs={"pk": enrolment.pk})
        if progress not in pages:
            pages.append(progress)
        pages.append(reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": slot.session.pk}))
    return JsonResponse({"member": member.pk, "pages": pages})
