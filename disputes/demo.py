"""Demo data: clients, one user per role, and disputes across networks, rails, stages and states.

Fast enough for a million disputes on PostgreSQL (COPY in chunks). Every dispute's history is
produced by running the real state machines on an in-memory dispute, once per distinct scenario
(cached), so seeded stages, states and audit rows are always ones the machines can reach; the
audit rows are hash-chained exactly as the service writes them.
"""

import gc
import multiprocessing
import random
import threading
from bisect import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter, itemgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.text import slugify

from calendar_rules import calendars, rules

from . import history, states
from .choices import (
    Network,
    Outcome,
    Rail,
    ReferenceKind,
    SecCode,
    Stage,
    TransactionType,
    WorkState,
)
from .confirmed_rules.selectors import ConfirmationIndex
from .deadlines import RECOMPUTE_FIELDS, apply_deadline
from .models import (
    AchCompany,
    CaseEvent,
    Client,
    ClientContact,
    Dispute,
    Transaction,
    business_today,
)
from .states import flow_of

DEMO_PASSWORD = "astra-demo"
DEMO_USERS = [
    # username, role, first name, last name
    ("agent", "ops_agent", "Avery", "Agent"),
    ("lead", "ops_lead", "Lee", "Lead"),
    ("cs", "customer_success", "Casey", "Success"),
    ("compliance", "compliance", "Corin", "Compliance"),
    ("admin", "admin", "Ada", "Admin"),
]
EXTRA_AGENTS = [
    ("priya", "Priya", "Raman"),
    ("marco", "Marco", "Silva"),
    ("jun", "Jun", "Park"),
    ("fatima", "Fatima", "Ali"),
]

CLIENT_NAMES = [
    "Northwind Payroll",
    "Acme Marketplace",
    "Bluebird Gig Pay",
    "Cobalt Rentals",
    "Driftwood Insurance",
    "Evergreen Utilities",
    "Foxglove Travel",
    "Granite Lending",
    "Harbor Freight Co",
    "Indigo Games",
    "Juniper Health",
    "Kestrel Logistics",
    "Lumen Subscriptions",
    "Meridian Wallet",
    "Nimbus Creators",
    "Orchard Grocers",
    "Pioneer Tuition",
    "Quartz Crypto Exchange",
    "Redwood Property Mgmt",
    "Summit Fitness",
    "Tidewater Charters",
    "Umber Ticketing",
    "Vantage Remit",
    "Willow Telehealth",
    "Xenon Energy",
    "Yarrow Staffing",
    "Zephyr Delivery",
    "Atlas Freelance",
    "Beacon Donations",
    "Cedar Auto Finance",
]

# Reason codes and how often they arrive (weights), per network and rail.
VISA_CODES = {
    "10.4": 30,
    "13.1": 14,
    "13.3": 9,
    "13.2": 7,
    "12.6.1": 6,
    "13.6": 6,
    "13.7": 5,
    "11.3": 4,
    "10.1": 2,
    "10.2": 2,
    "10.3": 2,
    "11.2": 2,
    "12.5": 2,
    "13.5": 2,
    "12.6.2": 2,
    "13.4": 1,
    "12.1": 1,
    "12.2": 1,
    "12.3": 1,
    "12.4": 1,
    "11.1": 1,
}
VISA_DIRECT_CODES = {"13.8": 60, "10.4": 15, "13.1": 10, "12.6.1": 5, "13.9": 10}
MC_CODES = {
    "4837": 34,
    "4853": 30,
    "4834": 12,
    "4808": 9,
    "4870": 4,
    "4871": 4,
    "4849": 2,
    "4863": 3,
    "4855": 2,
}
MC_MOVE_CODES = {"4853": 40, "4837": 30, "4834": 20, "4808": 10}
NACHA_CODES = {
    "R01": 34,
    "R02": 9,
    "R03": 7,
    "R04": 4,
    "R10": 12,
    "R07": 6,
    "R05": 3,
    "R11": 4,
    "R29": 5,
    "R09": 4,
    "R08": 4,
    "R16": 2,
    "R20": 2,
    "R06": 1,
    "R23": 1,
}
NO_CONFIRMATIONS = ConfirmationIndex()


class Weights:
    """A population with its cumulative weights, computed once: ``DisputeFactory._weighted``
    draws from it exactly as ``random.choices(population, weights)[0]`` would."""

    def __init__(self, weights: dict):
        self.population = list(weights)
        self.cumulative, total = [], 0
        for weight in weights.values():
            total += weight
            self.cumulative.append(total)
        self.total = total + 0.0  # as random.choices converts it
        self.hi = len(self.population) - 1


ACH_LAGS = (1, 2, 2, 2, 4)  # banking days from the debit's settlement to its return
NETWORK_WEIGHTS = Weights({Network.VISA: 45, Network.MASTERCARD: 30, Network.NACHA: 25})
# at an entry stage nothing of ours is pending: no win to record there
ENTRY_OUTCOMES = Weights(
    {Outcome.ACCEPTED: 50, Outcome.LOST: 10, Outcome.WITHDRAWN: 25, Outcome.EXPIRED: 15}
)
LATER_OUTCOMES = Weights(
    {Outcome.WON: 55, Outcome.LOST: 30, Outcome.ACCEPTED: 10, Outcome.WITHDRAWN: 5}
)
WSUD_CODES = {c.code for c in rules.reason_codes("nacha") if c.wsud_required}
# Returns with the 60-calendar-day (extended) window, as the rule table has them.
EXTENDED_NACHA = {
    c.code
    for c in rules.reason_codes("nacha")
    if "return" in c.stages and rules.stage_rule("nacha", c.code, "return").day_unit == "calendar"
}

