"""A bounded, self-stopping load run against gunicorn, as production serves it.

    python manage.py benchmark_load [--users 50] [--seconds 60] [--workers 2] [--port 8104]
                                    [--alone-runs 20] [--user lead]

It starts gunicorn (``--workers`` sync workers on 127.0.0.1) with this environment's settings
(run it with DEBUG off and a real SECRET_KEY, as production), then ``--users`` simulated people
each repeat, until ``--seconds`` have passed: open the queue, open a dispute, claim it (the
dispute page's HTMX transition, with CSRF). Each person works their own unassigned disputes, so
no two claim the same one. Requests go over plain HTTP with ``X-Forwarded-Proto: https``, as
from a TLS proxy. Then it times the same pages one request at a time ("alone"), stops gunicorn
and prints, per page: requests, errors, throughput, p50 and p95 under load and alone.

Any response other than 200 is an error; the command exits non-zero when there was one. It
changes the database (the claims are real, with their audit rows): run it on a benchmark copy.
"""

import http.client
import random
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from disputes.choices import WorkState
from disputes.models import OPEN_DISPUTE, Dispute

PAGES = ("queue", "dispute page", "transition (claim)")
QUEUE_VIEWS = ("", "?sort=-amount", "?due=3bd", "?assignee=unassigned", "?sort=client")
PER_USER = 400  # disputes set aside for each person: more than 60 s of claims at this speed
TIMEOUT = 60


@dataclass
class Samples:
    """Latencies (seconds) and error count per page."""

    times: dict = field(default_factory=lambda: defaultdict(list))
    errors: dict = field(default_factory=lambda: defaultdict(int))
    first_errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.times[page].append(seconds)
            if not ok:
                self.errors[page] += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(f"{page}: {detail}")


