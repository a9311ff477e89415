"""API views: the public catalogue, and members' (or partners') enrolments, progress and ticks.

Views are thin: they read through programs.selectors, write through
programs.services, and let the exception handler turn domain errors into 4xx.
Every object is fetched through a queryset scoped to the caller, so another
owner's object is a 404, in the URL and in the body alike.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import User
from programs import selectors, services
from programs.models import BodyArea, Completion, Enrolment, Program, ProgramSession, Stretch
from stretchhub.api.authentication import ANY_AUTHENTICATION, MEMBER_AUTHENTICATION, PARTNER_AUTHENTICATION
from stretchhub.api.exceptions import Conflict, NotFoundInBody
from stretchhub.api.fields import ID_REGEX, MAX_URL_ID, EmptySerializer
from stretchhub.api.idempotency import IdempotentMixin
from stretchhub.api.permissions import IsMember, IsPartner

from . import serializers as s
from .filters import ProgramFilter, StretchFilter, StrictFilterBackend, StrictOrderingFilter
from .program_detail import program_detail_body

SLUG_REGEX = r"[-a-zA-Z0-9_]+"


# --- Catalogue (public) --------------------------------------------------------------------------


class CatalogueViewSet(viewsets.GenericViewSet):
    authentication_classes = ANY_AUTHENTICATION
    permission_classes = [AllowAny]
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX


@extend_schema(tags=["catalogue"])
class BodyAreaViewSet(mixins.ListModelMixin, CatalogueViewSet):
    """Body areas, for the `body_area` filters."""

    queryset = BodyArea.objects.order_by("name", "pk")
    serializer_class = s.BodyAreaSerializer


@extend_schema_view(
    list=extend_schema(summary="List published stretches"),
    retrieve=extend_schema(summary="A stretch with its steps, cues and cautions"),
)
@extend_schema(tags=["catalogue"])
class StretchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    queryset = Stretch.objects.filter(status=Stretch.Status.PUBLISHED).prefetch_related("body_areas", "images")
    filter_backends = [StrictFilterBackend, SearchFilter, StrictOrderingFilter]
    filterset_class = StretchFilter
    # Both languages: a member searching in German finds a stretch whose German name is not written yet.
    search_fields = ["name_en", "name_de", "summary_en", "summary_de"]
    ordering_fields = ["name", "difficulty", "created_at"]
    ordering = ["name", "pk"]

    def get_serializer_class(self):
        return s.StretchDetailSerializer if self.action == "retrieve" else s.StretchSerializer


@extend_schema(tags=["catalogue"])
class ProgramViewSet(CatalogueViewSet):
    filter_backends = [StrictFilterBackend, SearchFilter, StrictOrderingFilter]
    filterset_class = ProgramFilter
    search_fields = ["title_en", "title_de", "summary_en", "summary_de"]
    ordering_fields = ["title", "published_at", "weeks"]
    ordering = ["title", "pk"]

    def get_queryset(self):
        return selectors.programs_published()

    @extend_schema(summary="List published programs", responses=s.ProgramListSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        cards = selectors.program_cards(page)
        return self.get_paginated_response(s.ProgramListSerializer(cards, many=True).data)

    @extend_schema(
        summary="A published program's whole structure",
        description="Weeks → sessions → items (stretch and prescription), and every stretch used, in one response.",
        responses=s.ProgramDetailSerializer,
    )
    def retrieve(self, request, slug: str):
        try:
            etag, body = program_detail_body(slug=slug)
        except Program.DoesNotExist:
            raise exceptions.NotFound(_("No published program has this slug.")) from None
        # The ETag is the body's own digest, so it changes with anything the body shows.
        response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        return response


# --- Members' enrolments -----------------------------------------------------------------------------


class MemberScopedViewSet(IdempotentMixin, viewsets.GenericViewSet):
    """Views acting for one member: the caller (member API) or one of the partner's members (partner API)."""

    authentication_classes = MEMBER_AUTHENTICATION
    permission_classes = [IsMember]
    lookup_value_regex = ID_REGEX

    def get_member(self) -> User:
        return self.request.user

    def enrolments(self):
        return Enrolment.objects.filter(member=self.get_member())

    def get_enrolment(self, pk) -> Enrolment:
        return get_object_or_404(self.enrolments().select_related("program", "member"), pk=pk)

    def local_today(self):
        return selectors.member_local_today(self.get_member())

    def handle_exception(self, exc):
        # The services' refusals are about the current state, not the input: a 409.
        if isinstance(exc, services.AlreadyEnrolled):
            exc = Conflict(str(exc), field="program", code="already_enrolled")
        elif isinstance(exc, services.EnrolmentError):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)


