"""A dispute's evidence through the API: the checklist and the items, uploads and withdrawals.

Every change goes through ``disputes.evidence.services``, as on the dispute page: the same
validation by content, size limit, duplicate flag, role permissions and case-history events
(``evidence_added``, ``evidence_withdrawn``). A file refused by its content is a 422 problem
naming the reason; nothing of it is stored.
"""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from calendar_rules.rules.evidence import evidence_table

from ..evidence import selectors as evidence_selectors
from ..evidence import services as evidence
from ..evidence.forms import UploadForm
from ..evidence.models import EvidenceItem
from ..models import Dispute
from .views import ApiView


class EvidenceItemOut(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    kind_label = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()
    on_behalf_of = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceItem
        fields = [
            "id",
            "kind",
            "kind_label",
            "name",
            "description",
            "content_type",
            "size",
            "pages",
            "sha256",
            "uploaded_at",
            "uploaded_by",
            "on_behalf_of",
            "duplicate_of",
            "withdrawn",
            "withdrawn_at",
            "withdrawal_reason",
            "file_url",
        ]
        read_only_fields = fields

    def get_kind_label(self, item) -> str:
        kind = evidence_table().kinds.get(item.kind)
        return kind.label if kind else item.kind

    def get_uploaded_by(self, item) -> str | None:
        """The person who uploaded it; null for a client's upload through a request link."""
        user = item.uploaded_by
        return (user.get_full_name() or user.get_username()) if user else None

    def get_on_behalf_of(self, item) -> str | None:
        """The client contact the file came from, if any."""
        return item.on_behalf_of.name if item.on_behalf_of else None

    def get_file_url(self, item) -> str:
        """Where a signed-in user who may read the dispute downloads the file."""
        return reverse("disputes:evidence_file", kwargs={"pk": item.dispute_id, "item_id": item.pk})


class ChecklistRowOut(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    need = serializers.ChoiceField(choices=["required", "recommended"])
    satisfied_by = serializers.CharField(allow_blank=True)
    satisfied = serializers.BooleanField()
    status = serializers.CharField(help_text='In words: "2 files", "Requested, due Dec 3", …')
    items = serializers.ListField(child=serializers.IntegerField())


class ChecklistOut(serializers.Serializer):
    matched_by = serializers.CharField(allow_blank=True)
    rows = ChecklistRowOut(many=True)
    missing_required = serializers.ListField(child=serializers.CharField())
    overridden = serializers.BooleanField(help_text="An ops lead let it through, for a reason")
    blocks_ready = serializers.BooleanField(help_text='"Mark ready to submit" is refused')


EvidenceOut = inline_serializer(
    "DisputeEvidence",
    {
        "checklist": ChecklistOut(),
        "items": EvidenceItemOut(many=True),
    },
)


class EvidenceUpload(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.CharField(max_length=40, help_text="An evidence kind (evidence.yaml)")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    on_behalf_of = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="A client contact's id"
    )


class EvidenceWithdrawal(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


def _dispute(pk: int) -> Dispute:
    return get_object_or_404(Dispute.objects.select_related("client"), pk=pk)


def _checklist(dispute, items) -> dict:
    status_ = evidence_selectors.checklist_status(
        dispute, items=[i for i in items if not i.withdrawn]
    )
    rows = [
        {
            "kind": row.item.kind.key,
            "label": row.item.kind.label,
            "need": row.item.need,
            "satisfied_by": row.item.kind.satisfied_by,
            "satisfied": row.satisfied,
            "status": row.status,
            "items": [f.pk for f in row.files],
        }
        for row in status_.rows
    ]
    return {
        "matched_by": status_.checklist.matched_by if status_.checklist else "",
        "rows": rows,
        "missing_required": [item.kind.key for item in status_.missing_required],
        "overridden": status_.override is not None,
        "blocks_ready": status_.blocks_ready,
    }


class DisputeEvidence(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="disputes_evidence_list", responses={200: EvidenceOut})
    def get(self, request, pk: int):
        """The dispute's checklist (each item, whether it is satisfied, requested or missing)
        and every evidence item, withdrawn ones included (flagged), oldest first."""
        dispute = _dispute(pk)
        items = list(
            EvidenceItem.objects.filter(dispute=dispute)
            .select_related("uploaded_by", "on_behalf_of")
            .order_by("uploaded_at", "id")
        )
        return Response(
            {
                "checklist": _checklist(dispute, items),
                "items": EvidenceItemOut(items, many=True).data,
            }
        )

    @extend_schema(
        operation_id="disputes_evidence_upload",
        request={"multipart/form-data": EvidenceUpload},
        responses={201: EvidenceItemOut},
    )
    def post(self, request, pk: int):
        """Upload one file of evidence (multipart). Its type is found by content; a file the
        dispute page would refuse (executable, archive, damaged or scripted PDF, over the size
        limit, …) is refused here with the same reason (422). The same file twice is kept and
        marked as a duplicate (``duplicate_of``)."""
        dispute = _dispute(pk)
        incoming = EvidenceUpload(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        form = UploadForm(
            {
                "kind": data["kind"],
                "description": data.get("description", ""),
                "on_behalf_of": data.get("on_behalf_of") or "",
            },
            dispute=dispute,
        )
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        upload = data["file"]
        # Never read more than the limit (plus one byte): an oversize file is refused by size.
        content = upload.read(settings.EVIDENCE_MAX_BYTES + 1)
        result = evidence.upload_evidence(
            dispute_id=dispute.pk,
            uploads=[evidence.Upload(upload.name or "", content, upload.size)],
            kind=form.cleaned_data["kind"],
            description=form.cleaned_data["description"],
            on_behalf_of=form.cleaned_data["on_behalf_of"],
            actor=request.user,
        )
        if not result.saved:
            name, message = result.refused[0]
            error = exceptions.APIException(f"{name}: not accepted. {message}")
            error.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
            raise error
        return Response(EvidenceItemOut(result.saved[0]).data, status=status.HTTP_201_CREATED)


class EvidenceWithdraw(ApiView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="disputes_evidence_withdraw",
        request=EvidenceWithdrawal,
        responses={200: EvidenceItemOut},
    )
    def post(self, request, pk: int, item_id: int):
        """Withdraw an item, saying why: it stays stored and in the case history, and no longer
        counts for the checklist or a bundle. Items are never deleted."""
        item = get_object_or_404(EvidenceItem, pk=item_id, dispute_id=pk)
        incoming = EvidenceWithdrawal(data=request.data)
        incoming.is_valid(raise_exception=True)
        withdrawn = evidence.withdraw_evidence(
            item_id=item.pk, actor=request.user, reason=incoming.validated_data["reason"]
        )
        withdrawn = EvidenceItem.objects.select_related("uploaded_by", "on_behalf_of").get(
            pk=withdrawn.pk
        )
        return Response(EvidenceItemOut(withdrawn).data)
