"""Django admin: for data fixes and look-ups. State never changes here: a dispute is opened
through the service (which writes its first event), notes are added through the service, and
the case history is read-only."""

from django.contrib import admin, messages
from django.utils.html import format_html

from . import detail_selectors, services
from .history.verify import verify
from .models import AchCompany, CaseEvent, Client, ClientContact, Dispute, Transaction


class ClientContactInline(admin.TabularInline):
    model = ClientContact
    extra = 0


class AchCompanyInline(admin.TabularInline):
    model = AchCompany
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cs_owner", "is_active", "created_at"]
    list_filter = ["is_active", "cs_owner"]
    search_fields = ["name", "slug", "ach_companies__company_id"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["cs_owner"]
    inlines = [ClientContactInline, AchCompanyInline]


@admin.register(ClientContact)
class ClientContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "client", "role", "receives_evidence_requests"]
    list_filter = ["receives_evidence_requests"]
    search_fields = ["name", "email", "client__name"]
    autocomplete_fields = ["client"]


@admin.register(AchCompany)
class AchCompanyAdmin(admin.ModelAdmin):
    list_display = ["company_id", "company_name", "client"]
    search_fields = ["company_id", "company_name", "client__name"]
    autocomplete_fields = ["client"]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "network_reference",
        "reference_kind",
        "client",
        "rail",
        "transaction_type",
        "amount",
        "currency",
        "transaction_date",
        "settlement_date",
    ]
    list_filter = ["rail", "transaction_type", "sec_code", "currency"]
    search_fields = ["network_reference", "client__name", "ach_company_id", "account_last4"]
    autocomplete_fields = ["client"]
    date_hierarchy = "transaction_date"
    list_select_related = ["client"]
    show_full_result_count = False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["seq", "created_at", "kind", "actor", "system_actor", "stage", "state", "payload"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-seq"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = [
        "case_id",
        "network",
        "reason_code",
        "client",
        "amount_display",
        "stage",
        "state",
        "assignee",
        "internal_due",
        "network_due",
        "outcome",
    ]
    list_filter = ["network", "rail", "state", "stage", "outcome", "due_party", "client"]
    search_fields = [
        "=case_id",
        "=transaction__network_reference",
        "client__name",
        "reason_code",
    ]
    list_select_related = ["client", "assignee"]
    date_hierarchy = "received_on"
    show_full_result_count = False
    autocomplete_fields = ["client", "transaction"]
    actions = ["verify_audit_chain"]
    add_fields = [
        "network",
        "case_id",
        "client",
        "transaction",
        "reason_code",
        "amount",
        "currency",
        "received_on",
        "stage_started_on",
        "alt_anchor_date",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return [f.name for f in Dispute._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        # After opening, every field is the state machine's or the deadline engine's.
        return [] if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return [CaseEventInline] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        opened = services.open_dispute(
            actor=request.user,
            transaction_record=obj.transaction,
            comment="Opened in the admin",
            **{f: getattr(obj, f) for f in self.add_fields if f != "transaction"},
        )
        obj.pk = opened.pk
        mismatch = detail_selectors.entry_mismatch(opened)
        if mismatch:
            # Typed in by hand: warn and keep it (the RDFI chose the code, not us).
            self.message_user(request, f"Check the return code: {mismatch}", messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj):
        return format_html("{}&nbsp;{}", obj.amount, obj.currency)

    @admin.action(description="Verify the case history of the selected disputes")
    def verify_audit_chain(self, request, queryset):
        report = verify(queryset.values_list("pk", flat=True))
        for chain_break in report.breaks[:20]:
            self.message_user(request, f"Broken: {chain_break}", messages.ERROR)
        if report.intact:
            self.message_user(
                request, f"{report.events} events verified: every case history intact."
            )


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    """Read-only: the history is append-only, here as everywhere (a correction is a new event,
    such as a new note)."""

    list_display = [
        "dispute",
        "seq",
        "kind",
        "actor",
        "system_actor",
        "stage",
        "state",
        "created_at",
    ]
    list_filter = ["kind", "stage", "state"]
    search_fields = ["=dispute__case_id"]
    list_select_related = ["dispute", "actor"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from .evidence import admin as evidence_admin  # noqa: E402, F401  (read-only evidence pages)
