"""A moto server in a subprocess, for tests that drive real AWS clients.

In-process `mock_aws` only patches boto3 inside the test's own interpreter; the aws CLI, a shell
script or a Go binary run as child processes need an HTTP endpoint instead. Point them at it with
`AWS_ENDPOINT_URL=<server.endpoint>`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

HOST = "127.0.0.1"
# Before `enable_iam_authorization`, moto accepts any signature; these only have to look like keys.
SETUP_CREDENTIALS = {"aws_access_key_id": "AKIAMOTOSETUP0000000", "aws_secret_access_key": "moto-setup"}


def free_port() -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def venv_executable(name: str) -> str:
    """`name` from this interpreter's environment first (so it works in any venv or CI), then PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        raise RuntimeError(f"{name} not found next to {sys.executable} or on PATH; install requirements-dev.txt")
    return found


@dataclass(frozen=True)
class MotoServer:
    endpoint: str

    def client(self, service: str, *, account_id: str | None = None, region: str = "us-east-1") -> Any:
        """A boto3 client for the server; with `account_id`, every call acts in that moto account."""
        client = boto3.client(service, endpoint_url=self.endpoint, region_name=region, **SETUP_CREDENTIALS)
        if account_id is not None:
            # moto's documented way to address a non-default account from one client.
            def add_account_header(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account_id

            client.meta.events.register("before-sign", add_account_header)
        return client

    def enable_iam_authorization(self) -> None:
        """From now on moto checks signatures and evaluates IAM policies, so it can deny a call.

        Create the users, keys and policies the test needs first: they are set up unauthenticated.
        """
        self._post("/moto-api/reset-auth", b"0")

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(
            self.endpoint + path, data=body, method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_moto_server(*, log_path: Path | None = None, startup_timeout: float = 30.0) -> Iterator[MotoServer]:
    """Start `moto_server` on a free local port, wait until it answers, and always stop it."""
    port = free_port()
    endpoint = f"http://{HOST}:{port}"
    # A developer's MOTO_ACCOUNT_ID would override every per-request account; auth starts off.
    env = {k: v for k, v in os.environ.items() if k not in ("MOTO_ACCOUNT_ID", "INITIAL_NO_AUTH_ACTION_COUNT")}
    with ExitStack() as stack:
        # Its request log goes to a file, not to a pipe nobody reads (a full pipe stalls the server).
        log = stack.enter_context(open(log_path, "wb")) if log_path is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            [venv_executable("moto_server"), "-H", HOST, "-p", str(port)], stdout=log, stderr=log, env=env
        )
        stack.callback(_stop, process)
        deadline = time.monotonic() + startup_timeout
        while not _answers(endpoint):
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {process.returncode} (log: {log_path})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not answer on {endpoint} within {startup_timeout}s")
            time.sleep(0.05)
        yield MotoServer(endpoint)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
