"""Idempotency-Key for API writes: a retried request gets the first response, not a second effect.

The guarantee is claimed in the database. A keyed write runs inside one
transaction that first inserts (caller, key) into IdempotencyRecord and, at the
end, stores the response in that row. A concurrent duplicate's INSERT waits on
the unique index until the first commits (PostgreSQL), then fails and replays
the stored response; if the first rolled back (a server error), the duplicate
simply runs. SQLite serialises writers anyway (IMMEDIATE transactions).
Same key, other method, path or body: 409, as Stripe and the IETF draft do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .authentication import caller_of
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# How long a key is remembered; a retry after that is a new request.
RETENTION = dt.timedelta(hours=24)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_IN_PROGRESS = 0


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This Idempotency-Key was already used with a different request.")
    default_code = "idempotency_conflict"


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def request_fingerprint(request) -> str:
    """SHA-256 over method, full path and the body as canonical JSON (key order and spacing do not matter)."""
    body = request.data if request.data not in (None, {}, []) else None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    raw = "\n".join([request.method, request.get_full_path(), canonical])
    return hashlib.sha256(raw.encode()).hexdigest()


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"Give 1 to {KEY_MAX_LENGTH} printable characters, e.g. a UUID."]}, code="invalid"
        )
    return key


def _claim(request) -> IdempotencyRecord | None:
    key = _key_from(request)
    caller = caller_of(request)
    if key is None or caller is None:
        return None
    kind, caller_id = caller
    fingerprint = request_fingerprint(request)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    caller_kind=kind, caller_id=caller_id, key=key, fingerprint=fingerprint, status_code=_IN_PROGRESS
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(caller_kind=kind, caller_id=caller_id, key=key).first()
            if existing is None:
                continue
            if existing.created_at < timezone.now() - RETENTION:
                existing.delete()
                continue
            if existing.fingerprint != fingerprint:
                raise IdempotencyConflict() from None
            if existing.status_code == _IN_PROGRESS:
                raise IdempotencyConflict(_("A request with this Idempotency-Key is still being processed.")) from None
            raise _Replay(existing) from None
    raise IdempotencyConflict(_("A request with this Idempotency-Key is still being processed."))


class IdempotentMixin:
    """For DRF views: writes sent with an Idempotency-Key by a member or a partner are replayed, not repeated."""

    idempotent = True
    _idempotency_record: IdempotencyRecord | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.idempotent and request.method in WRITE_METHODS and HEADER in request.headers:
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Only for a method the view answers: anything else is a 405, with no key claimed.
        if self.idempotent and request.method in WRITE_METHODS and getattr(self, request.method.lower(), None):
            self._idempotency_record = _claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            return Response(record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"})
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = self._idempotency_record
        if record is not None and isinstance(response, Response) and response.status_code < 500:
            record.status_code = response.status_code
            data = response.data
            record.response_body = None if data is None else json.loads(JSONRenderer().render(data))
            record.save(update_fields=["status_code", "response_body"])
            self._idempotency_record = None
        return response


def idempotency_records_prune(*, now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task
def idempotency_records_prune_task() -> int:
    return idempotency_records_prune()
