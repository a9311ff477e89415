"""The `webhooks` section of the OpenAPI schema: what each event's POST carries, from the receiver's side."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiWebhook, extend_schema
from rest_framework import serializers

from accounts.api.serializers import PartnerMemberSerializer
from programs.api.serializers import CompletionSerializer, EnrolmentSerializer

from ..models import EventType

HEADERS = (
    "Signed per the Standard Webhooks specification: `webhook-id` (the event's id, the same on every retry: "
    "dedupe by it), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "
    "id.timestamp.body>` with your endpoint's secret; two signatures, space-separated, for a day after a rotation). "
    "Answer with any 2xx within a few seconds; anything else is retried for about a day."
)


class EnrolmentEventDataSerializer(EnrolmentSerializer):
    member_id = serializers.IntegerField(help_text="Id of your member (as in /api/v1/partner/members/{id}/).")
    external_id = serializers.CharField(help_text="Your own id for the member.")

    class Meta(EnrolmentSerializer.Meta):
        fields = [*EnrolmentSerializer.Meta.fields, "member_id", "external_id"]


class CompletionEventDataSerializer(CompletionSerializer):
    enrolment = serializers.IntegerField(help_text="Id of the enrolment ticked.")
    member_id = serializers.IntegerField(help_text="Id of your member.")
    external_id = serializers.CharField(help_text="Your own id for the member.")

    class Meta(CompletionSerializer.Meta):
        fields = [*CompletionSerializer.Meta.fields, "enrolment", "member_id", "external_id"]


class TestEventDataSerializer(serializers.Serializer):
    endpoint = serializers.IntegerField()
    message = serializers.CharField()


def _event_serializer(name: str, types: list[str], data) -> type[serializers.Serializer]:
    return type(
        name,
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=types),
            "timestamp": serializers.DateTimeField(help_text="When the change happened."),
            "data": data,
            "__module__": __name__,
        },
    )


MemberEvent = _event_serializer(
    "MemberEvent", [str(EventType.MEMBER_CREATED), str(EventType.MEMBER_UPDATED)], PartnerMemberSerializer()
)
EnrolmentEvent = _event_serializer(
    "EnrolmentEvent", [t for t in EventType.values if t.startswith("enrolment.")], EnrolmentEventDataSerializer()
)
CompletionEvent = _event_serializer(
    "CompletionEvent", [t for t in EventType.values if t.startswith("completion.")], CompletionEventDataSerializer()
)
TestEvent = _event_serializer("TestEvent", [str(EventType.WEBHOOK_TEST)], TestEventDataSerializer())

SUMMARIES = {
    EventType.MEMBER_CREATED: ("A member of yours was created", MemberEvent),
    EventType.MEMBER_UPDATED: ("A member's profile or email settings changed", MemberEvent),
    EventType.ENROLMENT_CREATED: ("A member enrolled in a program", EnrolmentEvent),
    EventType.ENROLMENT_PAUSED: ("An enrolment was paused", EnrolmentEvent),
    EventType.ENROLMENT_RESUMED: ("An enrolment was resumed", EnrolmentEvent),
    EventType.ENROLMENT_LEFT: ("A member left a program", EnrolmentEvent),
    EventType.ENROLMENT_COMPLETED: (
        "An enrolment was completed (every session done, or finished early)",
        EnrolmentEvent,
    ),
    EventType.COMPLETION_CREATED: ("A session was ticked off", CompletionEvent),
    EventType.COMPLETION_DELETED: ("A tick was undone", CompletionEvent),
    EventType.WEBHOOK_TEST: ("A test event you asked for", TestEvent),
}

# One module-level name per event type: SPECTACULAR_SETTINGS["WEBHOOKS"] lists them by import path.
for _type, (_summary, _serializer) in SUMMARIES.items():
    globals()[_type.replace(".", "_")] = OpenApiWebhook(
        name=str(_type),
        decorator=extend_schema(
            summary=_summary, description=HEADERS, request=_serializer, responses={200: None}, tags=["webhooks"]
        ),
    )