NETWORK_STEPS = {
    (Network.VISA, "collaboration"): [
        "visa_submit_dispute_response",
        "visa_receive_pre_arbitration",
        "visa_submit_pre_arbitration_response",
        "visa_receive_arbitration",
    ],
    (Network.VISA, "allocation"): [
        "visa_file_pre_arbitration",
        "visa_receive_pre_arbitration_response",
        "visa_file_arbitration",
    ],
    (Network.MASTERCARD, "chargeback"): [
        "mc_submit_second_presentment",
        "mc_receive_pre_arbitration",
        "mc_submit_pre_arbitration_response",
        "mc_receive_arbitration",
    ],
    (Network.NACHA, "return"): [
        "nacha_request_wsud",
        "nacha_receive_wsud",
        "nacha_dishonor",
        "nacha_receive_contest",
    ],
}
ENDINGS = {
    Outcome.WON: "record_won",
    Outcome.LOST: "record_lost",
    Outcome.ACCEPTED: "accept_liability",
    Outcome.EXPIRED: "record_expired",
    Outcome.WITHDRAWN: "record_withdrawn",
}
# What people write when they act, by act, for cards and for NACHA (where the counterparty
# is the RDFI, not an issuer). Most acts carry no comment.
CARD_COMMENTS = {
    "claim": ["Taking this one.", "Picked up from the morning queue."],
    "assign": ["Client is on the priority list.", "Balancing the queue."],
    "request_evidence": [
        "Asked the client for the receipt and proof of delivery.",
        "Asked the client for the customer's order history and IP match.",
    ],
    "receive_evidence": [
        "Client sent the receipt and delivery confirmation.",
        "Client sent login records matching the cardholder's device.",
    ],
    "mark_ready": ["Response package reviewed."],
    "visa_submit_dispute_response": ["Dispute response filed with receipt and delivery proof."],
    "visa_receive_pre_arbitration": ["Issuer filed pre-arbitration: says the item never came."],
    "visa_submit_pre_arbitration_response": ["Pre-arbitration response filed."],
    "visa_file_pre_arbitration": ["Pre-arbitration filed with compelling evidence."],
    "visa_receive_pre_arbitration_response": ["Issuer declined our pre-arbitration."],
    "mc_submit_second_presentment": ["Second presentment filed with compelling evidence."],
    "mc_receive_pre_arbitration": ["Issuer filed pre-arbitration."],
    "mc_submit_pre_arbitration_response": ["Pre-arbitration rejected with new evidence."],
    "record_won": ["Issuer accepted our response; funds returned."],
    "record_lost": ["Issuer's case upheld."],
    "accept_liability": ["Low value; not worth fighting.", "Client agreed to refund."],
    "record_withdrawn": ["Issuer withdrew the dispute."],
}
NACHA_COMMENTS = {
    "claim": ["Taking this one."],
    "assign": ["Originator is on the priority list."],
    "request_evidence": ["Asked the client for the customer's signed authorization."],
    "receive_evidence": ["Client sent the signed authorization and the customer's account record."],
    "mark_ready": ["Dishonor reviewed against the return's timing."],
    "nacha_provide_authorization_proof": ["Sent the RDFI the customer's authorization."],
    "nacha_receive_return": ["Return entry settled."],
    "nacha_request_wsud": ["Asked the RDFI for a copy of the customer's WSUD."],
    "nacha_receive_wsud": ["RDFI sent the WSUD copy."],
    "nacha_dishonor": ["Dishonored: the return came after the RDFI's deadline."],
    "nacha_receive_contest": ["RDFI contested our dishonor."],
    "nacha_reinitiate": ["Customer funded the account; entry reinitiated."],
    "record_won": ["RDFI accepted the dishonor; funds returned."],
    "record_lost": ["RDFI's contest stands."],
    "accept_liability": ["Low value; not worth fighting.", "Client agreed to absorb the return."],
    "record_withdrawn": ["RDFI withdrew the return."],
}
NOTES = {
    "card": [
        "Client says the customer used the service after the dispute date.",
        "Cardholder emailed the client for a refund before disputing.",
        "Same cardholder disputed with this client last month.",
        "Tracking shows delivery to the billing address.",
    ],
    "nacha": [
        "Customer's signed authorization is on file with the client.",
        "Client confirms the customer closed the account after the debit.",
        "Originator will not reinitiate until the customer calls back.",
        "Return came in later than the RDFI's window: check for a dishonor.",
    ],
}
COMMENT_RATE = 0.35  # of acts that carry a comment
NOTE_RATE = 0.2  # of disputes with a note from the person working them
# Reason codes that only fit some transactions: consumer-only and corporate-only NACHA returns,
# and card "not received" codes, which cannot apply to a push payment (nothing was bought).
# (R05, "improper debit to consumer account", is by Nacha's definition a corporate entry (CCD,
# CTX) posted to a consumer account, so the rule table fits it to corporate SEC codes.)
CONSUMER_ONLY_NACHA = {"R07", "R10", "R11", "R51"}
CORPORATE_ONLY_NACHA = {"R05", "R29"}
NOT_RECEIVED_CODES = {"13.1", "4855"}


class Row:
    """A table row as plain attributes. The seeder builds millions of these, and a model
    instance costs several times as much to create; the writers turn them into COPY rows (or
    model instances for SQLite)."""

    _defaults: dict = {}

    def __init__(self, model, **values):
        if model not in Row._defaults:
            Row._defaults[model] = {f.attname: f.get_default() for f in model._meta.concrete_fields}
        self.__dict__.update(Row._defaults[model])
        self.__dict__.update(values)


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    from_stage: str
    to_stage: str
    from_state: str
    to_state: str
    party: str | None
    stage_changed: bool


_DATE_FIELDS = {
    "transaction": ("transaction_date", "settlement_date", "created_at"),
    "dispute": (
        "received_on",
        "stage_started_on",
        "alt_anchor_date",
        "return_settled_on",
        "opened_at",
        "first_touched_at",
        "submitted_at",
        "updated_at",
    ),
}


