from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import render

from . import media, selectors
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
