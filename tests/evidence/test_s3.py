"""Evidence on S3, against moto in server mode on 127.0.0.1: files are private, stored under
``evidence/``, and served by a short-lived presigned URL after the permission check."""

import socket
import urllib.error
import urllib.request

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.evidence import samples
from disputes.evidence.models import EvidenceItem

POD = samples.pdf_document("Proof of delivery", ["Delivered"])
BUCKET = "astra-evidence-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": moto_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "location": "evidence",
                "signature_version": "s3v4",
            },
        },
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])


def test_upload_goes_to_s3_privately_and_is_served_by_presigned_url(
    s3, client, cs_user, dispute, moto_server
):
    client.force_login(cs_user)
    response = client.post(
        reverse("disputes:evidence_upload", args=[dispute.pk]),
        {"kind": "proof_of_delivery", "file": SimpleUploadedFile("pod.pdf", POD)},
    )
    assert response.status_code == 302
    item = EvidenceItem.objects.get()
    key = f"evidence/{item.file.name}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == POD
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert all("AllUsers" not in str(g.get("Grantee", {})) for g in grants)

    served = client.get(reverse("disputes:evidence_file", args=[dispute.pk, item.pk]))
    assert served.status_code == 302
    assert served.url.startswith(moto_server) and "X-Amz-Expires=300" in served.url
    with urllib.request.urlopen(served.url) as presigned:
        assert presigned.read() == POD


def test_s3_object_is_not_readable_without_a_signature(s3, client, cs_user, dispute, moto_server):
    client.force_login(cs_user)
    client.post(
        reverse("disputes:evidence_upload", args=[dispute.pk]),
        {"kind": "proof_of_delivery", "file": SimpleUploadedFile("pod.pdf", POD)},
    )
    item = EvidenceItem.objects.get()
    bare = f"{moto_server}/{BUCKET}/evidence/{item.file.name}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bare)
    assert refused.value.code == 403
