"""NACHA return files built from the published record layouts (disputes.intake.nacha_writer)."""

from datetime import date
from decimal import Decimal

from disputes.intake.nacha_writer import ReturnBatch, ReturnLine, write

CREATED = date(2026, 11, 30)
SETTLED = date(2026, 11, 27)  # a Friday: the dishonor window runs into December


def two_batches(**kwargs) -> str:
    """Two batches: a consumer (PPD) batch of two returns and a corporate (CCD) batch with a
    return that does not fit it (R10), and a notification of change."""
    return write(
        [
            ReturnBatch(
                "1234567890",
                "ACME UTILITIES",
                sec_code="PPD",
                effective=SETTLED,
                lines=[
                    ReturnLine("R01", "091000010000001", Decimal("125.00")),
                    ReturnLine("R29", "091000010000002", Decimal("40.10")),
                ],
            ),
            ReturnBatch(
                "9876543210",
                "NOBODY KNOWN",
                sec_code="CCD",
                effective=SETTLED,
                lines=[
                    ReturnLine("R10", "091000010000003", Decimal("9.99")),
                    ReturnLine(
                        "C01",
                        "091000010000004",
                        Decimal("0"),
                        transaction_code="21",
                        account="55544433",
                    ),
                ],
            ),
        ],
        created=CREATED,
        **kwargs,
    )


def answers(original_trace: str, *, dishonor="R68", contest="R73", modifier="B") -> str:
    """A file with our dishonor of a return and the RDFI's contest of it."""
    lines = []
    if dishonor:
        lines.append(
            ReturnLine(
                dishonor,
                original_trace,
                Decimal("125.00"),
                return_trace="091000010000777",
                return_reason="R01",
            )
        )
    if contest:
        lines.append(
            ReturnLine(
                contest,
                original_trace,
                Decimal("125.00"),
                return_trace="091000010000777",
                return_reason="R01",
            )
        )
    return write(
        [ReturnBatch("1234567890", "ACME UTILITIES", effective=SETTLED, lines=lines)],
        created=date(2026, 12, 1),
        modifier=modifier,
    )
