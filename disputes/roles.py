"""The role/permission matrix. Roles are Django groups; a data migration applies this matrix,
and `python manage.py sync_roles` re-applies it after a change. The README prints it."""

VIEW = [
    "disputes.view_client",
    "disputes.view_clientcontact",
    "disputes.view_achcompany",
    "disputes.view_transaction",
    "disputes.view_dispute",
    "disputes.view_caseevent",
]

ROLE_PERMISSIONS = {
    "ops_agent": [
        *VIEW,
        "disputes.claim_dispute",
        "disputes.work_dispute",
        "disputes.request_evidence",
        "disputes.upload_evidence",
        "disputes.add_note",
        "disputes.export_disputes",
    ],
    "ops_lead": [
        *VIEW,
        "disputes.claim_dispute",
        "disputes.assign_dispute",
        "disputes.work_dispute",
        "disputes.accept_liability",
        "disputes.request_evidence",
        "disputes.upload_evidence",
        "disputes.add_note",
        "disputes.export_disputes",
        "disputes.view_reports",
        "disputes.verify_audit",
        "disputes.unlock_logins",
        "disputes.import_files",
    ],
    "customer_success": [
        *VIEW,
        "disputes.request_evidence",
        "disputes.upload_evidence",
        "disputes.add_note",
    ],
    "compliance": [
        *VIEW,
        "disputes.export_disputes",
        "disputes.view_reports",
        "disputes.verify_audit",
    ],
    "admin": "__all__",
}

ROLE_LABELS = {
    "ops_agent": "Ops agent",
    "ops_lead": "Ops lead",
    "customer_success": "Customer Success",
    "compliance": "Compliance (read-only + reports)",
    "admin": "Admin",
}


def apply_roles(group_model, permission_model, *, strict: bool = False) -> None:
    """Create the groups and give each exactly the permissions of the matrix.

    A data migration runs this against an older schema, where a permission added later does
    not exist yet: it is skipped then (the post-migrate sync, ``strict``, adds it)."""
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        if codes == "__all__":
            perms = permission_model.objects.filter(
                content_type__app_label__in=["disputes", "auth"]
            )
        else:
            perms = []
            for code in codes:
                app_label, codename = code.split(".")
                found = permission_model.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).first()
                if found is None and strict:
                    raise permission_model.DoesNotExist(f"No permission {code} (role {role}).")
                if found is not None:
                    perms.append(found)
        group.permissions.set(perms)