def _id_parameter(name: str, description: str) -> OpenApiParameter:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_URL_ID}
    return OpenApiParameter(name, schema, OpenApiParameter.PATH, description=description)


ENROLMENT_ID = _id_parameter("enrolment_pk", "Id of the enrolment.")
SESSION_ID = _id_parameter("session", "Id of the program session the tick is for.")
MEMBER_ID = _id_parameter("member_pk", "Id of one of your members.")


@extend_schema(tags=["enrolments"])
class EnrolmentViewSet(MemberScopedViewSet):
    serializer_class = s.EnrolmentSerializer
    queryset = Enrolment.objects.none()  # for the schema's path parameter types; requests use enrolments()
    body_references = True  # the program slug in a create body: a 404 when not found

    @extend_schema(summary="List enrolments, newest first")
    def list(self, request, **kwargs):
        queryset = self.enrolments().select_related("program").order_by("-created_at", "-pk")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.EnrolmentSerializer(page, many=True).data)

    @extend_schema(
        summary="Enrol in a published program",
        request=s.EnrolmentCreateSerializer,
        responses={201: s.EnrolmentSerializer},
        description="A current (active or paused) enrolment in the same program is a 409.",
    )
    def create(self, request, **kwargs):
        member = self.get_member()
        today = self.local_today()
        data = self._valid(s.EnrolmentCreateSerializer, request.data, context={"today": today})
        program = Program.objects.filter(slug=data["program"], status=Program.Status.PUBLISHED).first()
        if program is None:
            raise NotFoundInBody("program", _("No published program has this slug."))
        try:
            enrolment = services.enrolment_create(
                member=member,
                program=program,
                start_date=data.get("start_date", today),
                reminder_time=data.get("reminder_time"),
                reminders_enabled=data["reminders_enabled"],
                today=today,
            )
        except services.EmailNotVerified as error:
            raise exceptions.PermissionDenied(str(error)) from None
        return Response(s.EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One enrolment")
    def retrieve(self, request, pk, **kwargs):
        return Response(s.EnrolmentSerializer(self.get_enrolment(pk)).data)

    @extend_schema(summary="Change the reminder time or switch reminders on/off", request=s.EnrolmentUpdateSerializer)
    def partial_update(self, request, pk, **kwargs):
        enrolment = self.get_enrolment(pk)
        data = self._valid(s.EnrolmentUpdateSerializer, request.data)
        enrolment = services.enrolment_update_reminder(
            enrolment=enrolment,
            reminder_time=data.get("reminder_time"),
            reminders_enabled=data.get("reminders_enabled"),
        )
        return Response(s.EnrolmentSerializer(enrolment).data)

    def _transition(self, pk, service) -> Response:
        enrolment = self.get_enrolment(pk)
        self._valid(EmptySerializer, self.request.data)
        enrolment = service(enrolment=enrolment)
        return Response(s.EnrolmentSerializer(enrolment).data)

    @extend_schema(summary="Pause: the remaining schedule moves on by the days paused", request=EmptySerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk, **kwargs):
        return self._transition(pk, services.enrolment_pause)

    @extend_schema(summary="Resume a paused enrolment", request=EmptySerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk, **kwargs):
        return self._transition(pk, services.enrolment_resume)

    @extend_schema(summary="Leave the program (the history stays)", request=EmptySerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk, **kwargs):
        return self._transition(pk, services.enrolment_leave)

    @extend_schema(
        summary="Progress: done/total, adherence, streaks and the per-day calendar",
        responses=s.ProgressSerializer,
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk, **kwargs):
        queryset = selectors.member_enrolments(member=self.get_member())
        enrolment = get_object_or_404(queryset, pk=pk)
        progress = selectors.enrolment_progress(enrolment=enrolment, today=self.local_today())
        return Response(s.ProgressSerializer(progress).data)

    def _valid(self, serializer_class, data, context=None) -> dict:
        serializer = serializer_class(data=data, context=context or {})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema(tags=["enrolments"], parameters=[ENROLMENT_ID])
class CompletionViewSet(MemberScopedViewSet):
    """Ticks of one enrolment, addressed by the program session they tick."""

    serializer_class = s.CompletionSerializer
    lookup_field = "session"

    def completions(self, enrolment: Enrolment):
        return Completion.objects.filter(enrolment=enrolment).select_related("program_session")

    def program_session(self, enrolment: Enrolment, session_id) -> ProgramSession | None:
        return ProgramSession.objects.filter(pk=session_id, program_id=enrolment.program_id).first()

    @extend_schema(summary="List ticks, oldest first")
    def list(self, request, enrolment_pk, **kwargs):
        enrolment = self.get_enrolment(enrolment_pk)
        page = self.paginate_queryset(self.completions(enrolment).order_by("completed_at", "pk"))
        return self.get_paginated_response(s.CompletionSerializer(page, many=True).data)

    @extend_schema(
        summary="Tick a session off, with optional pain scores and a note",
        description=(
            "Ticking a session that is already ticked returns the first tick (200) unchanged. "
            "A session of another program is a 404; one not yet due, or an ended enrolment, is a 409."
        ),
        request=s.CompletionCreateSerializer,
        responses={201: s.CompletionSerializer, 200: s.CompletionSerializer},
    )
    def create(self, request, enrolment_pk, **kwargs):
        enrolment = self.get_enrolment(enrolment_pk)
        serializer = s.CompletionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = self.program_session(enrolment, data["session"])
        if session is None:
            raise NotFoundInBody("session", _("The enrolment's program has no session with this id."))
        completion, created = services.completion_record(
            enrolment=enrolment,
            program_session=session,
            pain_before=data.get("pain_before"),
            pain_after=data.get("pain_after"),
            note=data["note"],
        )
        return Response(
            s.CompletionSerializer(completion).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(summary="The tick of one session", parameters=[SESSION_ID])
    def retrieve(self, request, enrolment_pk, session, **kwargs):
        enrolment = self.get_enrolment(enrolment_pk)
        completion = get_object_or_404(self.completions(enrolment), program_session_id=session)
        return Response(s.CompletionSerializer(completion).data)

    @extend_schema(summary="Undo the tick of one session", parameters=[SESSION_ID], responses={204: None})
    def destroy(self, request, enrolment_pk, session, **kwargs):
        enrolment = self.get_enrolment(enrolment_pk)
        if not self.completions(enrolment).filter(program_session_id=session).exists():
            raise exceptions.NotFound(_("This session is not ticked."))
        services.completion_undo(enrolment=enrolment, program_session=self.program_session(enrolment, session))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The same, for a partner's members ------------------------------------------------------------------


class PartnerMemberScoped:
    """Acts for one of the partner's own members (URL `member_pk`); anyone else's is a 404."""

    authentication_classes = PARTNER_AUTHENTICATION
    permission_classes = [IsPartner]

    def get_member(self) -> User:
        member = getattr(self, "_member", None)
        if member is None:
            partner = self.request.auth.partner
            member = get_object_or_404(User.objects.filter(partner=partner), pk=self.kwargs["member_pk"])
            self._member = member
        return member


@extend_schema(tags=["partner"], parameters=[MEMBER_ID])
class PartnerEnrolmentViewSet(PartnerMemberScoped, EnrolmentViewSet):
    pass


@extend_schema(tags=["partner"], parameters=[MEMBER_ID, ENROLMENT_ID])
class PartnerCompletionViewSet(PartnerMemberScoped, CompletionViewSet):
    pass
