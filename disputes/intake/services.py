"""Apply parsed intake files: each file atomically (all or nothing) and idempotently (the same
file twice changes nothing; the same return in two files is one dispute).

* ``receive_file(kind=, name=, content=, uploaded_by=)`` records a file to import, or finds the
  same bytes imported before. ``import_file(intake_file_id=)`` parses and applies it; a file
  that does not parse is refused with the line and field, and nothing of it is written.
* NACHA returns open their dispute (``disputes.services.open_dispute``, or the bulk writer
  below for large files: same rows, same events, same checks) and add an ``imported`` event;
  dishonored and contested returns go through ``nacha_dishonor`` / ``nacha_receive_contest``.
* ``match_originator`` gives an unmatched dispute its client (an event).
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from calendar_rules import rules

from .. import history, leases, services
from ..choices import Network, Rail, ReferenceKind, SecCode, Stage, TransactionType
from ..deadlines import apply_deadline
from ..models import AchCompany, CaseEvent, Client, Dispute, Transaction
from . import card_csv, nacha, volumes
from .models import (
    ChangeNotice,
    IntakeFile,
    MerchantAccount,
    ReviewFlag,
    TransactionVolume,
    UnmatchedOriginator,
)
from .sources import sources

log = logging.getLogger(__name__)
NACHA_IMPORT = "NACHA import"
CARD_IMPORT = "Card report import"
UNMATCHED_SLUG = "unmatched-originator"
# New disputes per file above which they are written in bulk (COPY) on PostgreSQL.
BULK_THRESHOLD = 200
PROGRESS_EVERY = 2000


class IntakeRefused(ValueError):
    """The file cannot be imported; the message names the line and the field."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# --- receiving a file -------------------------------------------------------------------------


def receive_file(
    *, kind: str, name: str, content: bytes, uploaded_by=None, source: str = ""
) -> tuple[IntakeFile, bool]:
    """Record a file to import; returns (file, created). The same bytes of the same kind, already
    imported or on their way, are found instead: importing them again would change nothing."""
    digest = hashlib.sha256(content).hexdigest()
    existing = (
        IntakeFile.objects.filter(kind=kind, sha256=digest)
        .exclude(status=IntakeFile.Status.FAILED)
        .first()
    )
    if existing is not None:
        return existing, False
    if kind == IntakeFile.Kind.CARD and source not in sources().card_sources:
        raise IntakeRefused(f"Unknown report source {source!r}.")
    intake_file = IntakeFile.objects.create(
        kind=kind,
        source=source,
        name=(name or "upload")[:200],
        sha256=digest,
        size=len(content),
        content=content,
        uploaded_by=uploaded_by,
    )
    return intake_file, True


# The import task's hard time limit (tasks.import_intake_file takes it from here): an import
# started longer ago than this was killed, where the worker's lease cannot be asked (SQLite).
IMPORT_TIME_LIMIT = timedelta(minutes=30)


