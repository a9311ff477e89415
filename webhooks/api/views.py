"""The partner's webhooks: endpoints (register, change, rotate the secret, test) and the events feed with replay."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from stretchhub.api.authentication import PARTNER_AUTHENTICATION
from stretchhub.api.fields import ID_REGEX, EmptySerializer
from stretchhub.api.idempotency import IdempotentMixin
from stretchhub.api.permissions import IsPartner
from stretchhub.api.schema import StretchHubAutoSchema

from .. import selectors, services
from ..models import EventType, WebhookEndpoint, WebhookEvent
from . import serializers as s


class PartnerWebhookViewSet(IdempotentMixin, GenericViewSet):
    authentication_classes = PARTNER_AUTHENTICATION
    permission_classes = [IsPartner]
    lookup_value_regex = ID_REGEX

    def _valid(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def handle_exception(self, exc):
        if isinstance(exc, services.WebhookError):
            exc = exceptions.ValidationError({"url": [str(exc)]})
        return super().handle_exception(exc)


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(PartnerWebhookViewSet):
    """The partner's own endpoints; nobody else's."""

    serializer_class = s.WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.none()  # for the schema's path parameter types

    def endpoints(self):
        return WebhookEndpoint.objects.filter(partner=self.request.auth.partner).order_by("pk")

    def get_endpoint(self, pk) -> WebhookEndpoint:
        return get_object_or_404(self.endpoints(), pk=pk)

    @extend_schema(summary="List your webhook endpoints")
    def list(self, request):
        page = self.paginate_queryset(self.endpoints())
        return self.get_paginated_response(s.WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        summary="Register a webhook endpoint",
        request=s.WebhookEndpointCreateSerializer,
        responses={201: s.WebhookEndpointWithSecretSerializer},
        description="The URL must be https and reach a public address. The secret is shown only in this response.",
    )
    def create(self, request):
        data = self._valid(s.WebhookEndpointCreateSerializer, request.data)
        endpoint = services.endpoint_create(partner=request.auth.partner, url=data["url"], events=data["events"])
        return Response(s.WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One of your webhook endpoints")
    def retrieve(self, request, pk):
        return Response(s.WebhookEndpointSerializer(self.get_endpoint(pk)).data)

    @extend_schema(summary="Change a webhook endpoint", request=s.WebhookEndpointUpdateSerializer)
    def partial_update(self, request, pk):
        endpoint = self.get_endpoint(pk)
        data = self._valid(s.WebhookEndpointUpdateSerializer, request.data)
        endpoint = services.endpoint_update(
            endpoint=endpoint, url=data.get("url"), events=data.get("events"), is_active=data.get("is_active")
        )
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None})
    def destroy(self, request, pk):
        services.endpoint_delete(endpoint=self.get_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the signing secret",
        description="Deliveries are signed with both the new and the old secret for 24 hours.",
        request=EmptySerializer,
        responses=s.WebhookEndpointWithSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk):
        endpoint = self.get_endpoint(pk)
        self._valid(EmptySerializer, request.data)
        endpoint = services.endpoint_rotate_secret(endpoint=endpoint)
        return Response(s.WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(
        summary="Send a webhook.test event to this endpoint",
        request=EmptySerializer,
        responses={202: s.WebhookEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk):
        endpoint = self.get_endpoint(pk)
        self._valid(EmptySerializer, request.data)
        event = services.endpoint_test(endpoint=endpoint)
        event = (
            selectors.partner_events(partner=request.auth.partner)
            .prefetch_related("deliveries__attempt_log")
            .get(pk=event.pk)
        )
        return Response(s.WebhookEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)


class CursorPageSchema(StretchHubAutoSchema):
    """The feed's list is one object (results and the next cursor), not the array a list action usually is."""

    def _is_list_view(self, serializer=None) -> bool:
        return False if getattr(self.view, "action", None) == "list" else super()._is_list_view(serializer)


@extend_schema(tags=["webhooks"])
class WebhookEventViewSet(PartnerWebhookViewSet):
    """The partner's events of the last 30 days, oldest first: catch up after downtime, or redeliver."""

    serializer_class = s.WebhookEventSerializer
    queryset = WebhookEvent.objects.none()
    pagination_class = None
    schema = CursorPageSchema()

    @extend_schema(
        summary="Your events, oldest first",
        parameters=[
            OpenApiParameter("after", {"type": "string", "pattern": s.CURSOR_PATTERN}, description="A `next` cursor."),
            OpenApiParameter("type", {"type": "string", "enum": EventType.values}, description="Only this type."),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
        ],
        responses=s.WebhookEventPageSerializer,
    )
    def list(self, request):
        # A plain dict: DRF reads an empty query parameter as absent, and `after=` is not a cursor.
        query = s.EventsFeedQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        after = data.get("after")
        events, next_cursor = selectors.events_feed(
            partner=request.auth.partner,
            after=int(after) if after is not None else None,
            type=data.get("type"),
            limit=data["limit"],
        )
        return Response(
            {
                "results": s.WebhookEventSerializer(events, many=True).data,
                "next": str(next_cursor) if next_cursor is not None else None,
            }
        )

    @extend_schema(
        summary="Redeliver one event to your active endpoints",
        request=EmptySerializer,
        responses={202: s.RedeliveredSerializer},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk):
        events = selectors.partner_events(partner=request.auth.partner).filter(pk=pk)
        get_object_or_404(events)
        self._valid(EmptySerializer, request.data)
        queued = services.events_redeliver(partner=request.auth.partner, events=events)
        return Response({"deliveries": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Redeliver every event since an instant to your active endpoints",
        operation_id="partner_events_redeliver_since",
        request=s.RedeliverSinceSerializer,
        responses={202: s.RedeliveredSerializer},
    )
    @action(detail=False, methods=["post"], url_path="redeliver")
    def redeliver_since(self, request):
        data = self._valid(s.RedeliverSinceSerializer, request.data)
        events = selectors.partner_events(partner=request.auth.partner).filter(created_at__gte=data["since"])
        queued = services.events_redeliver(partner=request.auth.partner, events=events)
        return Response({"deliveries": queued}, status=status.HTTP_202_ACCEPTED)
