"""Rebuttal letter templates, one per reason-code family, filled with the dispute's facts.
The editor starts from ``draft(dispute)``; saved versions live in ``RebuttalLetter``."""

from django.template.loader import render_to_string

from disputes.models import business_today

FAMILIES = {
    "fraud": "Fraud",
    "authorization": "Authorization",
    "processing_error": "Processing error",
    "consumer_dispute": "Consumer dispute",
    "ach_return": "ACH return",
}
CARD_FAMILIES = {
    ("visa", "10"): "fraud",
    ("visa", "11"): "authorization",
    ("visa", "12"): "processing_error",
    ("visa", "13"): "consumer_dispute",
    ("mastercard", "fraud"): "fraud",
    ("mastercard", "authorization"): "authorization",
    ("mastercard", "processing_error"): "processing_error",
    ("mastercard", "cardholder_dispute"): "consumer_dispute",
}


def family_of(dispute) -> str:
    if dispute.network == "nacha":
        return "ach_return"
    try:
        category = dispute.reason.category
    except ValueError:
        category = None
    return CARD_FAMILIES.get((dispute.network, category), "consumer_dispute")


def draft(dispute, *, items=()) -> str:
    """The template of the dispute's family, filled with its facts and the evidence on file."""
    family = family_of(dispute)
    try:
        reason_name = dispute.reason.name
    except ValueError:
        reason_name = ""
    context = {
        "dispute": dispute,
        "txn": dispute.transaction,
        "client": dispute.client,
        "reason_name": reason_name,
        "today": business_today(),
        "items": list(items),
    }
    return render_to_string(f"evidence/letters/{family}.txt", context).strip() + "\n"
