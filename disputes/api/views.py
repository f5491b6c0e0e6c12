"""API endpoints: each checks access, validates its input with a serializer (or the page's
form), calls one service or selector, and answers with a serializer or a problem."""

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from astra_ops.celery import enqueue_on_commit

from .. import selectors, services
from ..choices import Network, ReferenceKind
from ..filters import DUE_WINDOWS, SORT_CHOICES, QueueFilter
from ..forms import TransitionForm
from ..intake import services as intake
from ..intake.models import IntakeFile, TransactionVolume
from ..intake.tasks import import_intake_file
from ..models import Dispute, Transaction, business_today
from . import serializers as api
from .idempotency import idempotent

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "A retried request with the same key gets the first response back while the key is "
        "remembered (IDEMPOTENCY_KEY_RETENTION_HOURS, default 24); after that the key is "
        "forgotten and a request with it is handled as new."
    ),
)


def require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise exceptions.PermissionDenied(message)


class ApiView(APIView):
    """Signed in (session or token) and allowed to read disputes."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require(request, "disputes.view_dispute", "Your role may not read disputes.")


# --- disputes -------------------------------------------------------------------------------------


QUEUE_PARAMETERS = [
    OpenApiParameter("q", str, description="Case id prefix, ARN or trace number, client name"),
    OpenApiParameter("network", str, enum=Network.values),
    OpenApiParameter("rail", str),
    OpenApiParameter("client", str, description="Client slug"),
    OpenApiParameter("stage", str),
    OpenApiParameter("state", str, description="A work state, 'closed' or 'all' (default open)"),
    OpenApiParameter("assignee", str, description="'me', 'unassigned' or a username"),
    OpenApiParameter("due", str, enum=[w for w, _ in DUE_WINDOWS]),
    OpenApiParameter("amount_min", float),
    OpenApiParameter("amount_max", float),
    OpenApiParameter("received_from", OpenApiTypes.DATE),
    OpenApiParameter("received_to", OpenApiTypes.DATE),
    OpenApiParameter("sort", str, enum=[s for s, _ in SORT_CHOICES]),
    OpenApiParameter("size", int, enum=[25, 50, 100, 200]),
    OpenApiParameter("cursor", str, description="The next page's cursor from a response"),
]

DisputePage = inline_serializer(
    "DisputePage",
    {
        "results": api.DisputeSummary(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
        "previous_cursor": serializers.CharField(allow_null=True),
    },
)


class DisputeList(ApiView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="disputes_list", parameters=QUEUE_PARAMETERS, responses={200: DisputePage}
    )
    def get(self, request):
        """The queue: the same filters, order and keyset pages as the queue page."""
        data = request.query_params.copy()
        if "cursor" in data:
            data["after"] = data.pop("cursor")[-1]
        params = QueueFilter(
            data,
            request=request._request,
            clients=selectors.queue_clients(),
            people=selectors.queue_people(),
            today=business_today(),
        )
        if params.form.errors:
            raise exceptions.ValidationError(params.form.errors)
        page = selectors.for_queue(request.user, params)
        return Response(
            {
                "results": api.DisputeSummary(page.rows, many=True).data,
                "next_cursor": page.next_cursor,
                "previous_cursor": page.previous_cursor,
            }
        )

    @extend_schema(
        operation_id="disputes_create",
        request=api.DisputeCreate,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: api.DisputeDetail, 201: api.DisputeDetail},
    )
    @idempotent
    def post(self, request):
        """Open a dispute reported by another system. The same network and case id again
        returns the dispute already open (200), not a second one."""
        require(request, "disputes.add_dispute", "Your role may not open disputes.")
        incoming = api.DisputeCreate(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        existing = _existing(data)
        if existing is not None:
            return Response(_detail(existing), status=status.HTTP_200_OK)
        try:
            dispute = _open(request.user, data)
        except IntegrityError:
            existing = _existing(data)
            if existing is None:
                raise
            return Response(_detail(existing), status=status.HTTP_200_OK)
        return Response(_detail(dispute), status=status.HTTP_201_CREATED)


def _existing(data):
    return Dispute.objects.filter(network=data["network"], case_id=data["case_id"]).first()


@transaction.atomic
def _open(user, data) -> Dispute:
    network = data["network"]
    txn = Transaction.objects.create(
        client=data["client"],
        rail=api.rail_for(network),
        transaction_type=data["transaction_type"],
        sec_code=data.get("sec_code", "") if network == Network.NACHA else "",
        reference_kind=(
            ReferenceKind.TRACE_NUMBER if network == Network.NACHA else ReferenceKind.ARN
        ),
        network_reference=data["reference"],
        account_last4=data.get("account_last4", ""),
        amount=data["amount"],
        currency=data["currency"],
        transaction_date=data["transaction_date"],
        settlement_date=data["settlement_date"],
    )
    return services.open_dispute(
        client=data["client"],
        transaction_record=txn,
        network=network,
        case_id=data["case_id"],
        reason_code=data["reason_code"],
        amount=data["amount"],
        currency=data["currency"],
        received_on=data.get("received_on") or business_today(),
        stage_started_on=data["stage_started_on"],
        actor=user,
        comment=data.get("comment", ""),
        source="API",
    )


def _detail(dispute) -> dict:
    dispute = Dispute.objects.select_related("client", "transaction", "assignee").get(pk=dispute.pk)
    return api.DisputeDetail(dispute).data


class DisputeDetailView(ApiView):
    @extend_schema(operation_id="disputes_retrieve", responses={200: api.DisputeDetail})
    def get(self, request, pk: int):
        """One dispute with its deadlines and its case history, oldest event first."""
        dispute = get_object_or_404(
            Dispute.objects.select_related("client", "transaction", "assignee"), pk=pk
        )
        return Response(api.DisputeDetail(dispute).data)


class ActView(ApiView):
    """``POST /api/v1/disputes/<id>/<act>/``: one view per named service (``services.ACTS``)."""

    act: services.Act = None
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=api.ActInput, responses={200: api.DisputeDetail})
    def post(self, request, pk: int):
        dispute = get_object_or_404(Dispute.objects.select_related("transaction"), pk=pk)
        incoming = api.ActInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        refusal = services.why_not(
            dispute=dispute,
            name=self.act.name,
            actor=request.user,
            expected_version=data["version"],
        )
        if refusal is not None:
            raise refusal
        spec = {"name": self.act.name, **services.transition_custom(dispute, self.act.name)}
        form = TransitionForm(
            {k: str(v) for k, v in data.items()},
            spec=spec,
            dispute=dispute,
            today=business_today(),
            people=selectors.queue_people() if spec.get("needs_assignee") else None,
        )
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        self.act.service(
            dispute_id=dispute.pk,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            comment=form.cleaned_data["comment"].strip(),
            **form.transition_params(),
        )
        return Response(_detail(dispute))


def act_view(act: services.Act):
    doc = (act.service.__doc__ or act.name).strip()

    @extend_schema(
        operation_id=f"disputes_{act.name}",
        summary=act.name.replace("_", " ").capitalize(),
        description=doc,
        request=api.ActInput,
        responses={200: api.DisputeDetail},
    )
    def post(self, request, pk: int):
        return ActView.post(self, request, pk)

    view = type(f"Act_{act.name}", (ActView,), {"act": act, "__doc__": doc, "post": post})
    return view.as_view()


# --- intake ---------------------------------------------------------------------------------------


class ImportList(ApiView):
    @extend_schema(responses={200: api.IntakeFileOut(many=True)})
    def get(self, request):
        """The latest 100 files imported or refused."""
        require(request, "disputes.import_files", "Your role may not see imports.")
        return Response(api.IntakeFileOut(IntakeFile.objects.all()[:100], many=True).data)


class ImportDetail(ApiView):
    @extend_schema(responses={200: api.IntakeFileOut})
    def get(self, request, pk: int):
        """One file: its status, progress, error (line and field) and what it changed."""
        require(request, "disputes.import_files", "Your role may not see imports.")
        return Response(api.IntakeFileOut(get_object_or_404(IntakeFile, pk=pk)).data)


def _receive(request, kind: str, upload, source: str = "") -> Response:
    require(request, "disputes.import_files", "Your role may not import files.")
    content = upload.read()
    intake_file, created = intake.receive_file(
        kind=kind, name=upload.name, content=content, uploaded_by=request.user, source=source
    )
    if created:
        enqueue_on_commit(import_intake_file, intake_file.pk)
    code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    return Response(api.IntakeFileOut(intake_file).data, status=code)


class NachaUpload(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": api.FileUpload},
        responses={200: api.IntakeFileOut, 202: api.IntakeFileOut},
    )
    def post(self, request):
        """Import a NACHA return file in the background (202; poll the import). The same file
        again returns its first import (200)."""
        incoming = api.FileUpload(data=request.data)
        incoming.is_valid(raise_exception=True)
        return _receive(request, IntakeFile.Kind.NACHA, incoming.validated_data["file"])


class CardReportUpload(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": api.CardReportUpload},
        responses={200: api.IntakeFileOut, 202: api.IntakeFileOut},
    )
    def post(self, request):
        """Import a processor's dispute report (CSV) with the source's column mapping."""
        incoming = api.CardReportUpload(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        return _receive(request, IntakeFile.Kind.CARD, data["file"], data["source"])


VolumeCounts = inline_serializer(
    "VolumeCounts",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)


class Volumes(ApiView):
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("client", str, description="Client slug"),
            OpenApiParameter("day_from", OpenApiTypes.DATE),
            OpenApiParameter("day_to", OpenApiTypes.DATE),
        ],
        responses={200: api.VolumeRow(many=True)},
    )
    def get(self, request):
        """Daily transaction volumes (latest first, at most 1,000 rows)."""
        query = api.VolumeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = TransactionVolume.objects.select_related("client")
        filters = query.validated_data
        if filters.get("client"):
            rows = rows.filter(client__slug=filters["client"])
        if filters.get("day_from"):
            rows = rows.filter(day__gte=filters["day_from"])
        if filters.get("day_to"):
            rows = rows.filter(day__lte=filters["day_to"])
        return Response(api.VolumeRow(rows[:1000], many=True).data)

    @extend_schema(request=api.VolumeImport, responses={200: VolumeCounts})
    def post(self, request):
        """Insert or update daily volumes; the same rows again change nothing. All or none."""
        require(request, "disputes.import_files", "Your role may not import volumes.")
        incoming = api.VolumeImport(data=request.data)
        incoming.is_valid(raise_exception=True)
        rows = [
            intake.volumes.VolumeRow(
                line=index,
                client=row["client"].slug,
                day=row["day"],
                rail=row["rail"],
                transaction_type=row["transaction_type"],
                count=row["count"],
                amount=row["amount"],
                currency=row["currency"],
            )
            for index, row in enumerate(incoming.validated_data["rows"], start=1)
        ]
        try:
            with transaction.atomic():
                counts = intake.save_volumes(rows=rows)
        except intake.IntakeRefused as exc:
            raise exceptions.ValidationError({"rows": [str(exc)]}) from None
        return Response(counts)
