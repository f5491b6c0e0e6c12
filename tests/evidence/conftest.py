import pytest

from disputes.models import ClientContact
from tests.factories import ClientFactory, open_dispute


@pytest.fixture(autouse=True)
def evidence_files(settings, tmp_path):
    """Evidence files of a test go to its own directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }
    return tmp_path / "evidence"


@pytest.fixture
def client_org(db):
    return ClientFactory(name="Northwind Outfitters", slug="northwind")


@pytest.fixture
def contact(client_org):
    return ClientContact.objects.create(
        client=client_org, name="Dana Reyes", email="dana@northwind.example", role="Ops"
    )


@pytest.fixture
def dispute(client_org):
    """A Visa 13.1 dispute (proof of delivery required), opened today."""
    return open_dispute(client=client_org, code="13.1")
