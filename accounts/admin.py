"""Users (with the member profile) and partners with their API keys.

A partner key is shown once, in the message after it is created, and stored
only hashed (djangorestframework-api-key); revoking it cannot be undone.
Member API tokens are listed on the user's page and revoked by deleting them.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from . import services
from .models import APIToken, Partner, PartnerAPIKey, User

# The library registers its own partner-less key model; only PartnerAPIKey means anything here.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class APITokenInline(admin.TabularInline):
    model = APIToken
    extra = 0
    fields = ["prefix", "created_at", "last_used_at"]
    readonly_fields = fields
    can_delete = True
    verbose_name_plural = "API tokens (delete one to revoke it)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "display_name", "timezone", "partner", "is_staff", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "email_reminders", "partner"]
    search_fields = ["username", "email", "display_name", "external_id"]
    list_select_related = ["partner"]
    readonly_fields = ["email_verified_at", "last_login", "date_joined", "next_weekly_summary_at"]
    autocomplete_fields = ["partner"]
    inlines = [APITokenInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Profile"), {"fields": ["display_name", "email", "email_verified_at", "timezone", "language"]}),
        (_("Reminders"), {"fields": ["default_reminder_time", "email_reminders"]}),
        (
            _("Other emails"),
            {
                "fields": [
                    "nudge_emails",
                    "weekly_summary_emails",
                    "weekly_summary_day",
                    "weekly_summary_time",
                    "next_weekly_summary_at",
                    "trainer_digest_emails",
                ]
            },
        ),
        (_("Partner"), {"fields": ["partner", "external_id"], "classes": ["collapse"]}),
        (
            _("Permissions"),
            {
                "fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
                "classes": ["collapse"],
            },
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]

    def save_model(self, request, obj, form, change):
        if change:
            # The profile and email settings go through the member settings
            # service first, so a new time zone moves the member's reminders and
            # weekly summary too.
            services.user_update_settings(
                user=obj,
                display_name=obj.display_name,
                timezone_name=obj.timezone,
                default_reminder_time=obj.default_reminder_time,
                email_reminders=obj.email_reminders,
                nudge_emails=obj.nudge_emails,
                weekly_summary_emails=obj.weekly_summary_emails,
                weekly_summary_day=obj.weekly_summary_day,
                weekly_summary_time=obj.weekly_summary_time,
                trainer_digest_emails=obj.trainer_digest_emails,
                language=obj.language,
            )
        super().save_model(request, obj, form, change)


class PartnerAPIKeyInline(admin.TabularInline):
    """Keys are listed here; they are created and revoked on their own page (the key is shown once there)."""

    model = PartnerAPIKey
    extra = 0
    fields = ["name", "prefix", "created", "expiry_date", "last_used_at", "revoked"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_email", "is_active", "member_count", "active_key_count", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact_email"]
    inlines = [PartnerAPIKeyInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                active_key_count=Count("api_keys", filter=Q(api_keys__revoked=False), distinct=True),
            )
        )

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, partner):
        return partner.member_count

    @admin.display(description=_("active keys"), ordering="active_key_count")
    def active_key_count(self, partner):
        return partner.active_key_count


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    list_display = ["name", "partner", "prefix", "created", "expiry_date", "last_used_at", "_has_expired", "revoked"]
    list_filter = ["revoked", "partner"]
    list_select_related = ["partner"]
    search_fields = ["name", "prefix", "partner__name"]
    autocomplete_fields = ["partner"]
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "last_used_at"]
        if obj is not None:
            # A key stays with the partner it was made for.
            fields.append("partner")
        return fields

    @admin.action(description=_("Revoke selected keys (cannot be undone)"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        message = ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)