def _shift(txn, dispute, rows, delta):
    """Move a whole drawn history later by ``delta``, keeping its shape."""
    for obj, names in ((txn, _DATE_FIELDS["transaction"]), (dispute, _DATE_FIELDS["dispute"])):
        for name in names:
            value = getattr(obj, name)
            if value is not None:
                setattr(obj, name, value + delta)
    _shift_rows(rows, delta)


def _shift_stage(dispute, rows, start, delta):
    """Move the end of a drawn history (``rows[start:]``, from a stage change on) later by
    ``delta``, and the dispute's dates those events set; what came before stays."""
    began = rows[start].created_at
    for name in ("first_touched_at", "submitted_at", "updated_at"):
        value = getattr(dispute, name)
        if value is not None and value >= began:
            setattr(dispute, name, value + delta)
    if any(row.name == "nacha_receive_return" for row in rows[start:]):
        dispute.return_settled_on += delta
    dispute.stage_started_on += delta
    _shift_rows(rows[start:], delta)


def _shift_rows(rows, delta):
    for row in rows:
        row.created_at += delta
        for key in ("on", "stage_started_on"):
            if key in row.details:
                row.details = {
                    **row.details,
                    key: (date.fromisoformat(row.details[key]) + delta).isoformat(),
                }


class ScenarioBook:
    """Runs the real state machines once per scenario and remembers the steps they took, and
    the deadline engine once per window and anchor date and remembers the dates it gave."""

    def __init__(self):
        self._cache = {}
        self._deadlines = {}

    def apply_deadline(self, row) -> None:
        """``apply_deadline(row, NO_CONFIRMATIONS)``, remembered: without confirmations its
        answer depends only on the window running (network, flow, stage, code) and the date
        that window counts from."""
        clock = states.clock_for(row.network, row.flow, row.stage)
        anchor = getattr(row, clock.anchor) if clock else None
        key = (row.network, row.flow, row.stage, row.reason_code, anchor)
        values = self._deadlines.get(key)
        if values is None:
            apply_deadline(row, NO_CONFIRMATIONS)
            self._deadlines[key] = {name: getattr(row, name) for name in RECOMPUTE_FIELDS}
        else:
            row.__dict__.update(values)

    def steps(self, network, code, entry_stage, names, assigned) -> tuple[Step, ...]:
        flow = flow_of(network, code)
        key = (network, flow, entry_stage, tuple(names), assigned)
        if key not in self._cache:
            self._cache[key] = self._run(network, code, entry_stage, names, assigned)
        return self._cache[key]

    @staticmethod
    def _run(network, code, entry_stage, names, assigned):
        today = business_today()
        probe = Dispute(
            network=network,
            reason_code=code,
            stage=entry_stage,
            amount=Decimal("1"),
            received_on=today,
            stage_started_on=today,
            return_settled_on=today,
            network_due=today - timedelta(days=1),
            due_party="astra",
        )
        probe.transaction = Transaction(settlement_date=today)
        assignee = get_user_model()(pk=1) if assigned else None
        steps = []
        for name in names:
            method = getattr(probe, name)
            meta = method._django_fsm
            before = (probe.stage, probe.state)
            custom = meta.get_transition(meta.field.get_state(probe)).custom
            kwargs = {}
            if name in ("claim", "assign"):
                kwargs["assignee"] = assignee
            if custom.get("needs_date"):
                kwargs["on"] = today
            if custom.get("codes"):
                kwargs["code"] = custom["codes"][2 if name == "nacha_dishonor" else 5]
            method(**kwargs)
            steps.append(
                Step(
                    name,
                    custom["label"],
                    before[0],
                    probe.stage,
                    before[1],
                    probe.state,
                    custom.get("party"),
                    before[0] != probe.stage,
                )
            )
        return tuple(steps)


# What the demo lead has confirmed for Astra (the table's window, so no date moves): the
# /rules/ page and the disputes on these rules say "confirmed by …"; the other doubtful rows
# (Visa 10.1-10.3, 10.5, Mastercard arbitration …) still show their doubt.
DEMO_CONFIRMATIONS = (
    ("visa:10.4:pre_arbitration", "Visa letter to our acquirer of 2026-10-14, §2"),
    ("mastercard:4837:arbitration", "Processor agreement, schedule B §5.4"),
)


def confirm_demo_rules(lead) -> None:
    from .confirmed_rules.models import RuleConfirmation

    for key, source in DEMO_CONFIRMATIONS:
        network, code, stage = key.split(":")
        rule = rules.stage_rule(network, code, stage)
        RuleConfirmation.objects.get_or_create(
            rule_key=key,
            defaults={
                "table_days": rule.days,
                "table_confidence": rule.confidence,
                "rules_version": rules.rules_version(),
                "source_document": source,
                "effective_from": date(2026, 1, 1),
                "confirmed_by": lead,
            },
        )


def ensure_people(stdout=None):
    """Groups exist (migration); make one user per role plus extra agents. Returns users."""
    user_model = get_user_model()
    users = {}
    for username, role, first, last in DEMO_USERS:
        users[role] = _user(
            user_model,
            username,
            first,
            last,
            role,
            staff=role == "admin",
            superuser=role == "admin",
        )
    agents = [users["ops_agent"]]
    for username, first, last in EXTRA_AGENTS:
        agents.append(_user(user_model, username, first, last, "ops_agent"))
    return users, agents


def _user(user_model, username, first, last, role, staff=False, superuser=False):
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@astra-ops.local",
            "is_staff": staff,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def ensure_clients(cs_user, rng):
    clients = []
    for index, name in enumerate(CLIENT_NAMES):
        client, created = Client.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "cs_owner": cs_user}
        )
        if created:
            domain = slugify(name).replace("-", "") + ".example"
            ClientContact.objects.create(
                client=client, name="Disputes desk", email=f"disputes@{domain}", role="Operations"
            )
            ClientContact.objects.create(
                client=client,
                name=f"{name.split()[0]} Finance",
                email=f"finance@{domain}",
                role="Finance",
                receives_evidence_requests=index % 3 == 0,
            )
            AchCompany.objects.create(
                client=client,
                company_id=f"1{rng.randrange(10**9):09d}",
                company_name=name.upper()[:16],
            )
        clients.append(client)
    return clients


