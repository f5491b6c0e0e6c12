"""Demo evidence: files on many open disputes, requests open, overdue and answered, uploads
from clients through their link, a duplicate, a withdrawal, rebuttal letters. Everything goes
through the services, so the case histories read exactly as in production.

Files are small real documents made in code (``samples``): PDFs with text, PNG/JPEG receipts,
CSV logs, e-mails.
"""

import random
from datetime import UTC, datetime, timedelta

from calendar_rules.rules.evidence import checklist
from disputes.choices import WorkState
from disputes.models import Dispute, business_today

from . import letters, samples, selectors, services


def _file_for(kind, dispute, rng):
    txn = dispute.transaction
    who = dispute.client.name
    ref = f"{txn.get_reference_kind_display()} {txn.network_reference}"
    when = f"{txn.transaction_date:%b} {txn.transaction_date.day}, {txn.transaction_date.year}"
    amount = f"{txn.amount} {txn.currency}"
    if kind.key in ("transaction_receipt", "duplicate_explanation") and rng.random() < 0.5:
        lines = [who, f"Receipt for {ref}", when, f"Total {amount}", "Thank you"]
        fmt = rng.choice(["PNG", "JPEG"])
        ext = "png" if fmt == "PNG" else "jpg"
        return f"receipt-{txn.pk}.{ext}", samples.png_receipt(lines, fmt=fmt)
    if kind.key in ("customer_identity_match", "authorization_record", "chip_read_data"):
        rows = [["date", "reference", "ip", "device_id", "amount", "result"]]
        for i in range(rng.randint(2, 5)):
            day = txn.transaction_date - timedelta(days=130 + 40 * i)
            rows.append(
                [
                    day.isoformat(),
                    f"7{rng.randrange(10**15):015d}",
                    f"203.0.113.{rng.randint(2, 250)}",
                    f"dev-{rng.randrange(16**6):06x}",
                    str(txn.amount),
                    "approved",
                ]
            )
        return f"{kind.key.replace('_', '-')}-{txn.pk}.csv", samples.csv_log(rows)
    if kind.key == "customer_communication":
        sent = datetime.combine(txn.transaction_date + timedelta(days=3), datetime.min.time(), UTC)
        body = (
            f"Hello,\n\nYour order {txn.network_reference[-8:]} was delivered on "
            f"{txn.transaction_date + timedelta(days=3)}. Thanks for shopping with {who}.\n"
        )
        return f"email-{txn.pk}.eml", samples.eml_message(
            sender=f"support@{dispute.client.slug}.example",
            to="customer@example.com",
            subject=f"Your order from {who} was delivered",
            body=body,
            sent=sent,
        )
    lines = [
        f"Merchant: {who}",
        f"Transaction: {ref}",
        f"Date: {when}   Amount: {amount}",
        "",
        kind.satisfied_by,
        "",
        *[f"Record {i + 1}: verified {txn.transaction_date + timedelta(days=i)}" for i in range(6)],
    ]
    return f"{kind.key.replace('_', '-')}-{txn.pk}.pdf", samples.pdf_document(kind.label, lines)


def _upload(dispute, kind, actor, rng, **extra):
    name, data = _file_for(kind, dispute, rng)
    return services.upload_evidence(
        dispute_id=dispute.pk,
        uploads=[services.Upload(name, data)],
        kind=kind.key,
        actor=actor,
        description=rng.choice(["", "", "From the client's records", "Exported from the OMS"]),
        **extra,
    ).saved


def _ask(dispute, actor, kinds, *, today, contact, due_on=None):
    dispute = Dispute.objects.get(pk=dispute.pk)
    return services.request_evidence(
        dispute_id=dispute.pk,
        actor=actor,
        expected_version=dispute.version,
        kinds=kinds,
        contact=contact,
        today=today,
        due_on=due_on,
        confirm_late=True,
        message="Please send what you have; a scan or photo is fine.",
    )


def seed_evidence(*, users: dict, agents: list, seed_value: int, limit: int = 120) -> dict:
    """Evidence on up to ``limit`` open disputes. Returns counts. The request e-mails are not
    sent (the demo's contacts are made up)."""
    from django.test.utils import override_settings

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _seed(users=users, agents=agents, seed_value=seed_value, limit=limit)


