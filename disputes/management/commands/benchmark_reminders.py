"""Time the reminder sweep at 10,000 and 1,000,000 open disputes with the same number due, and
the weekly digest for 200 people. Builds its data with plain SQL (INSERT … SELECT
generate_series) in the database it is pointed at: use a benchmark database, never production."""

import os
import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from calendar_rules import calendars
from disputes import demo
from disputes.models import Client, Dispute, Transaction, business_today
from disputes.notifications import services
from disputes.notifications.digest import digest_recipients
from disputes.notifications.models import Notification

INSERT = """
INSERT INTO disputes_dispute (network, case_id, rail, reason_code, stage, state, amount, currency,
  received_on, stage_started_on, dishonor_code, contest_code, reinitiation_count, network_due,
  internal_due, due_party, deadline_rule, rules_version, deadline_explanation, outcome, opened_at,
  updated_at, version, assignee_id, client_id, transaction_id)
SELECT 'visa', 'BENCH-' || g, 'card', '13.1', 'dispute',
  (ARRAY['new','in_review','awaiting_evidence','ready_to_submit'])[1 + g %% 4],
  100 + g %% 5000, 'USD', %(today)s::date - 10, %(today)s::date - 10, '', '', 0,
  {due} + 3, {due}, 'astra', 'benchmark', 'bench', '', '', now(), now(), 1,
  (%(agents)s::int[])[1 + g %% cardinality(%(agents)s::int[])],
  (%(clients)s::bigint[])[1 + g %% cardinality(%(clients)s::bigint[])],
  (%(txns)s::bigint[])[1 + g %% cardinality(%(txns)s::bigint[])]
FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
"""
FAR = "%(today)s::date + 30 + (g %% 300)::int"
NEAR = "(%(near)s::date[])[1 + (g + %(turn)s) %% cardinality(%(near)s::date[])]"


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--due", type=int, default=1000)
        parser.add_argument("--sizes", default="10000,1000000")
        parser.add_argument("--digest-users", type=int, default=200)

    def handle(self, *args, due, sizes, digest_users, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL.")
        self.today = business_today()
        with transaction.atomic():
            users, self.agents = demo.ensure_people()
            demo.ensure_clients(users["customer_success"], random.Random(1))
        self._context()
        for turn, size in enumerate(int(s) for s in sizes.split(",") if s.strip()):
            self._grow(size, due, turn)
            self._sweep(size, due, deliver=turn == 0)
        if digest_users:
            self._digest(digest_users)

    # --- data -------------------------------------------------------------------------------

    def _context(self):
        clients = list(Client.objects.values_list("pk", flat=True))
        txns = []
        for client in Client.objects.all():
            txn = Transaction.objects.filter(client=client).first() or Transaction.objects.create(
                client=client,
                rail="card",
                transaction_type="purchase",
                reference_kind="arn",
                network_reference=f"7{client.pk:022d}",
                amount=100,
                transaction_date=self.today - timedelta(30),
                settlement_date=self.today - timedelta(29),
            )
            txns.append(txn.pk)
        fed = calendars.FED
        self.params = {
            "today": self.today,
            "agents": [a.pk for a in self.agents],
            "clients": clients,
            "txns": txns,
            "near": [
                self.today - timedelta(1),
                self.today,
                fed.add_banking_days(self.today, 1),
                fed.add_banking_days(self.today, 2),
                fed.add_banking_days(self.today, 5),
            ],
        }

    def _insert(self, first, last, due_sql, turn=0):
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT.format(due=due_sql),
                {**self.params, "first": first, "last": last, "turn": turn},
            )

    def _grow(self, size, due, turn):
        bench = Dispute.objects.filter(deadline_rule="benchmark")
        have = bench.count()
        started = time.monotonic()
        if have == 0:
            self._insert(1, due, NEAR)
            have = due
        if have < size:
            self._insert(have + 1, size, FAR)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE disputes_dispute")
        # Each round starts with nothing recorded for the disputes it makes due (rounds rerun).
        Notification.objects.filter(dispute__deadline_rule="benchmark").delete()
        # The same disputes are due each round, at other dates: new thresholds to remind of.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE disputes_dispute d SET internal_due = "
                + NEAR.replace("g", "s.g")
                + ", network_due = "
                + NEAR.replace("g", "s.g")
                + " + 3 FROM (SELECT id, substr(case_id, 7)::bigint AS g FROM disputes_dispute "
                "WHERE deadline_rule = 'benchmark' AND substr(case_id, 7)::bigint <= %(due)s) s "
                "WHERE d.id = s.id",
                {**self.params, "turn": turn, "due": due},
            )
        self.stdout.write(
            f"{Dispute.objects.open().count():,} open disputes ({size:,} benchmark rows, "
            f"{due:,} near a deadline); data ready in {time.monotonic() - started:.1f} s"
        )

    # --- timing -----------------------------------------------------------------------------

    def _sweep(self, size, due, deliver):
        queued = []
        started, cpu = time.monotonic(), time.process_time()
        report = services.send_deadline_reminders(dispatch=queued.extend)
        swept, cpu = time.monotonic() - started, time.process_time() - cpu
        self.stdout.write(
            f"  sweep over {size:,}: {swept:.2f} s ({cpu:.2f} s CPU; {_load()}) — "
            f"{report.owed:,} disputes owed, "
            f"{report.reminders:,} reminders + {report.escalations:,} escalations recorded "
            f"for {report.disputes:,} disputes"
        )
        started = time.monotonic()
        again = services.send_deadline_reminders(dispatch=queued.extend)
        self.stdout.write(
            f"  the same sweep again: {time.monotonic() - started:.2f} s, "
            f"{again.recorded} recorded (nothing twice)"
        )
        if not deliver:
            Notification.objects.filter(pk__in=queued).update(sent_at=timezone.now())
            return
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            started = time.monotonic()
            sent = services.deliver_now(queued)
        self.stdout.write(
            f"  rendering and handing {sent:,} messages to the mail backend: "
            f"{time.monotonic() - started:.2f} s"
        )

    def _digest(self, count):
        user_model = get_user_model()
        groups = {g.name: g for g in Group.objects.all()}
        roles = ["ops_agent"] * 15 + ["ops_lead"] + ["customer_success"] * 4
        for n in range(count):
            user, created = user_model.objects.get_or_create(
                username=f"bench{n:03d}",
                defaults={"email": f"bench{n:03d}@astra-ops.local", "first_name": f"Bench {n}"},
            )
            if created:
                user.groups.add(groups[roles[n % len(roles)]])
        bench_agents = list(
            user_model.objects.filter(username__startswith="bench", groups__name="ops_agent")
        )
        with connection.cursor() as cursor:  # give the new agents work to read about
            cursor.execute(
                "UPDATE disputes_dispute SET assignee_id = (%s::int[])[1 + id %% %s] "
                "WHERE deadline_rule = 'benchmark' AND id %% 20 = 0",
                [[a.pk for a in bench_agents], len(bench_agents)],
            )
        cs = list(
            user_model.objects.filter(username__startswith="bench", groups__name="customer_success")
        )
        for n, client in enumerate(Client.objects.order_by("pk")):  # each looks after a client
            Client.objects.filter(pk=client.pk).update(cs_owner=cs[n % len(cs)])
        Notification.objects.filter(kind="digest").delete()
        recipients = digest_recipients().count()
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            started, cpu = time.monotonic(), time.process_time()
            recorded = services.send_weekly_digest(now=timezone.now())
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
        self.stdout.write(
            f"weekly digest: {recorded} digests for {recipients} people built, rendered (HTML, "
            f"text, .ics) and handed to the mail backend in {elapsed:.1f} s "
            f"({cpu:.1f} s of this process's CPU; {_load()})"
        )