def requeue_waiting(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue again every file still waiting to import after ``older_than`` (its task was never
    queued because the broker was down, or was lost), and every file left "Importing" by a
    worker that died (its import rolled back with its transaction; ``disputes.leases`` tells a
    dead worker from a live one). A file imports once however often it is queued
    (``import_file`` takes its lease and claims it, and the import is idempotent). Returns how
    many were queued."""
    from astra_ops.celery import publish

    from .tasks import import_intake_file

    now = timezone.now()
    waiting = list(
        IntakeFile.objects.filter(
            status=IntakeFile.Status.PENDING, created_at__lt=now - older_than
        ).values_list("pk", flat=True)
    )
    running = IntakeFile.objects.filter(
        status=IntakeFile.Status.RUNNING, started_at__lt=now - older_than
    ).values_list("pk", "started_at")
    for pk, started_at in running:
        worker_alive = leases.alive("intake_file", pk)
        if worker_alive is None:  # cannot be asked: only Celery's hard limit tells
            worker_alive = started_at >= now - IMPORT_TIME_LIMIT
        if worker_alive:
            continue
        # Back to waiting, unless its worker finished (or a new one claimed it) meanwhile.
        if IntakeFile.objects.filter(pk=pk, status=IntakeFile.Status.RUNNING).update(
            status=IntakeFile.Status.PENDING, done=0
        ):
            log.warning("intake file %s was left importing by a worker that died: requeued", pk)
            waiting.append(pk)
    return sum(publish(import_intake_file, pk) for pk in waiting)


def import_file(*, intake_file_id: int, bulk_threshold: int | None = None) -> IntakeFile:
    """Parse and apply one received file, all or nothing. Returns the file with its status
    (imported or refused), its error (line and field) and a summary of what changed. A file
    already imported, or being imported by another live worker, is returned as it is."""
    with leases.held("intake_file", intake_file_id) as mine:
        if not mine:
            return IntakeFile.objects.get(pk=intake_file_id)
        return _import_file(intake_file_id, bulk_threshold)


def _import_file(intake_file_id: int, bulk_threshold: int | None) -> IntakeFile:
    started = IntakeFile.objects.filter(
        pk=intake_file_id,
        status__in=[IntakeFile.Status.PENDING, IntakeFile.Status.RUNNING],
    ).update(status=IntakeFile.Status.RUNNING, started_at=timezone.now())
    intake_file = IntakeFile.objects.get(pk=intake_file_id)
    if not started:
        return intake_file
    apply = {
        IntakeFile.Kind.NACHA: _import_nacha,
        IntakeFile.Kind.CARD: _import_card,
        IntakeFile.Kind.VOLUMES: _import_volumes,
    }[intake_file.kind]
    try:
        with transaction.atomic():
            summary = apply(intake_file, bulk_threshold=bulk_threshold)
            intake_file.status = IntakeFile.Status.DONE
            intake_file.summary = summary
            intake_file.done = intake_file.total
            intake_file.finished_at = timezone.now()
            intake_file.save()
    except (nacha.NachaFormatError, card_csv.CardCsvError, volumes.VolumeCsvError) as exc:
        _refuse(intake_file, str(exc), exc.line)
    except IntakeRefused as exc:
        _refuse(intake_file, str(exc), exc.line)
    return intake_file


def _refuse(intake_file, message: str, line) -> None:
    intake_file.status = IntakeFile.Status.FAILED
    intake_file.error = message
    intake_file.error_line = line
    intake_file.finished_at = timezone.now()
    intake_file.save(update_fields=["status", "error", "error_line", "finished_at"])


class Progress:
    """Writes how far an import is on a connection of its own, so the upload page sees it
    while the import's transaction is still open. Best effort: PostgreSQL only."""

    def __init__(self, intake_file):
        self.intake_file = intake_file
        self.connection = None
        if connection.vendor == "postgresql":
            try:
                self.connection = connections.create_connection("default")
            except DatabaseError:
                self.connection = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {IntakeFile._meta.db_table} "
                    "SET done = %s, total = COALESCE(%s, total) WHERE id = %s",
                    [done, total, self.intake_file.pk],
                )
        except DatabaseError:
            self.connection = None

    def close(self):
        if self.connection is not None:
            self.connection.close()


# --- NACHA ------------------------------------------------------------------------------------


@dataclass
class NachaSummary:
    opened: int = 0
    already_imported: int = 0
    dishonored: int = 0
    contested: int = 0
    change_notices: int = 0
    flagged: int = 0
    unmatched: int = 0
    not_disputes: int = 0  # zero-amount (prenotification) returns
    touched: list = field(default_factory=list)

    def as_dict(self) -> dict:
        values = {k: v for k, v in self.__dict__.items() if k != "touched"}
        values["disputes_touched"] = len(set(self.touched))
        return values


def _import_nacha(intake_file, *, bulk_threshold=None) -> dict:
    parsed = nacha.parse(bytes(intake_file.content), change_codes=sources().nacha_change_codes)
    entries = list(parsed.entries())
    intake_file.total = len(entries)
    progress = Progress(intake_file)
    progress(0, len(entries))
    try:
        return _apply_nacha(intake_file, parsed, entries, progress, bulk_threshold).as_dict()
    finally:
        progress.close()


def unmatched_client() -> Client:
    """Where a dispute waits while no client holds its company identification or merchant id."""
    client, _ = Client.objects.get_or_create(
        slug=UNMATCHED_SLUG, defaults={"name": "Unmatched originator", "is_active": False}
    )
    return client


def _apply_nacha(intake_file, parsed, entries, progress, bulk_threshold) -> NachaSummary:
    summary = NachaSummary()
    company_ids = {batch.company_id for batch, _ in entries}
    clients = {
        company.company_id: company.client
        for company in AchCompany.objects.filter(company_id__in=company_ids).select_related(
            "client"
        )
    }
    returns = [(b, e) for b, e in entries if e.addenda.kind == "return"]
    changes = [(b, e) for b, e in entries if e.addenda.kind == "change"]
    answers = [(b, e) for b, e in entries if e.addenda.kind in ("dishonored", "contested")]
    context = ImportContext(intake_file, parsed, clients, summary)
    fresh = _fresh_returns(returns, summary)
    threshold = BULK_THRESHOLD if bulk_threshold is None else bulk_threshold
    if connection.vendor == "postgresql" and len(fresh) > threshold:
        BulkReturns(context).write(fresh, progress)
    else:
        for index, (batch, entry) in enumerate(fresh, start=1):
            _open_return(context, batch, entry)
            if index % PROGRESS_EVERY == 0:
                progress(index)
    for batch, entry in answers:
        _apply_answer(context, batch, entry)
    _record_changes(context, changes)
    progress(len(entries))
    return summary


