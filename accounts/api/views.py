"""API views for accounts: member tokens, the member's own profile, a partner's members."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from accounts.models import APIToken, User
from accounts.services import user_update_settings
from stretchhub.api.authentication import MEMBER_AUTHENTICATION, PARTNER_AUTHENTICATION, MemberTokenAuthentication
from stretchhub.api.exceptions import Conflict
from stretchhub.api.fields import ID_REGEX, EmptySerializer
from stretchhub.api.idempotency import IdempotentMixin
from stretchhub.api.permissions import IsMember, IsPartner
from stretchhub.api.throttling import CallerRateThrottle, TokenRateThrottle

from . import serializers as s
from . import services


class TooManyLogins(exceptions.Throttled):
    default_detail = _("Too many failed logins for this account from your address: wait a while and try again.")


@extend_schema(tags=["auth"])
class TokenView(APIView):
    """POST: exchange a username (or email) and password for a token. DELETE: revoke the token sent."""

    def _logging_in(self) -> bool:
        # Called while the request is being set up too (and by the schema generator without one).
        return getattr(getattr(self, "request", None), "method", None) == "POST"

    def get_authenticators(self):
        # Logging in needs no credentials (a stale token must not block it); revoking needs the token itself.
        return [] if self._logging_in() else [MemberTokenAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._logging_in() else [IsMember()]

    def get_throttles(self):
        return [TokenRateThrottle()] if self._logging_in() else [CallerRateThrottle(), TokenRateThrottle()]

    @extend_schema(
        summary="Get a member token",
        request=s.TokenCreateSerializer,
        responses={201: s.TokenSerializer},
        description="Wrong credentials are a 400; repeated failures for one account lock it out here (429).",
    )
    def post(self, request):
        serializer = s.TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(django_request, **serializer.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            # django-axes flagged a lockout; answer it here, in the API's JSON, instead of
            # letting AxesMiddleware swap in the site's HTML lockout page.
            django_request.axes_locked_out = False
            raise TooManyLogins()
        if user is None or not user.is_active:
            raise exceptions.ValidationError(_("Unable to log in with this username and password."))
        _token, raw = services.api_token_create(user=user)
        return Response({"token": raw}, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke the token used for this request", request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, APIToken):
            raise exceptions.NotAuthenticated()
        services.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class MeView(IdempotentMixin, APIView):
    authentication_classes = MEMBER_AUTHENTICATION
    permission_classes = [IsMember]

    @extend_schema(summary="Your profile and email settings", responses=s.MeSerializer)
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)

    @extend_schema(
        summary="Change your profile or email settings", request=s.MeUpdateSerializer, responses=s.MeSerializer
    )
    def patch(self, request):
        serializer = s.MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        user_update_settings(
            user=user,
            display_name=data.get("display_name", user.display_name),
            timezone_name=data.get("timezone", user.timezone),
            default_reminder_time=data.get("default_reminder_time", user.default_reminder_time),
            email_reminders=data.get("email_reminders", user.email_reminders),
            nudge_emails=data.get("nudge_emails"),
            weekly_summary_emails=data.get("weekly_summary_emails"),
            weekly_summary_day=data.get("weekly_summary_day"),
            weekly_summary_time=data.get("weekly_summary_time"),
            trainer_digest_emails=data.get("trainer_digest_emails"),
            language=data.get("language"),
        )
        return Response(s.MeSerializer(user).data)


@extend_schema(tags=["me"])
class CalendarTokenView(IdempotentMixin, APIView):
    authentication_classes = MEMBER_AUTHENTICATION
    permission_classes = [IsMember]

    @extend_schema(
        summary="Rotate your private calendar URL (the old one stops working)",
        request=None,
        responses=s.CalendarTokenSerializer,
    )
    def post(self, request):
        serializer = EmptySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.calendar_token_rotate(user=request.user)
        return Response({"calendar_url": s.calendar_url(request.user)})


@extend_schema(tags=["partner"])
class PartnerMemberViewSet(IdempotentMixin, GenericViewSet):
    """Members the partner manages; nobody else's."""

    authentication_classes = PARTNER_AUTHENTICATION
    permission_classes = [IsPartner]
    serializer_class = s.PartnerMemberSerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return User.objects.filter(partner=self.request.auth.partner).order_by("pk")

    @extend_schema(
        summary="List your members",
        parameters=[
            OpenApiParameter(
                "external_id",
                {"type": "string", "pattern": s.EXTERNAL_ID_PATTERN},
                description="Only the member with this external id.",
            )
        ],
    )
    def list(self, request):
        queryset = self.get_queryset()
        external_id = request.query_params.get("external_id")
        if external_id is not None:
            if not re.match(s.EXTERNAL_ID_PATTERN, external_id):
                raise exceptions.ValidationError({"external_id": [_("Not an external id (letters, digits, ._:@+-).")]})
            queryset = queryset.filter(external_id=external_id)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.PartnerMemberSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a member you manage",
        request=s.PartnerMemberCreateSerializer,
        responses={201: s.PartnerMemberSerializer},
        description="An external id you already use, or an email address already registered, is a 409.",
    )
    def create(self, request):
        data = self._valid(s.PartnerMemberCreateSerializer, request.data)
        try:
            member = services.partner_member_create(
                partner=request.auth.partner,
                external_id=data["external_id"],
                email=data["email"],
                display_name=data.get("display_name", ""),
                timezone_name=data.get("timezone", "UTC"),
                default_reminder_time=data.get("default_reminder_time"),
                email_reminders=data.get("email_reminders", True),
            )
        except services.PartnerMemberConflict as conflict:
            raise Conflict(str(conflict), field=conflict.field) from None
        return Response(s.PartnerMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One of your members")
    def retrieve(self, request, pk):
        return Response(s.PartnerMemberSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(summary="Change one of your members", request=s.PartnerMemberUpdateSerializer)
    def partial_update(self, request, pk):
        member = get_object_or_404(self.get_queryset(), pk=pk)
        data = self._valid(s.PartnerMemberUpdateSerializer, request.data)
        try:
            services.partner_member_update(
                member=member,
                email=data.get("email"),
                display_name=data.get("display_name"),
                timezone_name=data.get("timezone"),
                default_reminder_time=data.get("default_reminder_time"),
                email_reminders=data.get("email_reminders"),
            )
        except services.PartnerMemberConflict as conflict:
            raise Conflict(str(conflict), field=conflict.field) from None
        return Response(s.PartnerMemberSerializer(member).data)

    def _valid(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