def _seed(*, users, agents, seed_value, limit) -> dict:
    rng = random.Random(seed_value + 9)
    today = business_today()
    cs, lead = users["customer_success"], users["ops_lead"]
    chosen = (
        Dispute.objects.select_related("client", "transaction")
        .filter(client__contacts__receives_evidence_requests=True)
        .distinct()
        .order_by("internal_due", "id")
    )
    awaiting = list(chosen.filter(state=WorkState.AWAITING_EVIDENCE)[: limit // 3])
    others = list(
        chosen.filter(
            state__in=[WorkState.READY_TO_SUBMIT, WorkState.SUBMITTED, WorkState.IN_REVIEW]
        )[: limit * 2]
    )
    rng.shuffle(others)
    open_disputes = awaiting + others[: limit - len(awaiting)]
    counts = {"files": 0, "requests": 0, "letters": 0}
    for index, dispute in enumerate(open_disputes[:limit]):
        try:
            items = checklist(dispute.network, dispute.reason_code).items
        except ValueError:
            continue
        contact = dispute.client.contacts.filter(receives_evidence_requests=True).first()
        uploader = rng.choice([cs, *agents[:3]])
        if dispute.state == WorkState.AWAITING_EVIDENCE and contact is not None:
            counts.update(_awaiting(dispute, items, cs, contact, rng, today, index, counts))
            continue
        wanted = [i for i in items if i.required or rng.random() < 0.5]
        if dispute.state == WorkState.IN_REVIEW and rng.random() < 0.4:
            wanted = [i for i in wanted if not i.required]  # still missing a required item
        for item in wanted:
            counts["files"] += len(_upload(dispute, item.kind, uploader, rng))
        if index % 9 == 0 and wanted:
            counts["files"] += len(_upload(dispute, wanted[0].kind, uploader, rng))  # duplicate
        if index % 13 == 0 and wanted:
            extra = _upload(dispute, items[-1].kind, uploader, rng)
            if extra:
                services.withdraw_evidence(
                    item_id=extra[0].pk, actor=uploader, reason="Wrong transaction attached"
                )
        if dispute.state in (WorkState.READY_TO_SUBMIT, WorkState.SUBMITTED) or index % 4 == 0:
            counts["letters"] += _letters(dispute, uploader, rng)
        if dispute.state == WorkState.IN_REVIEW and index % 5 == 0:
            missing = selectors.checklist_status(dispute).missing_required
            if missing:
                services.override_checklist(
                    dispute_id=dispute.pk,
                    actor=lead,
                    reason="Issuer's own records confirm delivery; filing without the POD.",
                )
    return counts


def _awaiting(dispute, items, cs, contact, rng, today, index, counts) -> dict:
    """An open request (some overdue), some answered through the client's link."""
    kinds = [i.kind.key for i in items if i.required] or [items[0].kind.key]
    made_on = today - timedelta(days=rng.choice([0, 1, 3, 6, 9, 12]))
    due_on = made_on + timedelta(days=2) if index % 3 == 1 else None  # some are overdue
    request = _ask(dispute, cs, kinds, today=made_on, contact=contact, due_on=due_on)
    requests, files = 1, 0
    if index % 3 == 0:
        for item in items[:2]:
            files += len(
                _upload(
                    dispute,
                    item.kind,
                    None,
                    rng,
                    on_behalf_of=contact,
                    request=request,
                    system_actor=services.client_actor(request),
                )
            )
        if index % 2 == 0:
            services.answer_request(
                request_id=request.pk, actor=None, system_actor=services.client_actor(request)
            )
    else:
        if index % 2:
            services.record_link_opened(request_id=request.pk)
    return {"requests": counts["requests"] + requests, "files": counts["files"] + files}


def _letters(dispute, author, rng) -> int:
    family = letters.family_of(dispute)
    body = letters.draft(dispute, items=selectors.active_items(dispute))
    services.save_letter(dispute_id=dispute.pk, actor=author, body=body, family=family)
    if rng.random() < 0.4:
        revised = body.replace("For these reasons", "For all of these reasons", 1)
        if revised != body:
            services.save_letter(dispute_id=dispute.pk, actor=author, body=revised, family=family)
            return 2
    return 1
