"""manage.py benchmark_deadlines: how many deadlines per second the engine computes."""

import random
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from calendar_rules import deadlines

SPAN_START = date(2020, 1, 1)
SPAN_END = date(2030, 12, 31)


def random_cases(n: int, seed: int) -> list[tuple]:
    """``n`` random valid (network, code, stage, anchor, alt_date) tuples.

    Anchors are drawn from 2020–2030 within each rule's effective dates; a quarter of the rules
    that take an alternative date get one (30 to 90 days after the anchor).
    """
    rng = random.Random(seed)
    keys = deadlines.engine().valid_keys()
    cases = []
    for _ in range(n):
        network, code, stage, first, last, takes_alt = rng.choice(keys)
        lo = max(first, SPAN_START).toordinal()
        hi = min(last, SPAN_END).toordinal()
        if lo > hi:  # a rule only in force outside the span (a retired code)
            lo, hi = first.toordinal(), last.toordinal()
        anchor = date.fromordinal(rng.randint(lo, hi))
        alt = anchor + timedelta(rng.randint(30, 90)) if takes_alt and rng.random() < 0.25 else None
        cases.append((network, code, stage, anchor, alt))
    return cases


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Time deadlines.compute over N random valid (network, code, stage, date) tuples, "
        "generated before the clock starts, and print deadlines per second."
    )

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--with-explanations",
            action="store_true",
            help="also format each deadline's explanation sentence (it is lazy otherwise)",
        )

    def handle(self, *args, **options):
        n = options["n"]
        if n < 1:
            raise CommandError("--n must be at least 1")
        cases = random_cases(n, options["seed"])
        compute = deadlines.compute
        explain = options["with_explanations"]
        started = time.perf_counter()
        for network, code, stage, anchor, alt_date in cases:
            deadline = compute(
                network=network, code=code, stage=stage, anchor=anchor, alt_date=alt_date
            )
            if explain:
                deadline.explanation  # noqa: B018 (formatting is what is being timed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{n:,} deadlines in {elapsed:.3f} s: {n / elapsed:,.0f} deadlines/s "
            f"(seed {options['seed']}, rules {deadlines.engine().version}"
            f"{', with explanations' if explain else ''})"
        )
