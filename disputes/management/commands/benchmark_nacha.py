import os
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection

from calendar_rules import calendars
from disputes.intake import nacha, services
from disputes.intake.models import IntakeFile
from disputes.intake.nacha_writer import ReturnBatch, ReturnLine, write
from disputes.models import AchCompany, CaseEvent, Client, Dispute, business_today

CODES = ["R01"] * 40 + ["R02"] * 10 + ["R03"] * 8 + ["R04"] * 4 + ["R08"] * 4 + ["R09"] * 6
CODES += ["R10"] * 6 + ["R07"] * 4 + ["R16"] * 3 + ["R20"] * 3 + ["R29"] * 2 + ["R05"]


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Generate a NACHA return file of --entries returns, import it, and print the figures "
        "(parse, apply, total). Writes the disputes into the current database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=100_000)
        parser.add_argument("--batches", type=int, default=200)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, entries, batches, seed, **options):
        out = self.stdout.write
        rng = random.Random(seed)
        companies = self._companies(rng)
        started = time.monotonic()
        text = self._file(rng, entries, batches, companies)
        generated = time.monotonic()
        out(
            f"Generated {entries:,} returns in {batches} batches "
            f"({len(text) / 1e6:.1f} MB) in {generated - started:.1f} s."
        )
        intake_file, _ = services.receive_file(
            kind=IntakeFile.Kind.NACHA,
            name=f"BENCH{rng.randrange(10**8):08d}.ach",
            content=text.encode(),
        )
        before = (Dispute.objects.count(), CaseEvent.objects.count())
        t0 = time.monotonic()
        parsed = nacha.parse(text)
        parse_seconds = time.monotonic() - t0
        t1, cpu = time.monotonic(), time.process_time()
        imported = services.import_file(intake_file_id=intake_file.pk)
        import_seconds = time.monotonic() - t1
        import_cpu = time.process_time() - cpu
        if imported.status != IntakeFile.Status.DONE:
            out(f"Refused: {imported.error}")
            return
        after = (Dispute.objects.count(), CaseEvent.objects.count())
        out(f"Database: {connection.vendor}; disputes before {before[0]:,}.")
        out(f"Parse alone: {parse_seconds:.1f} s for {len(list(parsed.entries())):,} entries.")
        out(
            f"Import (parse + checks + write, one transaction): {import_seconds:.1f} s, "
            f"{entries / import_seconds:,.0f} returns/s; CPU of this process {import_cpu:.1f} s, "
            f"the rest is the database and waiting for a core "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)."
        )
        out(
            f"Written: {after[0] - before[0]:,} disputes, {after[1] - before[1]:,} events; "
            f"summary {imported.summary}."
        )

    def _companies(self, rng):
        companies = list(AchCompany.objects.values_list("company_id", "company_name")[:40])
        if not companies:
            for n in range(20):
                client, _ = Client.objects.get_or_create(
                    slug=f"bench-originator-{n}", defaults={"name": f"Bench originator {n}"}
                )
                company = AchCompany.objects.create(
                    client=client,
                    company_id=f"9{rng.randrange(10**9):09d}",
                    company_name=f"BENCH {n}",
                )
                companies.append((company.company_id, company.company_name))
        # One originator in twenty matches no client.
        return [*companies, (f"8{rng.randrange(10**9):09d}", "UNKNOWN CO")]

    def _file(self, rng, entries, batch_count, companies):
        prefix = f"{rng.randrange(10**4):04d}"
        settled = calendars.FED.add_banking_days(business_today(), -1)
        per_batch = -(-entries // batch_count)
        made, batches = 0, []
        while made < entries:
            company_id, name = rng.choice(companies)
            sec = rng.choice(["PPD", "PPD", "WEB", "TEL", "CCD"])
            lines = []
            for _ in range(min(per_batch, entries - made)):
                made += 1
                lines.append(
                    ReturnLine(
                        rng.choice(CODES),
                        f"0910{prefix}{made:07d}",
                        Decimal(rng.randrange(100, 500_000)) / 100,
                        rdfi=f"{rng.randrange(10**8):08d}",
                        account=f"{rng.randrange(10**10):010d}",
                    )
                )
            batches.append(
                ReturnBatch(company_id, name, sec_code=sec, effective=settled, lines=lines)
            )
        return write(batches, created=settled + timedelta(days=1))
