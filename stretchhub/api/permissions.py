from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.models import PartnerAPIKey


class IsMember(BasePermission):
    """A logged-in member (session) or a member token; never a partner key."""

    message = _("Log in, or send a member token: Authorization: Token <token>.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and not isinstance(request.auth, PartnerAPIKey))


class IsPartner(BasePermission):
    message = _("Send your partner key: Authorization: Api-Key <key>.")

    def has_permission(self, request, view):
        return isinstance(request.auth, PartnerAPIKey)