@dataclass
class ImportContext:
    intake_file: IntakeFile
    parsed: nacha.ReturnFile
    clients: dict
    summary: NachaSummary
    actor: object = None
    _unmatched: Client | None = None

    def __post_init__(self):
        self.actor = self.intake_file.uploaded_by

    @property
    def system_actor(self) -> str:
        return NACHA_IMPORT

    def client_for(self, company_id: str) -> Client:
        client = self.clients.get(company_id)
        if client is not None:
            return client
        if self._unmatched is None:
            self._unmatched = unmatched_client()
        return self._unmatched

    def source(self, line: int) -> str:
        return f"{self.intake_file.name}, line {line}"


def _fresh_returns(returns, summary) -> list:
    """The returns not yet imported: one dispute per original entry, however many files carry
    it (its trace number is the case id)."""
    known = _known_case_ids({entry.addenda.original_trace for _, entry in returns})
    fresh, seen = [], set()
    for batch, entry in returns:
        trace = entry.addenda.original_trace
        if trace in known or trace in seen:
            summary.already_imported += 1
            continue
        if entry.amount <= 0:
            summary.not_disputes += 1
            continue
        seen.add(trace)
        fresh.append((batch, entry))
    return fresh


def _known_case_ids(traces) -> set:
    """The NACHA case ids (original trace numbers) among ``traces`` that have a dispute. On
    PostgreSQL one array parameter instead of one placeholder per trace: a file of 100,000
    returns would otherwise send 100,000 parameters."""
    if connection.vendor != "postgresql":
        return set(
            Dispute.objects.filter(network=Network.NACHA, case_id__in=traces).values_list(
                "case_id", flat=True
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT case_id FROM {Dispute._meta.db_table} WHERE network = %s "
            "AND case_id = ANY(%s)",
            [Network.NACHA, list(traces)],
        )
        return {row[0] for row in cursor.fetchall()}


SEC_CODES = frozenset(SecCode.values)


def _sec(batch) -> str:
    return batch.sec_code if batch.sec_code in SEC_CODES else ""


def _original_entries(traces) -> dict:
    """Original entries we have on file, by trace number (their settlement dates make the
    return's timeliness known)."""
    originals = Transaction.objects.filter(rail=Rail.ACH, disputes__isnull=True)
    if connection.vendor == "postgresql":
        # One array parameter (see ``_known_case_ids``); the matches are few.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Transaction._meta.db_table} "
                "WHERE rail = %s AND network_reference = ANY(%s)",
                [Rail.ACH, list(traces)],
            )
            originals = originals.filter(pk__in=[row[0] for row in cursor.fetchall()])
    else:
        originals = originals.filter(network_reference__in=list(traces))
    return {txn.network_reference: txn for txn in originals}


def _new_transaction(context, batch, entry, *, pk=None) -> Transaction:
    """The returned entry as we know it from the return: the original's dates are not in a
    return file, so they read as the return's own until the original is matched."""
    return Transaction(
        pk=pk,
        client=context.client_for(batch.company_id),
        rail=Rail.ACH,
        transaction_type=TransactionType.ACH_DEBIT
        if entry.is_debit
        else TransactionType.ACH_CREDIT,
        sec_code=_sec(batch),
        reference_kind=ReferenceKind.TRACE_NUMBER,
        network_reference=entry.addenda.original_trace,
        account_last4=entry.account_last4,
        ach_company_id=batch.company_id,
        amount=entry.amount,
        currency="USD",
        transaction_date=batch.settlement_date,
        settlement_date=batch.settlement_date,
        description=_description(batch),
        original_entry_on_file=False,
    )


def _description(batch) -> str:
    return f"{batch.entry_description or 'ACH entry'} (original entry not on file)"[:200]


def _imported_payload(context, batch, entry, *, original_known: bool, flag: str = "") -> dict:
    addenda = entry.addenda
    payload = {
        "file": context.intake_file.name,
        "intake_file": context.intake_file.pk,
        "line": addenda.line,
        "entry": addenda.kind,
        "code": addenda.code,
        "company_id": batch.company_id,
        "company_name": batch.company_name,
        "sec_code": batch.sec_code,
        "settled_on": batch.settlement_date.isoformat(),
        "original_known": original_known,
    }
    if addenda.return_reason:
        payload["return_reason"] = addenda.return_reason
    if batch.company_id not in context.clients:
        payload["unmatched"] = True
    if flag:
        payload["flag"] = flag
    return payload


