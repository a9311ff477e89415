from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the dispatcher and the senders only."""

    list_display = ["member", "program", "local_date", "status", "due_at", "sent_at", "attempts", "short_error"]
    list_filter = ["status", ("local_date", admin.DateFieldListFilter), ("due_at", admin.DateFieldListFilter)]
    list_select_related = ["enrolment__member", "enrolment__program"]
    search_fields = ["enrolment__member__email", "enrolment__member__username", "enrolment__program__title"]
    date_hierarchy = "local_date"
    ordering = ["-due_at"]
    show_full_result_count = False  # no COUNT(*) over a table that grows by one row per member per day

    @admin.display(description="member", ordering="enrolment__member__username")
    def member(self, delivery: OutboxMessage):
        return delivery.enrolment.member or "deleted member"

    @admin.display(description="program", ordering="enrolment__program__title")
    def program(self, delivery: OutboxMessage):
        return delivery.enrolment.program

    @admin.display(description="last error")
    def short_error(self, delivery: OutboxMessage) -> str:
        return delivery.last_error[:80]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
