"""What the API reads and writes. How a dispute reads (labels, urgency, the timeline) comes from
the same places as the pages: the models' display methods and the case history's kinds."""

import re
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from rest_framework import serializers

from calendar_rules import rules

from ..choices import (
    Network,
    Outcome,
    Party,
    Rail,
    SecCode,
    Stage,
    TransactionType,
    WorkState,
)
from ..detail_selectors import _describe, event_actor
from ..intake.models import IntakeFile, TransactionVolume
from ..models import Client, Dispute, business_today

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError("Give a date between 2000 and 2099.")
    return value


class Urgency(serializers.Serializer):
    label = serializers.CharField()
    level = serializers.CharField()


class DisputeSummary(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    network_label = serializers.CharField(source="get_network_display", read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    due_party = serializers.ChoiceField(choices=Party.choices, allow_blank=True, read_only=True)
    assignee = serializers.SerializerMethodField()
    urgency = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "network",
            "network_label",
            "case_id",
            "client",
            "client_name",
            "rail",
            "reason_code",
            "stage",
            "stage_label",
            "state",
            "state_label",
            "outcome",
            "amount",
            "currency",
            "received_on",
            "network_due",
            "internal_due",
            "due_party",
            "assignee",
            "urgency",
            "version",
        ]
        read_only_fields = fields

    def get_assignee(self, dispute) -> str | None:
        user = dispute.assignee
        return (user.get_full_name() or user.get_username()) if user else None

    def get_urgency(self, dispute) -> Urgency:
        urgency = dispute.urgency(business_today())
        return {"label": urgency.label, "level": urgency.level}


class Deadline(serializers.Serializer):
    network_due = serializers.DateField(allow_null=True)
    internal_due = serializers.DateField(allow_null=True)
    client_evidence_due = serializers.DateField(allow_null=True)
    whose_move = serializers.CharField(allow_blank=True)
    rule = serializers.CharField(allow_blank=True)
    rules_version = serializers.CharField(allow_blank=True)
    explanation = serializers.CharField(allow_blank=True)


class Fact(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


class HistoryEvent(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    changes = serializers.ListField(child=serializers.CharField())
    facts = Fact(many=True)


class TransactionOut(serializers.Serializer):
    reference = serializers.CharField(source="network_reference")
    reference_kind = serializers.CharField()
    rail = serializers.CharField()
    transaction_type = serializers.CharField()
    sec_code = serializers.CharField(allow_blank=True)
    account_last4 = serializers.CharField(allow_blank=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    transaction_date = serializers.DateField()
    settlement_date = serializers.DateField()
    original_entry_on_file = serializers.BooleanField(
        help_text="False for an ACH entry known only from its return: the dates are the return's"
    )


class DisputeDetail(DisputeSummary):
    transaction = TransactionOut(read_only=True)
    deadline = serializers.SerializerMethodField()
    return_timeliness = serializers.SerializerMethodField()
    return_timely = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(DisputeSummary.Meta):
        fields = [
            *DisputeSummary.Meta.fields,
            "stage_started_on",
            "return_settled_on",
            "dishonor_code",
            "contest_code",
            "recovered_amount",
            "transaction",
            "deadline",
            "return_timeliness",
            "return_timely",
            "history",
        ]
        read_only_fields = fields

    def get_deadline(self, dispute) -> Deadline:
        return {
            "network_due": dispute.network_due,
            "internal_due": dispute.internal_due,
            "client_evidence_due": dispute.client_evidence_due,
            "whose_move": dispute.get_due_party_display() if dispute.due_party else "",
            "rule": dispute.deadline_rule,
            "rules_version": dispute.rules_version,
            "explanation": dispute.deadline_explanation,
        }

    def get_return_timeliness(self, dispute) -> str | None:
        """NACHA: the verdict in words ("Not known: original entry not on file." when it is
        not); null for card disputes."""
        result = dispute.return_timeliness()
        return result.explanation if result else None

    def get_return_timely(self, dispute) -> bool | None:
        """NACHA: true or false when the return's timeliness is known; null when it is not
        (the original entry is not on file, or no time frame applies) and for card disputes."""
        result = dispute.return_timeliness()
        if result is None or result.status == "undetermined":
            return None
        return result.timely

    def get_history(self, dispute) -> HistoryEvent(many=True):
        events = dispute.events.select_related("actor").order_by("seq")
        rows = []
        for event in events:
            described = _describe(event, dispute)
            rows.append(
                {
                    "seq": event.seq,
                    "kind": event.kind,
                    "at": event.created_at,
                    "actor": event_actor(event),
                    "title": described.title,
                    "body": described.body,
                    "changes": list(described.changes),
                    "facts": [{"label": k, "value": v} for k, v in described.facts],
                }
            )
        return HistoryEvent(rows, many=True).data


CASE_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


class DisputeCreate(serializers.Serializer):
    """A dispute reported by another system. Idempotent on network and network case id."""

    network = serializers.ChoiceField(choices=Network.choices)
    case_id = serializers.RegexField(CASE_ID, max_length=40)
    client = serializers.SlugRelatedField(
        slug_field="slug", queryset=Client.objects.filter(is_active=True)
    )
    reason_code = serializers.CharField(max_length=8)
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(10**13)
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", default="USD")
    reference = serializers.RegexField(r"^[A-Za-z0-9-]{1,64}$", help_text="ARN or trace number")
    transaction_type = serializers.ChoiceField(choices=TransactionType.choices)
    sec_code = serializers.ChoiceField(choices=SecCode.choices, required=False, allow_blank=True)
    account_last4 = serializers.RegexField(r"^\d{4}$", required=False, allow_blank=True)
    transaction_date = serializers.DateField(validators=[_in_range])
    settlement_date = serializers.DateField(validators=[_in_range])
    stage_started_on = serializers.DateField(validators=[_in_range])
    received_on = serializers.DateField(required=False, validators=[_in_range])
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    def validate(self, data):
        try:
            data["reason_code"] = rules.reason_code(data["network"], data["reason_code"]).code
        except rules.RuleLookupError as exc:
            raise serializers.ValidationError({"reason_code": str(exc)}) from None
        if data["settlement_date"] < data["transaction_date"]:
            raise serializers.ValidationError(
                {"settlement_date": "The settlement date cannot be before the transaction date."}
            )
        return data


def rail_for(network: str) -> str:
    return Rail.ACH if network == Network.NACHA else Rail.CARD


class ActInput(serializers.Serializer):
    """The inputs of an act; which ones an act takes is in its description."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    on = serializers.DateField(required=False, validators=[_in_range])
    code = serializers.CharField(max_length=3, required=False)
    assignee = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    recovered_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal(0), required=False
    )


class IntakeFileOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = IntakeFile
        fields = [
            "id",
            "kind",
            "kind_label",
            "source",
            "name",
            "sha256",
            "status",
            "status_label",
            "error",
            "error_line",
            "total",
            "done",
            "progress_percent",
            "summary",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class FileUpload(serializers.Serializer):
    file = serializers.FileField(max_length=200, allow_empty_file=False)


class CardReportUpload(FileUpload):
    source = serializers.ChoiceField(choices=[])

    def __init__(self, *args, **kwargs):
        from ..intake.sources import sources

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [
            (key, source.label) for key, source in sources().card_sources.items()
        ]


class VolumeRow(serializers.ModelSerializer):
    client = serializers.SlugRelatedField(slug_field="slug", queryset=Client.objects.all())
    day = serializers.DateField(validators=[_in_range])
    count = serializers.IntegerField(min_value=0, max_value=10**12)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal(0))
    currency = serializers.RegexField(r"^[A-Z]{3}$", default="USD")

    class Meta:
        model = TransactionVolume
        fields = ["client", "day", "rail", "transaction_type", "count", "amount", "currency"]
        validators = []  # the import updates a day it already has


class VolumeImport(serializers.Serializer):
    rows = VolumeRow(many=True, allow_empty=False, max_length=10000)


__all__ = [
    "DisputeCreate",
    "DisputeDetail",
    "DisputeSummary",
    "Stage",
    "WorkState",
    "get_user_model",
]


class VolumeQuery(serializers.Serializer):
    client = serializers.CharField(required=False, max_length=80)
    day_from = serializers.DateField(required=False, validators=[_in_range])
    day_to = serializers.DateField(required=False, validators=[_in_range])