def _misfit(batch, entry) -> str:
    return nacha.misfit(entry.addenda.code, batch.sec_code, sources().nacha_return_fit)


def _open_return(context, batch, entry) -> Dispute:
    """One return through the dispute service: the dispute, its ``opened`` and ``imported``
    events, and its flags."""
    addenda = entry.addenda
    original = _original_entries([addenda.original_trace]).get(addenda.original_trace)
    txn = original or _new_transaction(context, batch, entry)
    if original is None:
        txn.save()
    dispute = services.open_dispute(
        client=txn.client if original else context.client_for(batch.company_id),
        transaction_record=txn,
        network=Network.NACHA,
        case_id=addenda.original_trace,
        reason_code=addenda.code,
        amount=entry.amount,
        currency="USD",
        received_on=context.parsed.header.created_on,
        stage_started_on=batch.settlement_date,
        actor=context.actor,
        system_actor=NACHA_IMPORT,
        source=context.source(addenda.line),
    )
    flag = _misfit(batch, entry)
    history.record_event(
        dispute=dispute,
        kind="imported",
        actor=context.actor,
        system_actor=NACHA_IMPORT,
        payload=_imported_payload(context, batch, entry, original_known=bool(original), flag=flag),
    )
    _after_open(context, [(dispute.pk, batch, entry, flag)])
    return dispute


def _after_open(context, opened) -> None:
    """Flags, unmatched records and counts for disputes just opened."""
    flags, unmatched = [], []
    for dispute_id, batch, entry, flag in opened:
        line = entry.addenda.line
        context.summary.opened += 1
        context.summary.touched.append(dispute_id)
        if flag:
            flags.append(
                ReviewFlag(
                    dispute_id=dispute_id,
                    intake_file=context.intake_file,
                    line=line,
                    reason=flag,
                )
            )
        if batch.company_id not in context.clients:
            unmatched.append(
                UnmatchedOriginator(
                    dispute_id=dispute_id,
                    id_kind=UnmatchedOriginator.IdKind.ACH_COMPANY,
                    identifier=batch.company_id,
                    name=batch.company_name,
                    intake_file=context.intake_file,
                    line=line,
                )
            )
    ReviewFlag.objects.bulk_create(flags, batch_size=2000)
    UnmatchedOriginator.objects.bulk_create(unmatched, batch_size=2000)
    context.summary.flagged += len(flags)
    context.summary.unmatched += len(unmatched)


def _apply_answer(context, batch, entry) -> None:
    """A dishonored return (ours, R61–R70) or a contested dishonor (the RDFI's, R71–R77):
    moves the dispute of the original entry through the named service. When the dispute cannot
    take it (outside the window, another stage), the entry is still recorded and flagged."""
    addenda = entry.addenda
    dishonor = addenda.kind == "dishonored"
    code_field = "dishonor_code" if dishonor else "contest_code"
    dispute = Dispute.objects.filter(network=Network.NACHA, case_id=addenda.original_trace).first()
    if dispute is None:
        dispute = _open_from_answer(context, batch, entry)
        if dispute is None:
            return
    elif getattr(dispute, code_field) == addenda.code:
        # Recorded before (this file's twin, or the dispute has moved on since).
        context.summary.already_imported += 1
        return
    service = services.nacha_dishonor if dishonor else services.nacha_receive_contest
    flag = ""
    try:
        with transaction.atomic():
            service(
                dispute_id=dispute.pk,
                actor=None,
                system_actor=NACHA_IMPORT,
                on=batch.settlement_date,
                code=addenda.code,
                comment=f"From {context.source(addenda.line)}.",
            )
    except services.DisputeError as exc:
        flag = f"The file reports {addenda.code} but the dispute could not record it: {exc}"
    else:
        if dishonor:
            context.summary.dishonored += 1
        else:
            context.summary.contested += 1
    dispute = services._locked(dispute.pk)
    history.record_event(
        dispute=dispute,
        kind="imported",
        actor=context.actor,
        system_actor=NACHA_IMPORT,
        payload=_imported_payload(context, batch, entry, original_known=True, flag=flag),
    )
    context.summary.touched.append(dispute.pk)
    if flag:
        ReviewFlag.objects.create(
            dispute=dispute, intake_file=context.intake_file, line=addenda.line, reason=flag
        )
        context.summary.flagged += 1


