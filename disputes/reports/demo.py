"""Demo transaction volumes: the denominators of dispute and return rates, drawn so the demo's
rates look like a real book (card dispute rates around 0.1–0.3 %, a few ACH originators near or
over the Nacha return thresholds)."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import connection

from ..intake.models import TransactionVolume
from ..models import business_today

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
    rows = []
    for client_id, rail, ttype, currency, count, avg_amount in groups:
        # SQLite averages into a float, PostgreSQL into a numeric: money stays Decimal here.
        avg_amount = Decimal(str(avg_amount)).quantize(CENT) if avg_amount else None
        low, high = FACTORS.get(rail, (300, 1000))
        per_day = count / days * rng.randint(low, high)
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
