"""Tables of the project-level pages (audit log, staff users)."""

import django_tables2 as tables
from django.utils.html import format_html_join

from .models import AuditEvent
from .tables import BadgeColumn, BaseTable, BooleanColumn, DateTimeColumn


class AuditEventTable(BaseTable):
    """Read-only: there is no edit or delete column, and the model refuses both."""

    created_at = DateTimeColumn(seconds=True, verbose_name="When")
    actor_name = tables.Column(verbose_name="User")
    ip_address = tables.Column(verbose_name="IP address")
    action = BadgeColumn()
    target = tables.Column(
        accessor="target_id", verbose_name="Target", order_by=("target_type", "target_id")
    )

    class Meta(BaseTable.Meta):
        model = AuditEvent
        fields = ("created_at", "actor_name", "action", "target", "summary", "ip_address")
        sequence = fields

    def render_target(self, record: AuditEvent) -> str:
        return f"{record.target_type}:{record.target_id}" if record.target_type else ""


class StaffUserTable(BaseTable):
    username = tables.LinkColumn("backoffice:user_edit", args=[tables.A("pk")])
    full_name = tables.Column(accessor="get_full_name", verbose_name="Name", orderable=False)
    email = tables.Column()
    roles = tables.Column(accessor="pk", verbose_name="Roles", orderable=False)
    is_active = BooleanColumn(verbose_name="Active")
    last_login = DateTimeColumn()

    class Meta(BaseTable.Meta):
        fields = ("username", "full_name", "email", "roles", "is_active", "last_login")
        sequence = fields

    def render_roles(self, record) -> str:  # type: ignore[no-untyped-def]
        groups = getattr(record, "role_groups", None) or []
        labels = [(g.name,) for g in groups]
        if record.is_superuser:
            labels.append(("superuser",))
        return format_html_join(" ", '<span class="badge text-bg-secondary">{}</span>', labels)