def _open_from_answer(context, batch, entry) -> Dispute | None:
    """A dishonor or contest for a return we have not seen: open the return's dispute from the
    return reason the addenda carries, then apply the answer to it."""
    addenda = entry.addenda
    try:
        rules.reason_code(Network.NACHA, addenda.return_reason)
    except rules.RuleLookupError:
        raise IntakeRefused(
            f"Line {addenda.line}, addenda, return reason code: {addenda.return_reason} is not "
            "a NACHA return code in the rule tables",
            addenda.line,
        ) from None
    if entry.amount <= 0:
        context.summary.not_disputes += 1
        return None
    opened = _open_return(
        context,
        batch,
        nacha.Entry(
            **{
                **{f: getattr(entry, f) for f in entry.__dataclass_fields__},
                "addenda": nacha.ReturnAddenda(
                    line=addenda.line,
                    kind="return",
                    code=addenda.return_reason,
                    original_trace=addenda.original_trace,
                    original_rdfi=addenda.original_rdfi,
                ),
            }
        ),
    )
    context.summary.touched.pop()  # counted again when the answer is applied
    return opened


def _record_changes(context, changes) -> None:
    notices = [
        ChangeNotice(
            client=context.clients.get(batch.company_id),
            company_id=batch.company_id,
            company_name=batch.company_name,
            code=entry.addenda.code,
            original_trace=entry.addenda.original_trace,
            rdfi=entry.addenda.original_rdfi,
            corrected_data=entry.addenda.corrected_data,
            account_last4=entry.account_last4,
            individual_name=entry.individual_name,
            sec_code=batch.sec_code,
            received_on=batch.settlement_date,
            intake_file=context.intake_file,
            line=entry.addenda.line,
        )
        for batch, entry in changes
    ]
    before = ChangeNotice.objects.count() if notices else 0
    ChangeNotice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=2000)
    if notices:
        created = ChangeNotice.objects.count() - before
        context.summary.change_notices += created
        context.summary.already_imported += len(notices) - created


# --- NACHA in bulk ------------------------------------------------------------------------------


