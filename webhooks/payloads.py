"""What an event's `data` holds: the API's own representation of the object, plus the member's external id."""

from __future__ import annotations

from accounts.api.serializers import PartnerMemberSerializer
from programs.api.serializers import CompletionSerializer, EnrolmentSerializer

from .models import EventType


def event_data(*, type: str, obj, member) -> dict:
    if type in (EventType.MEMBER_CREATED, EventType.MEMBER_UPDATED):
        return dict(PartnerMemberSerializer(obj).data)
    who = {"member_id": member.pk, "external_id": member.external_id}
    if type.startswith("enrolment."):
        return {**EnrolmentSerializer(obj).data, **who}
    if type.startswith("completion."):
        return {**CompletionSerializer(obj).data, "enrolment": obj.enrolment_id, **who}
    raise ValueError(f"Not an event about an object: {type}")