class DisputeFactory:
    """Draws one realistic dispute (transaction, dispute, audit rows) at a time."""

    def __init__(self, *, rng, clients, agents, lead, today, book, ach_ids):
        self.rng, self.clients, self.agents, self.lead = rng, clients, agents, lead
        self.today, self.book = today, book
        self.tz = ZoneInfo(settings.OPS_TIME_ZONE)
        # Nothing is dated after the seeding itself: seeded shortly after midnight, today's
        # disputes would otherwise open later in the day than the reminders sent about them.
        self.latest = timezone.now() - timedelta(minutes=1)
        # randint, randrange and choice all draw with this: called directly, the same numbers
        # come out of the stream without their argument checks (a few million draws a run).
        self._below = rng._randbelow
        self.fingerprints = {c.pk: [self._hex(16) for _ in range(40)] for c in clients}
        self.ach_ids = ach_ids
        self.weights = {
            "visa": Weights(VISA_CODES),
            "visa_direct": Weights(VISA_DIRECT_CODES),
            "mc": Weights(MC_CODES),
            "mc_move": Weights(MC_MOVE_CODES),
            "nacha": Weights(NACHA_CODES),
        }
        self._day_starts = {}
        self.secret = history.chain.key()

    def _hex(self, n):
        return f"{self.rng.getrandbits(n * 8):0{n * 2}x}"

    def _randint(self, low, high):
        """``rng.randint(low, high)``: the same draw."""
        return low + self._below(high - low + 1)

    def _choice(self, seq):
        """``rng.choice(seq)`` of a non-empty sequence: the same draw."""
        return seq[self._below(len(seq))]

    def _weighted(self, weights: Weights):
        """``rng.choices(population, weights)[0]``: the same draw."""
        at = self.rng.random() * weights.total
        return weights.population[bisect(weights.cumulative, at, 0, weights.hi)]

    def _code(self, key):
        return self._weighted(self.weights[key])

    def draw(self, dispute_id, txn_id):
        rng = self.rng
        network = self._weighted(NETWORK_WEIGHTS)
        client = self._choice(self.clients)
        age = min(int(rng.expovariate(1 / 55)), 400)  # days since the dispute reached us
        received_on = self.today - timedelta(days=age)
        amount = Decimal(str(round(min(rng.lognormvariate(4.3, 1.2), 48000) + 1, 2)))
        if network == Network.NACHA:
            txn, code, stage, stage_started = self._ach(client, txn_id, received_on, amount)
        else:
            txn, code, stage, stage_started = self._card(
                network, client, txn_id, received_on, amount
            )
        dispute = Row(
            Dispute,
            id=dispute_id,
            network=network,
            flow=flow_of(network, code),
            case_id=self._case_id(network, dispute_id),
            client_id=client.pk,
            transaction_id=txn.id,
            rail=txn.rail,
            reason_code=code,
            stage=stage,
            amount=amount,
            currency="USD",
            received_on=received_on,
            stage_started_on=stage_started,
            return_settled_on=stage_started if stage == Stage.RETURN else None,
            opened_at=self._moment(received_on),
        )
        if network == Network.VISA and code in ("13.1", "13.3") and rng.random() < 0.3:
            dispute.alt_anchor_date = txn.settlement_date + timedelta(days=self._randint(5, 40))
        rows = self._history(dispute, code, stage)
        if dispute.state != WorkState.CLOSED and rng.random() < 0.92:
            # A working team keeps up: most open cases reached their stage, and saw their last
            # event, in the past week or so; a card case filed and awaiting the issuer's
            # decision (which takes weeks) was filed any day of the past four. The rest stay
            # where they fell, a realistic overdue backlog. Only the current stage moves, from
            # the stage change that began it (with the stage our filing answered, when that
            # change was our filing: the filing keeps its place in that stage's window). What
            # came before stays where it fell, so the book's filings spread over the weeks
            # instead of piling up in the last one.
            awaiting_issuer = (
                dispute.state == WorkState.SUBMITTED and dispute.network != Network.NACHA
            )
            last = max(row.created_at for row in rows)
            recent = self._randint(0, 27 if awaiting_issuer else 6)
            lag = (self.today - last.astimezone(self.tz).date()).days - recent
            if last + timedelta(days=lag) > self.latest:
                lag -= 1  # today, but later in the day than now: the day before
            if lag > 0:
                stage_start = max(
                    i
                    for i, row in enumerate(rows)
                    if row.name == "open"
                    or (row.from_stage != row.to_stage and row.to_state != WorkState.SUBMITTED)
                )
                if stage_start == 0:  # still at its first stage: the whole history moves
                    _shift(txn, dispute, rows, timedelta(days=lag))
                else:
                    _shift_stage(dispute, rows, stage_start, timedelta(days=lag))
        self.book.apply_deadline(dispute)  # demo data starts with no confirmations
        return txn, dispute, self._events(dispute, rows)

    def _card(self, network, client, txn_id, received_on, amount):
        rng = self.rng
        is_visa = network == Network.VISA
        special = rng.random() < (0.15 if is_visa else 0.12)
        if is_visa:
            rail = Rail.VISA_DIRECT if special else Rail.CARD
            code = self._code("visa_direct" if special else "visa")
        else:
            rail = Rail.MASTERCARD_MOVE if special else Rail.CARD
            code = self._code("mc_move" if special else "mc")
        if rail == Rail.CARD:
            txn_type = TransactionType.PURCHASE
        else:
            txn_type = (
                TransactionType.PUSH_OCT
                if code in ("13.8", "13.9")
                or (code not in NOT_RECEIVED_CODES and rng.random() < 0.5)
                else TransactionType.PULL_AFT
            )
        processed = received_on - timedelta(days=self._randint(2, 70))
        txn = Row(
            Transaction,
            id=txn_id,
            client_id=client.pk,
            rail=rail,
            transaction_type=txn_type,
            reference_kind=ReferenceKind.ARN,
            network_reference=f"7{self._below(10**22):022d}",
            account_last4=f"{self._below(10**4):04d}",
            account_fingerprint=self._fingerprint(client),
            amount=amount,
            currency="USD",
            transaction_date=processed - timedelta(days=1),
            settlement_date=processed,
            description=f"{client.name[:20]} order {txn_id}",
            created_at=self._moment(received_on),
        )
        stage = Stage.DISPUTE if is_visa else Stage.CHARGEBACK
        # The network's processing date of the dispute: a day or two before it reached us.
        return txn, code, stage, received_on - timedelta(days=self._randint(0, 2))

    def _ach(self, client, txn_id, received_on, amount):
        rng = self.rng
        code = self._code("nacha")
        settled_return = received_on
        if code in EXTENDED_NACHA:
            original = settled_return - timedelta(days=self._randint(5, 58))
        else:
            original = calendars.FED.add_banking_days(settled_return, -self._choice(ACH_LAGS))
        sec = self._sec_code(code)
        txn = Row(
            Transaction,
            id=txn_id,
            client_id=client.pk,
            rail=Rail.ACH,
            transaction_type=TransactionType.ACH_DEBIT,
            sec_code=sec,
            reference_kind=ReferenceKind.TRACE_NUMBER,
            network_reference=f"{self._below(10**8):08d}{self._below(10**7):07d}",
            account_last4=f"{self._below(10**4):04d}",
            account_fingerprint=self._fingerprint(client),
            ach_company_id=self.ach_ids.get(client.pk, ""),
            amount=amount,
            currency="USD",
            transaction_date=original - timedelta(days=1),
            settlement_date=original,
            description="PURCHASE" if sec == "WEB" else "PAYMENT",
            created_at=self._moment(received_on),
        )
        stage = (
            Stage.AUTHORIZATION_PROOF_REQUESTED
            if (code in EXTENDED_NACHA and rng.random() < 0.15)
            else Stage.RETURN
        )
        return txn, code, stage, received_on

    def _fingerprint(self, client):
        # One cardholder in twenty disputes more than once with the same client.
        if self.rng.random() < 0.05:
            return self._choice(self.fingerprints[client.pk])
        return self._hex(16)

    @staticmethod
    def _case_id(network, dispute_id):
        prefix = {Network.VISA: "V", Network.MASTERCARD: "MC", Network.NACHA: "ACH"}[network]
        return f"{prefix}{26_000_000_000 + dispute_id}"

    def _moment(self, day):
        """A moment of the working day (8:00 to 18:00 local), in UTC, never after the seeding."""
        seconds = self._randint(8 * 3600, 18 * 3600)
        start = self._day_starts.get(day)
        if start is None:
            start = self._day_starts[day] = _working_day_start(day, self.tz)
        if start is _ZONE_CHANGES:
            local = datetime.combine(day, time()) + timedelta(seconds=seconds)
            return min(local.replace(tzinfo=self.tz).astimezone(UTC), self.latest)
        return min(start + timedelta(seconds=seconds), self.latest)

    # --- history ---------------------------------------------------------------------------

    def _history(self, dispute, code, entry_stage):
        """Pick a scenario, replay it through the state machines, date every step."""
        rng = self.rng
        names, assigned = self._scenario(dispute, code, entry_stage)
        steps = self.book.steps(dispute.network, code, entry_stage, names, assigned)
        assignee = self._choice(self.agents) if assigned else None
        day, rows = dispute.received_on, []
        rows.append(
            self._row(
                dispute,
                1,
                "open",
                "Dispute opened",
                "",
                entry_stage,
                "",
                WorkState.NEW,
                None,
                dispute.opened_at,
                {"stage_started_on": dispute.stage_started_on.isoformat()},
            )
        )
        # Spread the steps over the dispute's age, so an old case reaches its ending.
        widest = max(1, min(12, (self.today - day).days // (len(steps) + 1)))
        for index, step in enumerate(steps, start=2):
            gap = (
                self._randint(1, widest) if step.stage_changed else self._randint(0, min(2, widest))
            )
            if step.to_stage == Stage.CLOSED and day < self.today:
                # decisions arrive any day up to today: every recent week has its closings
                gap = self._randint(1, (self.today - day).days)
            day = day + timedelta(days=gap)
            if day > self.today:
                break
            actor = self.lead if step.name == "assign" else assignee
            if step.party == "counterparty":
                actor = assignee
            moment = self._moment(day)
            if moment <= rows[-1].created_at:  # same day: after the event before, never earlier
                moment = rows[-1].created_at + timedelta(minutes=self._randint(5, 60))
                moment = min(moment, max(self.latest, rows[-1].created_at))
            details = {"on": day.isoformat()} if step.stage_changed else {}
            if step.name in ("claim", "assign"):
                details = {"assignee": assignee.pk, "assignee_name": assignee.get_full_name()}
            rows.append(
                self._row(
                    dispute,
                    index,
                    step.name,
                    step.label,
                    step.from_stage,
                    step.to_stage,
                    step.from_state,
                    step.to_state,
                    actor,
                    moment,
                    details,
                    self._comment(dispute.network, step.name),
                )
            )
            self._apply(dispute, step, day, moment, assignee)
        if assignee is not None and len(rows) > 1 and rng.random() < NOTE_RATE:
            self._add_note(dispute, rows, assignee)
        return rows

    def _comment(self, network, act) -> str:
        comments = (NACHA_COMMENTS if network == Network.NACHA else CARD_COMMENTS).get(act)
        if not comments or self.rng.random() >= COMMENT_RATE:
            return ""
        return self._choice(comments)

    def _add_note(self, dispute, rows, author) -> None:
        """A note from the person working the dispute, some time after they took it."""
        after = 1 + self._below(len(rows) - 1)  # rng.randrange(1, len(rows))
        before = rows[after]
        moment = min(before.created_at + timedelta(minutes=self._randint(5, 240)), self.latest)
        if after + 1 < len(rows):
            moment = min(moment, rows[after + 1].created_at - timedelta(minutes=1))
        if moment <= before.created_at:
            return  # no room between two events of the same minute, or before now
        body = self._choice(NOTES["nacha" if dispute.network == Network.NACHA else "card"])
        stage, state = before.to_stage, before.to_state
        note = Draft("note", "Note", stage, stage, state, state, author, moment, {}, body)
        rows.insert(after + 1, note)

    def _scenario(self, dispute, code, entry_stage):
        rng = self.rng
        names = []
        assigned = rng.random() < (
            0.55 if dispute.received_on >= self.today - timedelta(days=3) else 0.93
        )
        if assigned:
            names.append("claim" if rng.random() < 0.7 else "assign")
            if rng.random() < 0.35:
                names.append("request_evidence")
                if rng.random() < 0.6:
                    names.append("receive_evidence")
            if rng.random() < 0.25:
                names.append("mark_ready")
        path = self._network_path(dispute.network, code, entry_stage)
        age = (self.today - dispute.received_on).days
        depth = 0 if not assigned else min(len(path), int(rng.expovariate(1 / (0.5 + age / 12))))
        names.extend(path[:depth])
        if age > 20 and rng.random() < min(1.0, (age - 20) / 45):  # all closed by ~65 days
            outcome = self._outcome(path[:depth])
            if outcome == Outcome.EXPIRED and age < 60:
                outcome = Outcome.ACCEPTED  # only long-silent cases have run out their window
            names.append(ENDINGS[outcome])
        return names, assigned

    def _sec_code(self, code) -> str:
        """An entry the code fits (the rule table's ``entry_sec_codes``): demo timelines read
        true, so a mismatched return only arrives through an import, flagged for review."""
        fits = rules.reason_code("nacha", code).entry_sec_codes
        choices = [c for c in ("PPD", "PPD", "WEB", "TEL", "CCD") if not fits or c in fits]
        return self._choice(choices or [c for c in fits if c in SecCode.values] or ["PPD"])

    def _network_path(self, network, code, entry_stage):
        if entry_stage == Stage.AUTHORIZATION_PROOF_REQUESTED:
            return ["nacha_provide_authorization_proof", "nacha_receive_return"]
        if network == Network.NACHA and code in ("R01", "R09") and self.rng.random() < 0.5:
            return ["nacha_reinitiate"]
        if network == Network.NACHA and code not in WSUD_CODES:
            return ["nacha_dishonor", "nacha_receive_contest"]
        return NETWORK_STEPS[(network, flow_of(network, code))]

    def _outcome(self, taken):
        if not taken or taken[-1] == "nacha_receive_return":
            return self._weighted(ENTRY_OUTCOMES)
        return self._weighted(LATER_OUTCOMES)

    def _apply(self, dispute, step, day, moment, assignee):
        """Copy a step's effects onto the row being built (the machine ran on a probe)."""
        if step.name in ("claim", "assign"):
            dispute.assignee_id = assignee.pk
        if step.to_state != WorkState.NEW and dispute.first_touched_at is None:
            dispute.first_touched_at = moment
        if step.to_state == WorkState.SUBMITTED and step.from_state != WorkState.SUBMITTED:
            dispute.submitted_at = moment
        if step.stage_changed:
            dispute.stage_started_on = day
            if step.name == "nacha_receive_return":
                dispute.return_settled_on = day
            if step.name == "nacha_dishonor":
                dispute.dishonor_code = "R68" if dispute.return_settled_on else "R69"
            if step.name == "nacha_receive_contest":
                dispute.contest_code = "R73"
            if step.name == "nacha_reinitiate":
                dispute.reinitiation_count += 1
        if step.to_stage == Stage.CLOSED:
            dispute.closed_at = moment
            outcome = next(o for o, n in ENDINGS.items() if n == step.name)
            dispute.outcome = outcome
            recovered = dispute.amount if outcome in (Outcome.WON, Outcome.WITHDRAWN) else 0
            dispute.recovered_amount = recovered
        # protected FSM fields: write through the instance dict, as django-fsm itself does
        dispute.__dict__["stage"] = step.to_stage
        dispute.__dict__["state"] = step.to_state
        dispute.version += 1
        dispute.updated_at = moment

    @staticmethod
    def _row(
        dispute,
        seq,
        name,
        label,
        from_stage,
        to_stage,
        from_state,
        to_state,
        actor,
        moment,
        details,
        comment="",
    ):
        """One drawn step, before it becomes an event (dates may still shift)."""
        return Draft(
            name, label, from_stage, to_stage, from_state, to_state, actor, moment, details,
            comment,
        )  # fmt: skip

    def _events(self, dispute, drafts) -> list[dict]:
        """The drawn steps as case-history events (column values by attname): each with the
        snapshot of the dispute it left (deadlines recomputed at each stage change, as the
        services do), the same rows as ``history.event_row`` builds, in the canonical form
        ``chain.link_canonical`` links (the time as its UTC ISO text, which COPY reads)."""
        probe = Row.__new__(Row)
        probe.__dict__.update(dispute.__dict__)
        apply = self.book.apply_deadline
        events = []
        version, last = 0, len(drafts)
        feed = FEEDS[dispute.network]
        for seq, draft in enumerate(drafts, start=1):
            _replay(probe, draft, dispute, apply)
            version += draft.name != "note"  # a note does not change the dispute
            # the last event leaves the dispute as it is
            left, left_version = (dispute, dispute.version) if seq == last else (probe, version)
            kind, payload = _event_payload(draft)
            actor = draft.actor
            events.append(
                {  # in chain.CANONICAL_ORDER
                    "actor_id": None if actor is None else actor.pk,
                    "assignee_id": left.assignee_id,
                    "client_evidence_due": left.client_evidence_due,
                    "created_at": draft.created_at.astimezone(UTC).isoformat(),
                    "deadline_rule": left.deadline_rule,
                    "dispute_id": dispute.id,
                    "internal_due": left.internal_due,
                    "kind": kind,
                    "network_due": left.network_due,
                    "outcome": left.outcome,
                    "payload": payload,
                    "seq": seq,
                    "stage": left.stage,
                    "state": left.state,
                    "system_actor": "" if actor else feed,
                    "version": left_version,
                }
            )
        history.chain.link_canonical(events, "", self.secret)
        return events


FEEDS = {
    Network.VISA: "Visa dispute feed",
    Network.MASTERCARD: "Mastercard dispute feed",
    Network.NACHA: "NACHA return file",
}


@dataclass(slots=True)
class Draft:
    name: str
    label: str
    from_stage: str
    to_stage: str
    from_state: str
    to_state: str
    actor: object
    created_at: datetime
    details: dict
    comment: str


def _replay(probe, draft, dispute, apply) -> None:
    """Move the probe to where ``draft`` left the dispute."""
    probe.__dict__["stage"], probe.__dict__["state"] = draft.to_stage, draft.to_state
    if draft.name in ("claim", "assign"):
        probe.assignee_id = draft.details["assignee"]
    if draft.name == "open":
        probe.assignee_id, probe.outcome = None, ""
        started = date.fromisoformat(draft.details["stage_started_on"])
        probe.stage_started_on = started
        probe.return_settled_on = started if draft.to_stage == Stage.RETURN else None
    elif draft.from_stage != draft.to_stage and "on" in draft.details:
        probe.stage_started_on = date.fromisoformat(draft.details["on"])
        if draft.name == "nacha_receive_return":
            probe.return_settled_on = probe.stage_started_on
    if draft.to_stage == Stage.CLOSED:
        probe.outcome = dispute.outcome
    if draft.name == "open" or draft.from_stage != draft.to_stage:
        apply(probe)  # ScenarioBook.apply_deadline


def _event_payload(draft) -> tuple[str, dict]:
    if draft.name == "note":
        return "note_added", {"body": draft.comment}
    if draft.name == "open":
        return "opened", {"params": draft.details, "comment": draft.comment}
    payload = {
        "act": draft.name,
        "label": draft.label,
        "from_stage": draft.from_stage,
        "from_state": draft.from_state,
        "comment": draft.comment,
    }
    if draft.name in ("claim", "assign"):
        payload["assignee_name"] = draft.details["assignee_name"]
        return ("claimed" if draft.name == "claim" else "assigned"), payload
    if draft.details:
        payload["params"] = draft.details
    return "transition", payload


_ZONE_CHANGES = object()  # a day whose working hours straddle a change of UTC offset


def _working_day_start(day, tz):
    """Local midnight of ``day`` in UTC, at the offset its working hours (8:00 to 18:00) keep,
    or ``_ZONE_CHANGES`` if the offset changes within them (never, for zones that change at
    night)."""
    offset = datetime.combine(day, time(8), tz).utcoffset()
    if datetime.combine(day, time(18), tz).utcoffset() != offset:
        return _ZONE_CHANGES
    return datetime.combine(day, time(), UTC) - offset


_CHUNK_CONTEXT: dict = {}


def seed(
    *,
    disputes: int,
    seed_value: int,
    chunk: int = 10000,
    progress=None,
    workers: int = 2,
    after_load=None,
) -> dict:
    """Create the people, clients and ``disputes`` disputes, then evidence and bundles on some
    (``after_load()`` is called between the two). Returns counts.

    On PostgreSQL the chunks are drawn and copied by ``workers`` processes at once, so one
    core draws rows while the other ingests them. Each chunk has its own id range and random
    stream, so the data depends only on ``seed_value`` and ``chunk``, not on the workers."""
    rng = random.Random(seed_value)
    with transaction.atomic():
        users, agents = ensure_people()
        clients = ensure_clients(users["customer_success"], rng)
    postgres = connection.vendor == "postgresql"
    writer = CopyWriter() if postgres else BulkWriter()
    first_dispute, first_txn = writer.next_ids()
    jobs = [
        (index, first_dispute + start, first_txn + start, min(chunk, disputes - start))
        for index, start in enumerate(range(0, disputes, chunk))
    ]
    _CHUNK_CONTEXT.update(
        seed_value=seed_value,
        clients=clients,
        agents=agents,
        lead=users["ops_lead"],
        today=business_today(),
        ach_ids=dict(AchCompany.objects.values_list("client_id", "company_id")),
        writer=writer,
        book=ScenarioBook(),
    )
    made = rows_made = 0
    writer.start(disputes)
    try:
        if postgres and workers > 1 and len(jobs) > 1:
            connections.close_all()  # each process opens its own
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for size, rows in pool.imap_unordered(_make_chunk, jobs):
                    made, rows_made = made + size, rows_made + rows
                    if progress:
                        progress(made)
        else:
            for size, rows in map(_make_chunk, jobs):
                made, rows_made = made + size, rows_made + rows
                if progress:
                    progress(made)
    finally:
        writer.finish()
    if after_load:
        after_load()
    confirm_demo_rules(users["ops_lead"])
    from .evidence.bundles.demo import seed_bundles  # rendered and submitted bundles
    from .evidence.demo import seed_evidence  # files, requests and letters on open disputes

    before = CaseEvent.objects.count()
    evidence = seed_evidence(users=users, agents=agents, seed_value=seed_value)
    bundles = seed_bundles(users=users)
    return {
        "evidence": evidence,
        "bundles": bundles,
        "feature_events": (features := CaseEvent.objects.count() - before),  # evidence, bundles
        "disputes": made,
        "audit_rows": rows_made + features,
        "clients": len(clients),
        "users": len(users) + len(agents) - 1,
    }


def _make_chunk(job) -> tuple[int, int]:
    """Draw and write one chunk of disputes; returns (disputes, audit rows)."""
    index, next_dispute, next_txn, size = job
    context = _CHUNK_CONTEXT
    factory = DisputeFactory(
        rng=random.Random(f"{context['seed_value']}:{index}"),
        clients=context["clients"],
        agents=context["agents"],
        lead=context["lead"],
        today=context["today"],
        book=context["book"],
        ach_ids=context["ach_ids"],
    )
    txns, batch, rows = [], [], []
    # A chunk's rows hold no reference cycles, and while they pile up the cyclic collector
    # would walk them again and again (a sixth of the drawing time): off until they are
    # written, then on again for whatever cycles the chunk left.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for offset in range(size):
            txn, dispute, events = factory.draw(next_dispute + offset, next_txn + offset)
            txns.append(txn)
            batch.append(dispute)
            rows.extend(events)
        context["writer"].write(txns, batch, rows)
    finally:
        if collecting:
            gc.enable()
    return size, len(rows)


class BulkWriter:
    """SQLite (the demo): bulk_create in one transaction per chunk."""

    def next_ids(self):
        last_d = Dispute.objects.order_by("-id").values_list("id", flat=True).first() or 0
        last_t = Transaction.objects.order_by("-id").values_list("id", flat=True).first() or 0
        return last_d + 1, last_t + 1

    def write(self, txns, disputes, rows):
        """Transactions and disputes as ``Row``s, events as mappings of their attnames."""
        events = [
            CaseEvent(**{k: v for k, v in row.items() if k != "payload_json"}) for row in rows
        ]
        with transaction.atomic():
            for model, objects in ((Transaction, txns), (Dispute, disputes)):
                fields = model._meta.concrete_fields
                instances = [
                    model(**{f.attname: getattr(o, f.attname) for f in fields}) for o in objects
                ]
                model.objects.bulk_create(instances, batch_size=500)
            CaseEvent.objects.bulk_create(events, batch_size=500)

    def start(self, disputes: int):
        pass

    def finish(self):
        pass


# Loading this many disputes into empty tables, the secondary indexes are dropped first and
# built once at the end: one sort per index instead of a million scattered inserts into each.
REBUILD_INDEXES_FROM = 100_000


class CopyWriter(BulkWriter):
    """PostgreSQL: COPY each chunk into the three tables, then move the id sequences on."""

    models = (Transaction, Dispute, CaseEvent)

    def __init__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.bulk_load_mode = bool(cursor.fetchone()[0])
        self.dropped: list[str] = []
        self.copies = []  # (COPY statement, the function that gives one row's values)
        for model in self.models:
            names = [
                f.attname
                for f in model._meta.concrete_fields
                if not (model is CaseEvent and f.attname == "id")
            ]
            columns = ", ".join(
                connection.ops.quote_name(model._meta.get_field(n).column) for n in names
            )
            sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
            if model is CaseEvent:  # a mapping; the payload as the JSON text its hash covered
                values = itemgetter(*("payload_json" if n == "payload" else n for n in names))
            else:
                values = attrgetter(*names)
            self.copies.append((sql, values))

    def start(self, disputes: int):
        """Before a large load into empty tables: drop their indexes that back no constraint
        (``finish`` creates them again from the same definitions)."""
        if disputes < REBUILD_INDEXES_FROM or Dispute.objects.exists():
            return
        tables = [model._meta.db_table for model in self.models]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), t.relname "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
                "WHERE t.relname = ANY(%s) AND c.oid IS NULL",
                [tables],
            )
            found = cursor.fetchall()
            for name, _definition, _table in found:
                cursor.execute(f"DROP INDEX {name}")
        self.dropped = [(table, definition) for _name, definition, table in found]

    def write(self, txns, disputes, rows):
        with transaction.atomic(), connection.cursor() as cursor:
            # A load cut short by a crash is seeded again, not recovered: a chunk's commit
            # need not wait for its WAL to reach the disk.
            cursor.execute("SET LOCAL synchronous_commit = off")
            if self.bulk_load_mode:
                # The rows reference ids this seeder just wrote or read, so the per-row
                # foreign-key triggers only cost time; a superuser may skip them for the load.
                cursor.execute("SET LOCAL session_replication_role = replica")
            for (sql, values), objects in zip(self.copies, (txns, disputes, rows), strict=True):
                with cursor.cursor.copy(sql) as copy:
                    write = copy.write_row
                    for obj in objects:
                        write(values(obj))

    def finish(self):
        with connection.cursor() as cursor:
            for model in self.models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))",
                    [table],
                )
        # Statistics for the planner and the visibility map for index-only scans (the queue's
        # counts): what autovacuum would do, only later. VACUUM cannot run inside a
        # transaction (a test's): ANALYZE alone there, all on this connection.
        # The history's indexes first (the largest), so its VACUUM starts early.
        events = CaseEvent._meta.db_table
        history_first = sorted(self.dropped, key=lambda dropped: dropped[0] != events)
        tables = sorted((m._meta.db_table for m in self.models), key=lambda t: t != events)
        self.dropped = []
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                for _table, definition in history_first:
                    cursor.execute(definition)
                for table in tables:
                    cursor.execute(f"ANALYZE {table}")
            return
        _on_two_connections(
            [definition for table, definition in history_first if table == events]
            + [f"VACUUM (ANALYZE) {events}"]
            + [definition for table, definition in history_first if table != events]
            + [f"VACUUM (ANALYZE) {table}" for table in tables[1:]]
        )


def _on_two_connections(statements: list[str]) -> None:
    """Run the statements on two connections at once, each taking the next in order (two
    index builds use both cores where one would use one). A VACUUM that comes to a table
    whose index is still being built waits for it."""
    pending = list(reversed(statements))
    failures = []

    def work():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '256MB'")  # fewer sort passes
                while not failures:
                    try:
                        statement = pending.pop()  # atomic: no statement runs twice
                    except IndexError:
                        return
                    cursor.execute(statement)
        except Exception as exc:  # raised below, in the caller's thread
            failures.append(exc)
        finally:
            connection.close()  # each thread has its own

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