class Visitor:
    """One signed-in person's HTTP requests (a session cookie, a CSRF secret, the proxy's
    https header), timed into ``samples``."""

    def __init__(self, port: int, session_key: str, samples: Samples):
        self.port, self.samples = port, samples
        self.origin = f"https://127.0.0.1:{port}"
        self.csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"

    def request(self, page: str, method: str, path: str, body: str = "", **headers) -> int:
        started = time.perf_counter()
        status, detail = 0, ""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            connection.request(method, path, body=body or None, headers=self._headers(headers))
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except (OSError, http.client.HTTPException) as exc:
            detail = repr(exc)
        self.samples.add(
            page, time.perf_counter() - started, status == 200, detail or f"{status} {path}"
        )
        return status

    def _headers(self, extra: dict) -> dict:
        return {
            "Host": f"127.0.0.1:{self.port}",
            "Cookie": self.cookie,
            "X-Forwarded-Proto": "https",
            **extra,
        }

    def visit(self, queue_view: str, dispute_id: int, version: int) -> None:
        """The queue, a dispute, and claiming it (as the page's HTMX form posts it)."""
        self.request("queue", "GET", f"/disputes/{queue_view}")
        page = f"/disputes/{dispute_id}/"
        self.request("dispute page", "GET", page)
        self.request(
            "transition (claim)",
            "POST",
            f"/disputes/{dispute_id}/transition/claim/",
            body=f"version={version}&comment=",
            **{
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.csrf,
                "Referer": self.origin + page,
                "Origin": self.origin,
                "HX-Request": "true",
            },
        )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = "Load-test the queue, a dispute page and a transition on gunicorn; prints figures."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
        parser.add_argument("--port", type=int, default=8104)
        parser.add_argument("--alone-runs", type=int, default=20, help="requests per page alone")
        parser.add_argument("--user", default="lead", help="who the simulated people sign in as")

    def handle(self, *args, users, seconds, workers, port, alone_runs, user, **options):
        if not 1 <= users <= 500 or not 1 <= seconds <= 600 or alone_runs < 1:
            raise CommandError("--users 1..500, --seconds 1..600, --alone-runs >= 1.")
        if settings.DEBUG:
            raise CommandError("Run it as production runs: DEBUG=false and a real SECRET_KEY.")
        person = get_user_model().objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"No active user {user!r}: run seed_demo first, or pass --user.")
        pools = self._pools(users + 1)
        call_command("collectstatic", interactive=False, verbosity=0)
        total = Dispute.objects.count()
        self.stdout.write(
            f"{total:,} disputes; gunicorn {workers} workers on 127.0.0.1:{port}; "
            f"{users} people for {seconds:g} s, then {alone_runs} requests per page alone"
        )
        server = self._start_gunicorn(workers, port)
        try:
            load = self._load(person, pools[:users], port, seconds)
            alone = self._alone(person, pools[users], port, alone_runs)
        finally:
            self._stop(server)
        self._report(load, alone, seconds)
        if sum(load.errors.values()) or sum(alone.errors.values()):
            raise CommandError(f"Errors: {[*load.first_errors, *alone.first_errors]}")

    # --- set-up ------------------------------------------------------------------------------

    def _pools(self, count: int) -> list[list[tuple[int, int]]]:
        """``count`` disjoint lists of (id, version) of new, unassigned open disputes."""
        need = count * PER_USER
        candidates = Dispute.objects.filter(OPEN_DISPUTE, state=WorkState.NEW, assignee=None)
        last = candidates.order_by("-id").values_list("id", flat=True).first() or 0
        start = random.randint(0, max(0, last - need * 4))
        rows = list(
            candidates.filter(id__gte=start).order_by("id").values_list("id", "version")[:need]
        )
        if len(rows) < count * 10:
            raise CommandError(f"Only {len(rows)} unassigned new disputes: seed more.")
        random.shuffle(rows)
        return [rows[index::count] for index in range(count)]

    def _session(self, person) -> str:
        session = SessionStore()
        session["_auth_user_id"] = str(person.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = person.get_session_auth_hash()
        session.create()
        return session.session_key

    def _start_gunicorn(self, workers: int, port: int) -> subprocess.Popen:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment.")
        server = subprocess.Popen(
            [gunicorn, "astra_ops.wsgi", "--workers", str(workers), "--bind",
             f"127.0.0.1:{port}", "--timeout", str(TIMEOUT), "--log-level", "warning"],
            cwd=settings.BASE_DIR,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}.")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                proxy = {"X-Forwarded-Proto": "https"}
                connection.request("GET", "/accounts/login/", headers=proxy)
                if connection.getresponse().status == 200:
                    return server
            except OSError:
                time.sleep(0.3)
        self._stop(server)
        raise CommandError("gunicorn did not answer within 60 s.")

    def _stop(self, server: subprocess.Popen) -> None:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    # --- the runs ------------------------------------------------------------------------------

    def _load(self, person, pools, port: int, seconds: float) -> Samples:
        samples = Samples()
        deadline = time.monotonic() + seconds

        def work(pool):
            visitor = Visitor(port, self._session(person), samples)
            for turn, (dispute_id, version) in enumerate(pool):
                if time.monotonic() >= deadline:
                    return
                visitor.visit(QUEUE_VIEWS[turn % len(QUEUE_VIEWS)], dispute_id, version)

        threads = [threading.Thread(target=work, args=(pool,), daemon=True) for pool in pools]
        for thread in threads:
            thread.start()
        for thread in threads:  # each stops at the deadline, after its request in flight
            thread.join(timeout=seconds + 3 * TIMEOUT + 10)
        return samples

    def _alone(self, person, pool, port: int, runs: int) -> Samples:
        samples = Samples()
        visitor = Visitor(port, self._session(person), samples)
        for turn, (dispute_id, version) in enumerate(pool[:runs]):
            visitor.visit(QUEUE_VIEWS[turn % len(QUEUE_VIEWS)], dispute_id, version)
        return samples

    def _report(self, load: Samples, alone: Samples, seconds: float) -> None:
        header = (
            f"{'page':<20} {'requests':>8} {'errors':>6} {'req/s':>7} "
            f"{'p50 load':>9} {'p95 load':>9} {'p50 alone':>10} {'p95 alone':>10}"
        )
        self.stdout.write("\n" + header + "\n" + "-" * len(header))
        for page in PAGES:
            times, quiet = load.times[page], alone.times[page]
            self.stdout.write(
                f"{page:<20} {len(times):>8} {load.errors[page]:>6} {len(times) / seconds:>7.1f} "
                f"{percentile(times, 0.5) * 1000:>7.0f}ms {percentile(times, 0.95) * 1000:>7.0f}ms "
                f"{percentile(quiet, 0.5) * 1000:>8.0f}ms {percentile(quiet, 0.95) * 1000:>8.0f}ms"
            )
        every = [t for page in PAGES for t in load.times[page]]
        self.stdout.write(
            f"{'all':<20} {len(every):>8} {sum(load.errors.values()):>6} "
            f"{len(every) / seconds:>7.1f} {percentile(every, 0.5) * 1000:>7.0f}ms "
            f"{percentile(every, 0.95) * 1000:>7.0f}ms   (mean alone "
            f"{statistics.fmean(t for p in PAGES for t in alone.times[p]) * 1000:.0f} ms)"
        )
