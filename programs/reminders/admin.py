from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every message (email or push) the outbox sent or will send, read-only: rows are written by the
    dispatcher and senders only."""

    list_display = [
        "kind",
        "channel",
        "recipient",
        "program",
        "local_date",
        "status",
        "due_at",
        "sent_at",
        "attempts",
        "short_error",
    ]
    list_filter = [
        "kind",
        "channel",
        "status",
        ("local_date", admin.DateFieldListFilter),
        ("due_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["recipient", "enrolment__program"]
    search_fields = [
        "recipient__email",
        "recipient__username",
        "enrolment__program__title_en",
        "enrolment__program__title_de",
    ]
    date_hierarchy = "local_date"
    ordering = ["-due_at"]
    show_full_result_count = False  # no COUNT(*) over a table that grows by a row per member per day

    @admin.display(description=_("program"), ordering="enrolment__program__title_en")
    def program(self, message: OutboxMessage):
        return message.enrolment.program if message.enrolment else "—"

    @admin.display(description=_("last error"))
    def short_error(self, message: OutboxMessage) -> str:
        return message.last_error[:80]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
