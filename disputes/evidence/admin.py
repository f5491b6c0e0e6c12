"""Evidence in the admin: read-only. Every change goes through the services, which record it
in the case history; the admin only looks."""

from django.contrib import admin

from .models import ChecklistOverride, EvidenceItem, EvidenceRequest, RebuttalLetter


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnly):
    list_display = (
        "original_name",
        "dispute",
        "kind",
        "content_type",
        "size",
        "pages",
        "uploaded_at",
        "withdrawn",
    )
    list_filter = ("kind", "content_type", "withdrawn")
    search_fields = ("original_name", "sha256", "dispute__case_id")
    list_select_related = ("dispute",)


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnly):
    list_display = ("dispute", "contact", "colleague", "due_on", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("dispute__case_id", "contact__email")
    list_select_related = ("dispute", "contact", "colleague")
    exclude = ("link_nonce",)


@admin.register(ChecklistOverride)
class ChecklistOverrideAdmin(ReadOnly):
    list_display = ("dispute", "stage", "actor", "created_at")


@admin.register(RebuttalLetter)
class RebuttalLetterAdmin(ReadOnly):
    list_display = ("dispute", "version", "family", "author", "created_at")
