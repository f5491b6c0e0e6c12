"""Demo data for the intake: a NACHA return file (matched and unmatched originators, a return
that does not fit its entry, notifications of change), a file of our dishonor and the RDFI's
contest, a Visa processor report and a week of transaction volumes, all imported through the
services as an ops lead would. Idempotent: seeding twice imports nothing twice."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from calendar_rules import calendars

from ..choices import Rail, TransactionType
from ..models import AchCompany, Client, business_today
from . import services
from .models import IntakeFile, MerchantAccount
from .nacha_writer import ReturnBatch, ReturnLine, write

RETURN_CODES = ["R01", "R01", "R02", "R03", "R09", "R10", "R08", "R16"]


def seed() -> dict:
    """Import the demo files; returns {file name: status}."""
    lead = get_user_model().objects.filter(username="lead").first()
    companies = list(AchCompany.objects.select_related("client").order_by("company_id")[:4])
    if not companies:
        return {}
    today = business_today()
    settled = calendars.FED.add_banking_days(today, -1)
    files = {
        f"RET{today:%Y%m%d}.ach": (IntakeFile.Kind.NACHA, "", _returns(companies, settled, today)),
        f"DIS{today:%Y%m%d}.ach": (
            IntakeFile.Kind.NACHA,
            "",
            _answers(companies[0], settled, today),
        ),
        f"acme-visa-{today:%Y%m%d}.csv": (
            IntakeFile.Kind.CARD,
            "acme_visa",
            _visa(companies, today),
        ),
        f"volumes-{today:%Y%m%d}.csv": (IntakeFile.Kind.VOLUMES, "", _volumes(today)),
    }
    statuses = {}
    for name, (kind, source, text) in files.items():
        intake_file, _ = services.receive_file(
            kind=kind, name=name, content=text.encode(), uploaded_by=lead, source=source
        )
        intake_file = services.import_file(intake_file_id=intake_file.pk)
        statuses[name] = intake_file.get_status_display() + (
            f": {intake_file.error}" if intake_file.error else ""
        )
        if name.startswith("RET") and lead is not None:
            _claim(_trace(1, today), lead)
    return statuses


def _claim(case_id: str, lead) -> None:
    """The lead works the first return before the dishonor file arrives, as a person would."""
    from .. import services as dispute_services
    from ..models import Dispute

    dispute = Dispute.objects.filter(network="nacha", case_id=case_id).first()
    if dispute is not None and dispute.assignee_id is None:
        dispute_services.claim(dispute_id=dispute.pk, actor=lead, expected_version=dispute.version)


def _trace(n: int, today) -> str:
    return f"0910{today:%m%d}{n:07d}"[:15].rjust(15, "0")


def _returns(companies, settled, today) -> str:
    batches = []
    n = 0
    for index, company in enumerate(companies):
        lines = []
        for k in range(3):
            n += 1
            lines.append(
                ReturnLine(
                    RETURN_CODES[(index * 3 + k) % len(RETURN_CODES)],
                    _trace(n, today),
                    Decimal(1000 + 137 * n) / 100,
                    name=f"RECEIVER {n}",
                )
            )
        batches.append(
            ReturnBatch(company.company_id, company.company_name, effective=settled, lines=lines)
        )
    # R29 is a corporate code: on a consumer (PPD) entry it is imported and flagged.
    batches[0].lines.append(ReturnLine("R29", _trace(90, today), Decimal("410.00")))
    # Notifications of change: corrected account and routing numbers.
    batches[1].lines.append(
        ReturnLine("C01", _trace(91, today), Decimal("0"), transaction_code="21", account="7733910")
    )
    batches.append(
        ReturnBatch(
            "4999000123",
            "NORTHWIND LLC",
            sec_code="CCD",
            effective=settled,
            lines=[
                ReturnLine("R01", _trace(92, today), Decimal("2250.00")),
                ReturnLine("R02", _trace(93, today), Decimal("980.40")),
                ReturnLine(
                    "C02",
                    _trace(94, today),
                    Decimal("0"),
                    transaction_code="21",
                    account="021000089",
                ),
            ],
        )
    )
    return write(batches, created=today)


def _answers(company, settled, today) -> str:
    """Our dishonor of the first return (R69, wrong field) and the RDFI's contest (R72)."""
    trace = _trace(1, today)
    lines = [
        ReturnLine(
            "R69",
            trace,
            Decimal("10.00") + Decimal(137) / 100,
            return_trace="091000010000001",
            return_reason="R01",
        ),
        ReturnLine(
            "R72",
            trace,
            Decimal("10.00") + Decimal(137) / 100,
            return_trace="091000010000001",
            return_reason="R01",
        ),
    ]
    return write(
        [ReturnBatch(company.company_id, company.company_name, effective=today, lines=lines)],
        created=today,
        modifier="B",
    )


def _visa(companies, today) -> str:
    for index, company in enumerate(companies[:2]):
        MerchantAccount.objects.get_or_create(
            merchant_id=f"M-{100 + index}", defaults={"client": company.client}
        )
    day = (today - timedelta(days=2)).isoformat()
    bought = (today - timedelta(days=30)).isoformat()
    rows = [
        "Case Number,Reason Code,ARN,Merchant ID,Merchant Name,Dispute Amount,Currency,"
        "Transaction Date,Dispute Processing Date,Card Last 4",
    ]
    for n, (code, merchant, name, amount, last4) in enumerate(
        [
            ("13.1", "M-100", "Shop one", "125.00", "4242"),
            ("10.4", "M-101", "Shop two", "310.99", "1881"),
            ("13.3", "M-555", "Pop-up Store", "59.00", "0005"),  # no client holds M-555
        ],
        start=1,
    ):
        arn = f"74000{today:%m%d}{n:014d}"
        rows.append(
            f"VD-{today:%m%d}{n:02d},{code},{arn},{merchant},{name},{amount},USD,"
            f"{bought},{day},{last4}"
        )
    return "\n".join(rows) + "\n"


def _volumes(today) -> str:
    rows = ["client,day,rail,transaction_type,count,amount,currency"]
    for client in Client.objects.filter(is_active=True).order_by("slug")[:6]:
        for back in range(1, 8):
            day = today - timedelta(days=back)
            base = 400 + 37 * len(client.slug) + 11 * back
            for rail, kind, count, amount in (
                (Rail.ACH, TransactionType.ACH_DEBIT, base * 3, f"{base * 231}.50"),
                (Rail.CARD, TransactionType.PURCHASE, base * 11, f"{base * 712}.25"),
            ):
                rows.append(f"{client.slug},{day},{rail},{kind},{count},{amount},USD")
    return "\n".join(rows) + "\n"


def api_token(username: str = "admin") -> str:
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return ""
    return Token.objects.get_or_create(user=user)[0].key
