from __future__ import annotations

from rest_framework import serializers

from stretchhub.api.fields import StrictInputSerializer

from ..models import SUBSCRIBABLE_TYPES, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENTS_HELP = "Event types to send; an empty list (or none given) means every type."


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_TYPES), help_text=EVENTS_HELP)
    failing_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when every delivery has failed; after 3 days the endpoint is switched off."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "failing_since", "created_at"]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_…): shown only now. Verify deliveries with it (Standard Webhooks)."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointUpdateSerializer(StrictInputSerializer):
    url = serializers.URLField(required=False, max_length=2000, help_text="https only.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_TYPES),
        required=False,
        max_length=len(SUBSCRIBABLE_TYPES),
        help_text=EVENTS_HELP,
    )
    is_active = serializers.BooleanField(required=False, help_text="Switch deliveries off or (back) on.")


class WebhookEndpointCreateSerializer(StrictInputSerializer):
    url = serializers.URLField(max_length=2000, help_text="https only.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_TYPES),
        required=False,
        default=list,
        max_length=len(SUBSCRIBABLE_TYPES),
        help_text=EVENTS_HELP,
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "succeeded", "response_code", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.IntegerField(source="endpoint_id")
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "next_attempt_at", "attempts"]


class WebhookEventSerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(help_text="The `webhook-id` header of its deliveries: dedupe by it.")
    type = serializers.ChoiceField(choices=EventType.choices)
    payload = serializers.JSONField(help_text="The body as delivered: {type, timestamp, data}.")
    deliveries = WebhookDeliverySerializer(many=True, help_text="One per endpoint it was sent to.")

    class Meta:
        model = WebhookEvent
        fields = ["id", "webhook_id", "type", "created_at", "payload", "deliveries"]


class WebhookEventPageSerializer(serializers.Serializer):
    results = WebhookEventSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Pass as `after` for the next page; null on the last one.")


class RedeliverSinceSerializer(StrictInputSerializer):
    since = serializers.DateTimeField(help_text="Every event from this instant on (ISO 8601 with an offset).")


class RedeliveredSerializer(serializers.Serializer):
    deliveries = serializers.IntegerField(help_text="Deliveries queued (one per event and active endpoint).")


CURSOR_PATTERN = r"^[0-9]{1,18}$"


class EventsFeedQuerySerializer(serializers.Serializer):
    after = serializers.RegexField(CURSOR_PATTERN, required=False, help_text="The `next` of the previous page.")
    type = serializers.ChoiceField(choices=EventType.choices, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)
