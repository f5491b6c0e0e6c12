"""Where evidence files live: the ``evidence`` storage alias (settings.STORAGES).

The local filesystem under ``var/evidence`` by default, a private S3 bucket when one is named.
Files are never public: pages serve them through a permission-checked view, or on S3 redirect
to a presigned URL that expires in minutes. The storage is resolved lazily, so a settings
change (tests, S3 through moto) takes effect without reloading the model.
"""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class _EvidenceStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages["evidence"]


evidence_files = _EvidenceStorage()


def evidence_storage():
    """The storage of ``EvidenceItem.file`` (a callable, so migrations name it, not a path)."""
    return evidence_files


@receiver(setting_changed)
def _forget_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        evidence_files._wrapped = empty


def is_remote() -> bool:
    """True when files are on S3: serve them by presigned URL rather than through Django."""
    return hasattr(evidence_files, "bucket_name")
