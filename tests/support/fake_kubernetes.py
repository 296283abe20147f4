"""A tiny HTTPS Kubernetes API holding one ConfigMap (kube-system/aws-auth), started and stopped by the test.

It speaks just enough of the real API for the aws-auth provider: GET, and merge-patch PATCH with a
resourceVersion precondition (409 on a stale version), behind TLS with a self-signed CA and a
bearer token that must look like an EKS token. Every request is recorded, so tests can assert that
nothing ever tried to create, replace or delete the ConfigMap.
"""

from __future__ import annotations

import base64
import copy
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

AWS_AUTH_PATH = "/api/v1/namespaces/kube-system/configmaps/aws-auth"


@dataclass
class Request:
    method: str
    path: str
    authorization: str
    body: dict[str, Any] | None


@dataclass
class FakeCluster:
    """The API server's state and what it was asked."""

    endpoint: str
    ca_data: str
    configmap: dict[str, Any] | None = None
    requests: list[Request] = field(default_factory=list)
    # Called before a PATCH is applied, e.g. to simulate someone else writing first.
    before_patch: Callable[[FakeCluster], None] | None = None

    def store(self, data: dict[str, str] | None) -> None:
        """Put aws-auth in place (None: the cluster has no aws-auth)."""
        self.configmap = None if data is None else _configmap(data, version=1)

    def write(self, data: dict[str, str]) -> None:
        """Someone else (eksctl, a person) updates aws-auth."""
        assert self.configmap is not None
        version = int(self.configmap["metadata"]["resourceVersion"]) + 1
        self.configmap = _configmap({**self.configmap["data"], **data}, version)

    @property
    def data(self) -> dict[str, str]:
        assert self.configmap is not None
        return dict(self.configmap["data"])

    @property
    def methods(self) -> list[str]:
        return [request.method for request in self.requests]


def _configmap(data: dict[str, str], version: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": str(version)},
        "data": dict(data),
    }


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            authorization = self.headers.get("Authorization", "")
            cluster.requests.append(Request(self.command, self.path, authorization, body))
            if not authorization.startswith("Bearer k8s-aws-v1."):
                return self._reply(401, {"kind": "Status", "reason": "Unauthorized"})
            if self.path.split("?")[0] != AWS_AUTH_PATH:
                return self._reply(404, {"kind": "Status", "reason": "NotFound"})
            if self.command == "GET":
                if cluster.configmap is None:
                    return self._reply(404, {"kind": "Status", "reason": "NotFound"})
                return self._reply(200, cluster.configmap)
            if self.command == "PATCH" and body is not None:
                return self._patch(body)
            return self._reply(405, {"kind": "Status", "reason": "MethodNotAllowed"})

        def _patch(self, body: dict[str, Any]) -> None:
            if self.headers.get("Content-Type") != "application/merge-patch+json":
                return self._reply(415, {"kind": "Status", "reason": "UnsupportedMediaType"})
            if cluster.before_patch is not None:
                hook, cluster.before_patch = cluster.before_patch, None
                hook(cluster)
            if cluster.configmap is None:
                return self._reply(404, {"kind": "Status", "reason": "NotFound"})
            expected = body.get("metadata", {}).get("resourceVersion")
            current = cluster.configmap["metadata"]["resourceVersion"]
            if expected is not None and expected != current:
                return self._reply(409, {"kind": "Status", "reason": "Conflict"})
            merged = copy.deepcopy(cluster.configmap)
            for key, value in (body.get("data") or {}).items():
                if value is None:
                    merged["data"].pop(key, None)
                else:
                    merged["data"][key] = value
            merged["metadata"]["resourceVersion"] = str(int(current) + 1)
            cluster.configmap = merged
            return self._reply(200, merged)

        do_GET = _handle
        do_PATCH = _handle
        do_PUT = _handle
        do_POST = _handle
        do_DELETE = _handle

    return Handler


def _self_signed(directory: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-eks")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    certificate_file, key_file = directory / "server.crt", directory / "server.key"
    certificate_file.write_bytes(pem)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file, base64.b64encode(pem).decode()


@contextmanager
def fake_cluster() -> Iterator[FakeCluster]:
    """An HTTPS API server on 127.0.0.1 (free port) for the duration of the block."""
    with tempfile.TemporaryDirectory() as directory:
        certificate_file, key_file, ca_data = _self_signed(Path(directory))
        cluster = FakeCluster(endpoint="", ca_data=ca_data)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate_file, key_file)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        cluster.endpoint = f"https://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield cluster
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