class BulkReturns:
    """Many new returns at once (PostgreSQL): the same transactions, disputes, ``opened`` and
    ``imported`` events as ``_open_return`` writes one by one, with the same checks, copied
    in with COPY inside the file's transaction. The disputes are new, so no other writer can
    hold their chains."""

    CHUNK = 20000

    def __init__(self, context: ImportContext):
        self.context = context
        self.secret = history.chain.key()
        self.deadline_cache: dict = {}
        actor = context.actor
        self.actor_id = getattr(actor, "pk", actor)

    def write(self, fresh, progress) -> None:
        originals = _original_entries([e.addenda.original_trace for _, e in fresh])
        for start in range(0, len(fresh), self.CHUNK):
            chunk = fresh[start : start + self.CHUNK]
            self._write_chunk(chunk, originals)
            progress(start + len(chunk))

    def _ids(self, model, count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def _write_chunk(self, chunk, originals) -> None:
        """One chunk in three COPYs. The disputes go first, each row sent as soon as it is
        built, and the events are built and hashed meanwhile: PostgreSQL inserts the disputes
        (and maintains their indexes) on one core while this process hashes on the other. The
        foreign keys are checked at commit (deferred), so the order of the tables is free."""
        context = self.context
        fresh_count = sum(1 for _, e in chunk if e.addenda.original_trace not in originals)
        new_txn_ids = iter(self._ids(Transaction, fresh_count))
        dispute_ids = iter(self._ids(Dispute, len(chunk)))
        txns, events, opened = [], [], []
        now = timezone.now()
        self._prepare(chunk)
        with connection.cursor() as cursor:
            with _copier(cursor, Dispute) as write_dispute:
                for batch, entry in chunk:
                    original = originals.get(entry.addenda.original_trace)
                    if original is None:
                        txn = self._transaction(next(new_txn_ids), batch, entry, now)
                        txns.append(txn)
                    else:
                        txn = {"id": original.pk, "client_id": original.client_id}
                    dispute = self._dispute(next(dispute_ids), txn, batch, entry, now)
                    write_dispute(dispute.__dict__)
                    flag = _misfit(batch, entry)
                    events.extend(
                        self._events(dispute, batch, entry, flag, original is not None, now)
                    )
                    opened.append((dispute.id, batch, entry, flag))
            _copy(cursor, Transaction, txns)
            _copy_rows(cursor, events)
        _after_open(context, opened)

    def _transaction(self, pk, batch, entry, now) -> dict:
        """The same values as ``_new_transaction``, without a model instance per row."""
        return {
            **TXN_DEFAULTS,
            "id": pk,
            "client_id": self.context.client_for(batch.company_id).pk,
            "transaction_type": (
                TransactionType.ACH_DEBIT if entry.is_debit else TransactionType.ACH_CREDIT
            ),
            "sec_code": _sec(batch),
            "network_reference": entry.addenda.original_trace,
            "account_last4": entry.account_last4,
            "ach_company_id": batch.company_id,
            "amount": entry.amount,
            "transaction_date": batch.settlement_date,
            "settlement_date": batch.settlement_date,
            "description": _description(batch),
            "created_at": now,
        }

    def _dispute(self, pk, txn, batch, entry, now) -> SimpleNamespace:
        """The dispute's column values (attnames), as ``open_dispute`` would save them."""
        dispute = SimpleNamespace(**DISPUTE_DEFAULTS)
        dispute.__dict__.update(
            id=pk,
            pk=pk,
            network=Network.NACHA,
            case_id=entry.addenda.original_trace,
            client_id=txn["client_id"],
            transaction_id=txn["id"],
            rail=Rail.ACH,
            reason_code=entry.addenda.code,
            stage=Stage.RETURN,
            amount=entry.amount,
            currency="USD",
            received_on=self.context.parsed.header.created_on,
            stage_started_on=batch.settlement_date,
            return_settled_on=batch.settlement_date,
            opened_at=now,
            updated_at=now,
        )
        _check_like_open_dispute(dispute)
        self._deadline(dispute)
        return dispute

    def _prepare(self, chunk) -> None:
        """What the rows need from the database, read before a COPY holds the connection: the
        deadline of each (code, settlement date) (the engine reads confirmed rules; a file has
        few of each) and each batch's client (the unmatched placeholder is made once)."""
        for batch, entry in chunk:
            key = (entry.addenda.code, batch.settlement_date)
            if key not in self.deadline_cache:
                model = Dispute(
                    network=Network.NACHA,
                    reason_code=entry.addenda.code,
                    stage=Stage.RETURN,
                    stage_started_on=batch.settlement_date,
                    return_settled_on=batch.settlement_date,
                )
                apply_deadline(model)
                self.deadline_cache[key] = {name: getattr(model, name) for name in DEADLINE_FIELDS}
            self.context.client_for(batch.company_id)

    def _deadline(self, dispute) -> None:
        """The deadline ``_prepare`` computed for the dispute's code and settlement date."""
        dispute.__dict__.update(
            self.deadline_cache[(dispute.reason_code, dispute.return_settled_on)]
        )

    def _events(self, dispute, batch, entry, flag, original_known, now) -> list[dict]:
        """The ``opened`` and ``imported`` rows ``history.event_row`` would make, built from
        one shared part (the dispute's snapshot is the same in both) with payloads that are
        JSON already (dates as ISO text, as ``history.jsonable`` writes them), then linked."""
        context = self.context
        common = {
            "dispute_id": dispute.pk,
            "actor_id": self.actor_id,
            "system_actor": NACHA_IMPORT,
            "created_at": now,
            **history.snapshot(dispute),
        }
        opened = {
            **common,
            "seq": 1,
            "kind": "opened",
            "payload": {
                "params": {"stage_started_on": dispute.stage_started_on.isoformat()},
                "comment": "",
                "source": context.source(entry.addenda.line),
            },
        }
        imported = {
            **common,
            "seq": 2,
            "kind": "imported",
            "payload": _imported_payload(
                context, batch, entry, original_known=original_known, flag=flag
            ),
        }
        rows = [opened, imported]
        history.chain.link_for_copy(rows, "", self.secret)
        return rows


TXN_DEFAULTS = {
    "rail": Rail.ACH,
    "reference_kind": ReferenceKind.TRACE_NUMBER,
    "account_fingerprint": "",
    "currency": "USD",
    "original_entry_on_file": False,
}


def _dispute_defaults() -> dict:
    """Every column of a new dispute as the model's defaults leave it (attnames)."""
    blank = Dispute()
    return {f.attname: getattr(blank, f.attname) for f in Dispute._meta.concrete_fields}


DISPUTE_DEFAULTS = _dispute_defaults()


DEADLINE_FIELDS = (
    "network_due",
    "internal_due",
    "due_party",
    "deadline_rule",
    "rules_version",
    "deadline_explanation",
)


_CODES_IN_FORCE: set = set()


def _check_like_open_dispute(dispute) -> None:
    """What ``Dispute.full_clean`` checks in ``open_dispute``, without a query per row (the
    case id's uniqueness was checked for the whole file before)."""
    if dispute.amount <= 0:
        raise IntakeRefused("A dispute's amount must be positive.")
    key = (dispute.reason_code, dispute.received_on)
    if key not in _CODES_IN_FORCE:
        try:
            rules.reason_code(dispute.network, dispute.reason_code, on=dispute.received_on)
        except rules.RuleLookupError as exc:
            raise IntakeRefused(str(exc)) from None
        _CODES_IN_FORCE.add(key)
    if len(dispute.case_id) > 40:
        raise IntakeRefused("Case id too long.")


@contextmanager
def _copier(cursor, model):
    """A COPY into the model's table, open for the block: yields ``write(row)`` for rows as
    mappings of attnames, each sent to the server as the buffer fills."""
    names = [f.attname for f in model._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
    with cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        write_row = copy.write_row
        yield lambda row: write_row([row[name] for name in names])


def _copy(cursor, model, rows) -> None:
    """COPY rows (mappings of attnames) into the model's table."""
    if not rows:
        return
    with _copier(cursor, model) as write:
        for row in rows:
            write(row)


def _copy_rows(cursor, rows) -> None:
    fields = [f.attname for f in CaseEvent._meta.concrete_fields if f.attname != "id"]
    with cursor.cursor.copy(
        f"COPY {CaseEvent._meta.db_table} ({', '.join(fields)}) FROM STDIN"
    ) as copy:
        for row in rows:
            # The payload as the JSON text its hash covered (``chain.link_for_copy``).
            copy.write_row([row["payload_json"] if f == "payload" else row[f] for f in fields])


# --- card dispute reports ---------------------------------------------------------------------


def _import_card(intake_file, *, bulk_threshold=None) -> dict:
    source = sources().card_sources.get(intake_file.source)
    if source is None:
        raise IntakeRefused(f"Unknown report source {intake_file.source!r}.")
    rows = card_csv.parse(bytes(intake_file.content), source)
    intake_file.total = len(rows)
    merchants = {
        m.merchant_id: m.client
        for m in MerchantAccount.objects.filter(
            merchant_id__in={r.merchant_id for r in rows}
        ).select_related("client")
    }
    known = set(
        Dispute.objects.filter(
            network=source.network, case_id__in=[r.case_id for r in rows]
        ).values_list("case_id", flat=True)
    )
    summary = {"opened": 0, "already_imported": 0, "unmatched": 0}
    actor = intake_file.uploaded_by
    unmatched = None
    for row in rows:
        if row.case_id in known:
            summary["already_imported"] += 1
            continue
        client = merchants.get(row.merchant_id)
        if client is None:
            unmatched = unmatched or unmatched_client()
        dispute = _open_card(intake_file, source, row, client or unmatched, actor)
        summary["opened"] += 1
        if client is None:
            UnmatchedOriginator.objects.create(
                dispute=dispute,
                id_kind=UnmatchedOriginator.IdKind.MERCHANT,
                identifier=row.merchant_id,
                name=row.merchant_name,
                intake_file=intake_file,
                line=row.line,
            )
            summary["unmatched"] += 1
    return summary


def _open_card(intake_file, source, row, client, actor) -> Dispute:
    txn = Transaction.objects.create(
        client=client,
        rail=Rail.CARD,
        transaction_type=TransactionType.PURCHASE,
        reference_kind=ReferenceKind.ARN,
        network_reference=row.arn,
        account_last4=row.card_last4,
        amount=row.amount,
        currency=row.currency,
        transaction_date=row.transaction_date,
        settlement_date=row.transaction_date,
        description=(row.merchant_name or source.label)[:200],
    )
    where = f"{intake_file.name}, line {row.line}"
    try:
        dispute = services.open_dispute(
            client=client,
            transaction_record=txn,
            network=source.network,
            case_id=row.case_id,
            reason_code=row.reason_code,
            amount=row.amount,
            currency=row.currency,
            received_on=intake_file.created_at.date(),
            stage_started_on=row.processing_date,
            actor=actor,
            system_actor=CARD_IMPORT,
            source=where,
        )
    except ValidationError as exc:
        raise IntakeRefused(f"Line {row.line}: {'; '.join(exc.messages)}", row.line) from None
    history.record_event(
        dispute=dispute,
        kind="imported",
        actor=actor,
        system_actor=CARD_IMPORT,
        payload={
            "file": intake_file.name,
            "intake_file": intake_file.pk,
            "line": row.line,
            "entry": "card",
            "source": source.label,
            "code": row.reason_code,
            "merchant_id": row.merchant_id,
            "merchant_name": row.merchant_name,
            **({"unmatched": True} if client.slug == UNMATCHED_SLUG else {}),
        },
    )
    return dispute


# --- transaction volumes ------------------------------------------------------------------------


def _import_volumes(intake_file, *, bulk_threshold=None) -> dict:
    rows = volumes.parse(
        bytes(intake_file.content), rails=Rail.values, transaction_types=TransactionType.values
    )
    intake_file.total = len(rows)
    return save_volumes(rows=rows)


def save_volumes(*, rows) -> dict:
    """Insert or update daily volumes (one row per client, day, rail and type). Refuses the
    whole set, naming the line, when a client is unknown. Saving the same rows twice changes
    nothing. Returns counts."""
    clients = dict(
        Client.objects.filter(slug__in={r.client for r in rows}).values_list("slug", "pk")
    )
    seen = {}
    for row in rows:
        if row.client not in clients:
            raise IntakeRefused(f"Line {row.line}, client: no client {row.client!r}", row.line)
        key = (row.client, row.day, row.rail, row.transaction_type)
        if key in seen:
            raise IntakeRefused(
                f"Line {row.line}, day: the same client, day, rail and type are on line "
                f"{seen[key]}",
                row.line,
            )
        seen[key] = row.line
    existing = {
        (v.client_id, v.day, v.rail, v.transaction_type): v
        for v in TransactionVolume.objects.filter(
            client_id__in=set(clients.values()), day__in={r.day for r in rows}
        )
    }
    created, updated, unchanged = [], [], 0
    now = timezone.now()
    for row in rows:
        key = (clients[row.client], row.day, row.rail, row.transaction_type)
        volume = existing.get(key)
        values = {"count": row.count, "amount": row.amount, "currency": row.currency}
        if volume is None:
            created.append(
                TransactionVolume(
                    client_id=key[0],
                    day=row.day,
                    rail=row.rail,
                    transaction_type=row.transaction_type,
                    updated_at=now,
                    **values,
                )
            )
        elif any(getattr(volume, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(volume, k, v)
            volume.updated_at = now
            updated.append(volume)
        else:
            unchanged += 1
    TransactionVolume.objects.bulk_create(created, batch_size=2000)
    TransactionVolume.objects.bulk_update(
        updated, ["count", "amount", "currency", "updated_at"], batch_size=2000
    )
    return {"created": len(created), "updated": len(updated), "unchanged": unchanged}


# --- resolving an unmatched originator ----------------------------------------------------------


@transaction.atomic
def match_originator(*, unmatched_id: int, client, actor, remember: bool = True):
    """Ops choose the client of a dispute whose company identification (or merchant id) matched
    none. The dispute and its transaction move to the client; an ``originator_matched`` event
    records it; with ``remember`` the identification is added to the client so the next file
    matches by itself. Raises RoleRefused, or ValidationError when already resolved."""
    if not actor.has_perm("disputes.import_files"):
        raise services.RoleRefused("Your role may not choose the client of imported disputes.")
    record = UnmatchedOriginator.objects.select_for_update().get(pk=unmatched_id)
    if record.resolved_at is not None:
        raise ValidationError("This dispute's client was already chosen.")
    if client.slug == UNMATCHED_SLUG:
        raise ValidationError({"client": "Choose a client."})
    dispute = services._locked(record.dispute_id)
    Transaction.objects.filter(pk=dispute.transaction_id).update(client=client)
    dispute.client = client
    dispute.version += 1
    dispute.updated_at = timezone.now()
    dispute.save(update_fields=["client", "version", "updated_at"])
    if remember:
        _remember(record, client)
    record.resolved_at = timezone.now()
    record.resolved_by = actor
    record.resolved_client = client
    record.save()
    history.record_event(
        dispute=dispute,
        kind="originator_matched",
        actor=actor,
        payload={
            "client": client.pk,
            "client_name": client.name,
            "identifier": record.identifier,
            "id_kind": record.get_id_kind_display(),
            "name": record.name,
        },
    )
    return record


def _remember(record, client) -> None:
    if record.id_kind == UnmatchedOriginator.IdKind.ACH_COMPANY:
        AchCompany.objects.get_or_create(
            company_id=record.identifier,
            defaults={"client": client, "company_name": record.name[:16]},
        )
        ChangeNotice.objects.filter(company_id=record.identifier, client=None).update(client=client)
    else:
        MerchantAccount.objects.get_or_create(
            merchant_id=record.identifier, defaults={"client": client, "name": record.name}
        )


# --- reading a dispute's import for people --------------------------------------------------------


def timeliness_text(dispute) -> str:
    """Whether the return was timely, when the original entry is known."""
    result = dispute.return_timeliness()
    return result.explanation if result else ""


__all__ = [
    "BULK_THRESHOLD",
    "IntakeRefused",
    "import_file",
    "match_originator",
    "receive_file",
    "save_volumes",
    "unmatched_client",
]
