import pytest


@pytest.fixture(autouse=True)
def checkpoint_storage(settings, tmp_path):
    """Each test writes its case-history checkpoints to a folder of its own, so a checkpoint
    of one test's disputes is never compared with another test's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "checkpoints")},
        },
    }
    return tmp_path / "checkpoints"
