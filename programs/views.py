from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from . import handout, media, selectors
from .filters import ProgramCatalogueFilter
from .models import Program


def home(request):
    cards = selectors.program_cards(selectors.programs_published())
    return render(request, "programs/home.html", {"cards": cards})


def catalogue(request):
    filterset = ProgramCatalogueFilter(request.GET or None, queryset=selectors.programs_published())
    cards = selectors.program_cards(filterset.qs)
    return render(
        request,
        "programs/catalogue.html",
        {"filter": filterset, "cards": cards, "filtered": bool(request.GET)},
    )


def _program_page(request, slug: str, *, preview: bool):
    try:
        page = selectors.program_page(slug=slug, include_unpublished=preview)
    except Program.DoesNotExist:
        raise Http404("No such program.") from None
    response = render(request, "programs/detail.html", {"page": page, "program": page.program, "preview": preview})
    return media.allow_embeds(response, page.stretches)


def detail(request, slug: str):
    return _program_page(request, slug, preview=False)


@staff_member_required
def preview(request, slug: str):
    """The program page as members will see it, drafts included: for staff only."""
    return _program_page(request, slug, preview=True)


# A trainer's fix reaches a printed copy within minutes; the ETag makes a re-check cheap.
HANDOUT_MAX_AGE = 600


@require_safe
def program_handout(request, slug: str):
    """A published program as a printable PDF, public like its page (docs/handout.md)."""
    try:
        paper = handout.paper_size(request.GET.get("paper"))
    except handout.UnknownPaper as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    try:
        etag, pdf = handout.program_handout_pdf(slug=slug, paper=paper)
    except Program.DoesNotExist:
        raise Http404("No such program.") from None
    response = get_conditional_response(request, etag=etag) or handout.pdf_response(pdf, filename=f"{slug}-handout.pdf")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=HANDOUT_MAX_AGE)
    return response
