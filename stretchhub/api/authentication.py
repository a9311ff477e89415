"""API authentication: member tokens (`Token …`) and partner keys (`Api-Key …`).

A partner is not a user: a request made with a partner key is authenticated
with `request.user` anonymous and `request.auth` the PartnerAPIKey, and the
permissions in stretchhub/api/permissions.py tell the two callers apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authentication import SessionAuthentication

from accounts.models import APIToken, PartnerAPIKey

# last_used_at is written at most once per interval per key or token: a
# conditional UPDATE that matches nothing while the stored time is fresh, so a
# busy caller costs no write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _touch(model, pk, last_used_at: dt.datetime | None) -> None:
    now = timezone.now()
    if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
        return
    model.objects.filter(pk=pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


def _credentials(request, keyword: str) -> str | None:
    """The credentials after `keyword` in the Authorization header, None when another scheme is used."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != keyword.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(f"Invalid {keyword} header: give exactly one credential after {keyword}.")
    try:
        return header[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed(f"Invalid {keyword} header: the credential must be ASCII.") from None


class MemberTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        raw = _credentials(request, self.keyword)
        if raw is None:
            return None
        token = APIToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        _touch(APIToken, token.pk, token.last_used_at)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        raw = _credentials(request, self.keyword)
        if raw is None:
            return None
        prefix = raw.partition(".")[0]
        key = PartnerAPIKey.objects.select_related("partner").filter(prefix=prefix).first()
        # is_valid compares the SHA-512 digest in constant time.
        if key is None or key.revoked or key.has_expired or not key.is_valid(raw) or not key.partner.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API key."))
        _touch(PartnerAPIKey, key.pk, key.last_used_at)
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return self.keyword


MEMBER_AUTHENTICATION = [MemberTokenAuthentication, SessionAuthentication]
PARTNER_AUTHENTICATION = [PartnerKeyAuthentication]
ANY_AUTHENTICATION = [MemberTokenAuthentication, PartnerKeyAuthentication, SessionAuthentication]


def caller_of(request) -> tuple[str, int] | None:
    """("partner", partner id) or ("member", user id) for an authenticated API request, else None."""
    if isinstance(request.auth, PartnerAPIKey):
        return "partner", request.auth.partner_id
    if request.user.is_authenticated:
        return "member", request.user.pk
    return None
