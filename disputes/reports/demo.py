"""Demo transaction volumes: the denominators of dispute and return rates, drawn so the demo's
rates look like a real book (card dispute rates around 0.1–0.3 %; ACH debits sized so most
originators sit well under the Nacha unauthorized return threshold of 0.5 %, two sit in the
"Watch" band from 70 % of it, one over it)."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from ..intake.models import TransactionVolume
from ..models import Dispute, business_today
from .activity import RETURN_CLASSES, RETURN_WINDOW_DAYS

CENT = Decimal("0.01")
# transactions per disputed transaction, per rail; ACH low so some originators get flagged
FACTORS = {"card": (300, 1200), "visa_direct": (500, 1500), "mastercard_move": (500, 1500),
           "ach": (60, 400)}  # fmt: skip


def seed_volumes(*, seed_value: int, days: int = 430) -> int:
    """Daily volumes per client, rail and transaction type for the last ``days`` days, scaled
    from the disputed transactions of each. Days already reported (an imported volume file)
    are kept as they are; returns the rows offered."""
    rng = random.Random(seed_value + 13)
    today = business_today()
    first = today - timedelta(days=days - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_id, rail, transaction_type, currency, count(*), avg(amount)"
            " FROM disputes_transaction WHERE transaction_date >= %s"
            " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            [first],
        )
        groups = cursor.fetchall()
    debits_per_day = _ach_debits_per_day(rng, today)
    rows = []
    for client_id, rail, ttype, currency, count, avg_amount in groups:
        # SQLite averages into a float, PostgreSQL into a numeric: money stays Decimal here.
        avg_amount = Decimal(str(avg_amount)).quantize(CENT) if avg_amount else None
        low, high = FACTORS.get(rail, (300, 1000))
        per_day = count / days * rng.randint(low, high)
        if ttype == "ach_debit" and client_id in debits_per_day:
            per_day = debits_per_day[client_id]
        for offset in range(days):
            day = first + timedelta(days=offset)
            weekday = 0.35 if day.weekday() >= 5 else 1.0
            n = max(1, round(per_day * weekday * rng.uniform(0.8, 1.2)))
            rows.append(
                TransactionVolume(
                    client_id=client_id,
                    day=day,
                    rail=rail,
                    transaction_type=ttype,
                    count=n,
                    amount=avg_amount * n if avg_amount else Decimal("0.00"),
                    currency=currency,
                )
            )
    TransactionVolume.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


WEEKDAY_SHARE = (5 * 1.0 + 2 * 0.35) / 7  # weekends carry about a third of a weekday's entries


def _ach_debits_per_day(rng, today) -> dict[int, float]:
    """ACH debits a day per originator, so that its unauthorized returns over the trailing 60
    days come to a chosen rate: calm for most, "Watch" (70–100 % of 0.5 %) for two, over for
    one."""
    _key, _label, codes, _threshold = RETURN_CLASSES[0]
    returns = dict(
        Dispute.objects.filter(
            network="nacha",
            reason_code__in=codes,
            received_on__gt=today - timedelta(days=RETURN_WINDOW_DAYS),
        )
        .values_list("client_id")
        .annotate(n=Count("id"))
        .values_list("client_id", "n")
    )
    reported = set(  # an imported volume file already set their debits: left calm
        TransactionVolume.objects.filter(transaction_type="ach_debit").values_list(
            "client_id", flat=True
        )
    )
    originators = sorted(returns, key=lambda c: (c in reported, rng.random()))
    out = {}
    for index, client_id in enumerate(originators):
        if index == 0:
            rate = rng.uniform(0.0058, 0.0068)  # over the threshold
        elif index in (1, 2):
            rate = rng.uniform(0.0041, 0.0046)  # watch
        else:
            rate = rng.uniform(0.0008, 0.0024)
        out[client_id] = returns[client_id] / rate / RETURN_WINDOW_DAYS / WEEKDAY_SHARE
    return out
