from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Partners register endpoints through the API; here they can be seen, and switched off or on."""

    list_display = ["url", "partner", "is_active", "failing_since", "created_at"]
    list_filter = ["is_active", "partner"]
    search_fields = ["url", "partner__name"]
    list_select_related = ["partner"]
    fields = ["partner", "url", "events", "is_active", "failing_since", "disabled_at", "created_at"]
    readonly_fields = ["partner", "url", "events", "failing_since", "disabled_at", "created_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "is_active" in form.changed_data:
            services.endpoint_update(endpoint=obj, is_active=obj.is_active)


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = [
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_response_code",
        "last_error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["__str__", "partner", "member_external_id", "created_at"]
    list_filter = ["type", "partner"]
    search_fields = ["member_external_id"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    fields = ["partner", "type", "member", "member_external_id", "payload", "created_at"]
    readonly_fields = fields
    inlines = [WebhookDeliveryInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Redeliver the selected events to their partners' active endpoints"))
    def redeliver(self, request, queryset):
        queued = 0
        for partner_id in set(queryset.values_list("partner_id", flat=True)):
            events = queryset.filter(partner_id=partner_id)
            queued += services.events_redeliver(partner=events.first().partner, events=events)
        message = ngettext("%(count)d delivery queued.", "%(count)d deliveries queued.", queued) % {"count": queued}
        self.message_user(request, message, messages.SUCCESS)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["delivery", "at", "succeeded", "response_code", "error"]
    list_filter = ["succeeded"]
    list_select_related = ["delivery__event", "delivery__endpoint"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
