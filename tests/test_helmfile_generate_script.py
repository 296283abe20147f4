"""components/assets/helmfile-generate.sh, run for real: bash, the aws CLI and jq against a local moto server.

The script is the helmfile CMP's "generate" step: it assumes the spoke account's SSM read role and renders.
Every case runs it in fresh HOME / TMPDIR / working directories with a stand-in `helmfile` first on PATH,
and afterwards searches the disk for the credentials involved (see `assert_no_credentials_leaked`).

moto runs with IAM authorization on, so it checks every signature and session token and denies what the
hub identity's policy does not grant, like STS would.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.support.moto_server import MotoServer, running_moto_server, venv_executable

SCRIPT = Path(__file__).resolve().parents[1] / "components" / "assets" / "helmfile-generate.sh"

ROLE_VAR = "ARGOCD_ENV_REPO_SERVER_IAM_ROLE_ARN"
HELMFILE_ENV_VAR = "ARGOCD_ENV_HELMFILE_ENV"
REGION_VAR = "ARGOCD_ENV_AWS_REGION"

HUB_ACCOUNT = "123456789012"  # moto's default account; the repo-server's own identity lives here
SPOKE_ACCOUNT = "222222222222"
OTHER_ACCOUNT = "333333333333"
HUB_USER = "argocd-repo-server"
ROLE_PATH = "/argocd-fleet/"
SPOKE_ROLE_NAME = "argocd-fleet-prod-ssm-read"


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role{ROLE_PATH}{name}"


SPOKE_ROLE_ARN = role_arn(SPOKE_ACCOUNT, SPOKE_ROLE_NAME)
# The hub may also assume these, so that fault injection can hand the script real credentials of the
# wrong identity; NOT_GRANTED_ROLE_ARN exists too, but the hub's policy does not cover it.
SAME_NAME_OTHER_ACCOUNT_ARN = role_arn(OTHER_ACCOUNT, SPOKE_ROLE_NAME)
OTHER_ROLE_SAME_ACCOUNT_ARN = role_arn(SPOKE_ACCOUNT, "argocd-fleet-prod-deploy")
NOT_GRANTED_ROLE_ARN = role_arn(SPOKE_ACCOUNT, "argocd-fleet-prod-admin")
GRANTED_ROLE_ARNS = [SPOKE_ROLE_ARN, SAME_NAME_OTHER_ACCOUNT_ARN, OTHER_ROLE_SAME_ACCOUNT_ARN]

HELMFILE_ENV = "prod"
APP_NAME = "payments"
HUB_REGION = "us-east-1"  # what the EKS pod identity webhook injects into the repo-server
MANIFEST = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\ndata:\n  by: stand-in\n"
FIXED_HELMFILE_ARGS = ["-q", "--environment", HELMFILE_ENV, "template", "--include-crds", "--skip-tests"]

# Credential sources of the hub repo-server that must not reach anything run with the spoke's credentials.
# (The script also drops AWS_SECURITY_TOKEN, but it cannot be a decoy here: the aws CLI would send it with
# the hub's own key, which moto, like STS, then rejects.)
DECOY_CREDENTIAL_SOURCES = {
    "AWS_ROLE_ARN": f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-repo-server",
    "AWS_ROLE_SESSION_NAME": "hub",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/decoy",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "decoy-authorization-token",
    "AWS_PROFILE": "hub",
    "AWS_DEFAULT_PROFILE": "hub",
    "AWS_CREDENTIAL_FILE": "/nonexistent/decoy-credentials",
}
# What the stand-in helmfile must see: the spoke credentials, the script's lock-down settings, and the
# ambient endpoint and region settings, which the script keeps. Nothing else named AWS_*.
EXPECTED_AWS_ENV_NAMES = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ENDPOINT_URL",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
}


class Secret(str):
    """A credential: searched for like any str, but pytest's reports (reprs of arguments) never show it."""

    def __repr__(self) -> str:
        return "Secret(<redacted>)"


def tool(name: str) -> str:
    """`name` from this interpreter's environment first (aws, shellcheck), then PATH (bash, jq)."""
    try:
        return venv_executable(name)
    except RuntimeError as missing:
        pytest.fail(str(missing))


# --- moto: the hub identity, the spoke roles -------------------------------------------------------


@dataclass(frozen=True)
class Aws:
    endpoint: str
    hub_access_key_id: str
    hub_secret_access_key: Secret


def create_role(server: MotoServer, arn: str) -> None:
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HUB_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    server.client("iam", account_id=account).create_role(
        RoleName=name, Path=ROLE_PATH, AssumeRolePolicyDocument=json.dumps(trust)
    )


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    with running_moto_server(log_path=tmp_path_factory.mktemp("moto") / "moto_server.log") as server:
        for arn in [*GRANTED_ROLE_ARNS, NOT_GRANTED_ROLE_ARN]:
            create_role(server, arn)
        iam = server.client("iam", account_id=HUB_ACCOUNT)
        iam.create_user(UserName=HUB_USER)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": GRANTED_ROLE_ARNS}],
        }
        iam.put_user_policy(UserName=HUB_USER, PolicyName="assume-spoke-roles", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=HUB_USER)["AccessKey"]
        server.enable_iam_authorization()
        yield Aws(server.endpoint, key["AccessKeyId"], Secret(key["SecretAccessKey"]))


# --- Stand-ins written per case --------------------------------------------------------------------

STANDIN_HELMFILE = r"""
# Stand-in for helmfile, written by tests/test_helmfile_generate_script.py. It records what it was given
# into a directory the leak scan skips, hands the credentials back through an inherited pipe (never a
# file), then prints $output and exits with $exit_status.
set -euo pipefail
printf 'ran\n' >>"$record/invocations"
printf '%s\0' "$@" >"$record/args"
compgen -e | grep '^AWS_' >"$record/aws_env_names" || true
for name in AWS_REGION AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED; do
  printf '%s=%s\n' "$name" "${!name-<unset>}"
done >"$record/aws_settings"
aws sts get-caller-identity --output json >"$record/caller_identity.json"
printf '%s\n%s\n' "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" >&"$secret_fd"
printf '%s' "$output"
exit "$exit_status"
"""

# Fault injection where moto cannot misbehave by itself: STS handing back credentials of another identity
# than the one asked for, or an incomplete answer. The wrapper asks the real (moto) STS, for
# $rewrite_role_arn instead of the requested role if set, reports what was issued through the pipe so the
# leak scan knows it, and passes the answer on through the jq filter $mangle. Other commands: the real aws.
AWS_WRAPPER = r"""
set -euo pipefail
if [[ ${1-} == sts && ${2-} == assume-role ]]; then
  args=()
  while (($#)); do
    if [[ $1 == --role-arn && -n $rewrite_role_arn ]]; then
      args+=("$1" "$rewrite_role_arn")
      shift 2
    else
      args+=("$1")
      shift
    fi
  done
  answer=$("$real_aws" "${args[@]}")
  printf '%s' "$answer" | jq -r '.Credentials.SecretAccessKey, .Credentials.SessionToken' >&"$secret_fd"
  printf '%s' "$answer" | jq "$mangle"
  exit 0
fi
exec "$real_aws" "$@"
"""


def write_bash(path: Path, settings: Mapping[str, object], body: str) -> None:
    """An executable bash script: `settings` as shell variables, then `body`."""
    header = "".join(f"{name}={shlex.quote(str(value))}\n" for name, value in settings.items())
    path.write_text("#!/usr/bin/env bash\n" + header + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@dataclass(frozen=True)
class Helmfile:
    output: str = MANIFEST
    exit_status: int = 0


@dataclass(frozen=True)
class StsFault:
    rewrite_role_arn: str = ""
    mangle: str = "."


# --- Leak scan -------------------------------------------------------------------------------------

SCAN_SIZE_LIMIT = 64 * 1024 * 1024
# Where a careless script could leave files besides its own directories: tmpfs and the default TMPDIR.
SHARED_TEMP_DIRS = [Path("/tmp"), Path("/dev/shm")]


def recent_files(root: Path, since: float, skip: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _: None):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) != skip]
        for filename in filenames:
            path = Path(dirpath, filename)
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and max(info.st_mtime, info.st_ctime) >= since:
                yield path


def assert_no_credentials_leaked(
    secrets: Sequence[Secret], outputs: Mapping[str, str], own_dirs: Sequence[Path], since: float, skip: Path
) -> None:
    """None of `secrets` on stdout/stderr, in any file under the script's own directories (however old),
    or in any file under /tmp or /dev/shm modified since `since`. `skip` is the test's record directory."""
    needles = {secret.encode() for secret in secrets if secret}
    assert needles, "no credential to look for"
    for stream, text in outputs.items():
        # Never echo the secret in an assertion message: pytest would print it.
        assert not any(needle in text.encode() for needle in needles), f"a credential was printed on {stream}"
    candidates = {path for root in own_dirs for path in root.rglob("*") if path.is_file() and not path.is_symlink()}
    for root in SHARED_TEMP_DIRS:
        candidates.update(recent_files(root, since, skip))
    for path in sorted(candidates):
        try:
            if path.stat().st_size > SCAN_SIZE_LIMIT:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        assert not any(needle in data for needle in needles), f"{path} contains a credential"


def read_pipe(fd: int, timeout: float = 10.0) -> str:
    """Everything written to the pipe until every writer closed it."""
    chunks, deadline = [], time.monotonic() + timeout
    while select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


# --- One run of the script -------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str
    record: Path
    credentials: tuple[Secret, ...]  # the hub's secret key and whatever STS issued during the run

    @property
    def helmfile_runs(self) -> int:
        invocations = self.record / "invocations"
        return len(invocations.read_text().splitlines()) if invocations.exists() else 0

    @property
    def helmfile_args(self) -> list[str]:
        return (self.record / "args").read_text().split("\0")[:-1]

    @property
    def caller_identity(self) -> dict[str, str]:
        identity: dict[str, str] = json.loads((self.record / "caller_identity.json").read_text())
        return identity

    @property
    def aws_env_names(self) -> set[str]:
        return set((self.record / "aws_env_names").read_text().split())

    @property
    def aws_settings(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in (self.record / "aws_settings").read_text().splitlines())


class Case:
    """Fresh directories and a hub-like environment for running the script once or more."""

    def __init__(self, tmp_path: Path, aws: Aws) -> None:
        self.aws = aws
        self.work, self.home, self.tmpdir, self.bin, self.record, decoys = (
            tmp_path / name for name in ("work", "home", "tmp", "bin", "record", "decoys")
        )
        for directory in (self.work, self.home, self.tmpdir, self.bin, self.record, decoys):
            directory.mkdir()
        (decoys / "token").write_text("decoy-web-identity-token")
        (decoys / "credentials").write_text("[hub]\naws_access_key_id = AKIADECOY\naws_secret_access_key = decoy\n")
        (decoys / "config").write_text(f"[profile hub]\nregion = {HUB_REGION}\n")
        path_dirs = dict.fromkeys(str(Path(tool(name)).parent) for name in ("aws", "jq", "bash"))
        self.env: dict[str, str] = {
            "PATH": os.pathsep.join([str(self.bin), *path_dirs]),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmpdir),
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            "AWS_REGION": HUB_REGION,
            "AWS_DEFAULT_REGION": HUB_REGION,
            # The repo-server's ambient identity (in EKS: IRSA or Pod Identity, decoyed below).
            "AWS_ACCESS_KEY_ID": aws.hub_access_key_id,
            "AWS_SECRET_ACCESS_KEY": aws.hub_secret_access_key,
            **DECOY_CREDENTIAL_SOURCES,
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(decoys / "token"),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(decoys / "token"),
            "AWS_SHARED_CREDENTIALS_FILE": str(decoys / "credentials"),
            "AWS_CONFIG_FILE": str(decoys / "config"),
            "ARGOCD_APP_NAME": APP_NAME,
            ROLE_VAR: SPOKE_ROLE_ARN,
            HELMFILE_ENV_VAR: HELMFILE_ENV,
        }

    def run(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        helmfile: Helmfile | None = None,
        sts_fault: StsFault | None = None,
        command_prefix: Sequence[str] = (),
    ) -> Result:
        """Run the script with `env` changes (None unsets), then check that no credential leaked."""
        changed = {**self.env, **(env or {})}
        run_env = {name: value for name, value in changed.items() if value is not None}
        # The stand-ins hand credentials back through this pipe; its write end's number is baked into them.
        read_end, write_end = os.pipe()
        with open(read_end, "rb", buffering=0) as reader:
            try:
                write_bash(
                    self.bin / "helmfile",
                    {"record": self.record, "secret_fd": write_end, **asdict(helmfile or Helmfile())},
                    STANDIN_HELMFILE,
                )
                aws_wrapper = self.bin / "aws"
                aws_wrapper.unlink(missing_ok=True)
                if sts_fault is not None:
                    settings = {"real_aws": tool("aws"), "secret_fd": write_end, **asdict(sts_fault)}
                    write_bash(aws_wrapper, settings, AWS_WRAPPER)
                started = time.time() - 1  # file times may be coarser than time.time()
                process = subprocess.run(
                    [*command_prefix, tool("bash"), str(SCRIPT), *args],
                    check=False,
                    cwd=self.work,
                    env=run_env,
                    pass_fds=(write_end,),
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
            finally:
                os.close(write_end)  # now the pipe ends when the script's processes are gone
            issued = [Secret(credential) for credential in read_pipe(reader.fileno()).split()]
        credentials = (self.aws.hub_secret_access_key, *issued)
        assert_no_credentials_leaked(
            credentials,
            outputs={"stdout": process.stdout, "stderr": process.stderr},
            own_dirs=[self.work, self.home, self.tmpdir],
            since=started,
            skip=self.record,
        )
        return Result(process.returncode, process.stdout, process.stderr, self.record, credentials)


@pytest.fixture
def case(tmp_path: Path, aws: Aws) -> Case:
    return Case(tmp_path, aws)


def assert_refused(result: Result, *reasons: str, helmfile_ran: bool = False) -> None:
    """A failed run: non-zero exit, the reasons on stderr, and not a byte on stdout."""
    assert result.returncode != 0
    assert result.stdout == ""
    assert "helmfile-generate: " in result.stderr
    for reason in reasons:
        assert reason in result.stderr
    assert result.helmfile_runs == (1 if helmfile_ran else 0)


def assumed_role_arn(role_name: str, session: str, account: str = SPOKE_ACCOUNT) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"


# --- Renders ---------------------------------------------------------------------------------------


def test_renders_as_the_spoke_role_with_nothing_to_fall_back_to(case: Case) -> None:
    result = case.run("--selector", "tier=web")

    assert result.returncode == 0, result.stderr
    assert result.stdout == MANIFEST
    assert result.helmfile_runs == 1
    assert result.helmfile_args == [*FIXED_HELMFILE_ARGS, "--selector", "tier=web"]
    assert result.caller_identity["Account"] == SPOKE_ACCOUNT
    assert result.caller_identity["Arn"] == assumed_role_arn(SPOKE_ROLE_NAME, f"argocd-{APP_NAME}")
    assert not result.aws_env_names & DECOY_CREDENTIAL_SOURCES.keys()
    assert result.aws_env_names == EXPECTED_AWS_ENV_NAMES
    assert result.aws_settings == {
        "AWS_REGION": HUB_REGION,
        "AWS_DEFAULT_REGION": HUB_REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.mark.parametrize(
    ("app_name", "session"),
    [
        pytest.param(None, "argocd-repo-server", id="unset"),
        pytest.param("", "argocd-repo-server", id="empty"),
        pytest.param("apps_payments", "argocd-apps_payments", id="allowed-characters-kept"),
        pytest.param(
            "team-a/payments api (prod)/" + "x" * 60,
            "argocd-team-a-payments-api--prod--" + "x" * 30,  # 64 characters, the STS maximum
            id="long-with-slashes-and-spaces",
        ),
    ],
)
def test_session_name_comes_from_the_application(case: Case, app_name: str | None, session: str) -> None:
    result = case.run(env={"ARGOCD_APP_NAME": app_name})

    assert result.returncode == 0, result.stderr
    assert result.caller_identity["Arn"] == assumed_role_arn(SPOKE_ROLE_NAME, session)


@pytest.mark.parametrize(
    ("env", "region"),
    [
        pytest.param({REGION_VAR: "eu-west-2"}, "eu-west-2", id="from-plugin-env"),
        # The aws CLI v1 reads only AWS_DEFAULT_REGION; the script copies AWS_REGION over.
        pytest.param({"AWS_DEFAULT_REGION": None}, HUB_REGION, id="ambient-AWS_REGION-only"),
    ],
)
def test_region_reaches_sts_and_helmfile(case: Case, env: dict[str, str | None], region: str) -> None:
    result = case.run(env=env)

    assert result.returncode == 0, result.stderr
    assert result.aws_settings["AWS_REGION"] == region
    assert result.aws_settings["AWS_DEFAULT_REGION"] == region


# --- Refusals before STS ---------------------------------------------------------------------------

ROLE_PREFIX = f"arn:aws:iam::{SPOKE_ACCOUNT}:role/"


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        pytest.param({ROLE_VAR: None}, f"{ROLE_VAR} is not set; set REPO_SERVER_IAM_ROLE_ARN", id="role-unset"),
        pytest.param({ROLE_VAR: ""}, f"{ROLE_VAR} is empty", id="role-empty"),
        pytest.param({ROLE_VAR: SPOKE_ROLE_NAME}, f"{ROLE_VAR} is not an IAM role ARN", id="role-bare-name"),
        pytest.param({ROLE_VAR: "arn:aws:iam::22222222222:role/x"}, ROLE_VAR, id="role-11-digit-account"),
        pytest.param({ROLE_VAR: f"arn:aws:iam::{SPOKE_ACCOUNT}:user/x"}, ROLE_VAR, id="role-user-arn"),
        pytest.param({ROLE_VAR: f"arn:aws:sts::{SPOKE_ACCOUNT}:assumed-role/x/y"}, ROLE_VAR, id="role-sts-arn"),
        pytest.param({ROLE_VAR: "arn:aws-foo:iam::222222222222:role/x"}, ROLE_VAR, id="role-partition"),
        pytest.param({ROLE_VAR: ROLE_PREFIX}, ROLE_VAR, id="role-no-name"),
        pytest.param({ROLE_VAR: ROLE_PREFIX + "r" * 65}, ROLE_VAR, id="role-name-65-chars"),
        pytest.param({ROLE_VAR: ROLE_PREFIX + "ssm read"}, ROLE_VAR, id="role-space"),
        pytest.param({ROLE_VAR: SPOKE_ROLE_ARN + "\n"}, ROLE_VAR, id="role-trailing-newline"),
        pytest.param({HELMFILE_ENV_VAR: None}, f"{HELMFILE_ENV_VAR} is not set; set HELMFILE_ENV", id="env-unset"),
        pytest.param({HELMFILE_ENV_VAR: ""}, f"{HELMFILE_ENV_VAR} is empty", id="env-empty"),
        pytest.param({HELMFILE_ENV_VAR: "-prod"}, f"{HELMFILE_ENV_VAR} is not a helmfile environment", id="env-dash"),
        pytest.param({HELMFILE_ENV_VAR: "prod env"}, HELMFILE_ENV_VAR, id="env-space"),
        pytest.param({HELMFILE_ENV_VAR: "prod;id"}, HELMFILE_ENV_VAR, id="env-semicolon"),
        pytest.param({HELMFILE_ENV_VAR: "p" * 64}, HELMFILE_ENV_VAR, id="env-64-chars"),
        pytest.param({REGION_VAR: ""}, f"{REGION_VAR} is empty", id="region-empty"),
        pytest.param({REGION_VAR: "EU-WEST-1"}, f"{REGION_VAR} is not an AWS region", id="region-uppercase"),
        pytest.param({REGION_VAR: "eu-west"}, REGION_VAR, id="region-no-number"),
        pytest.param({REGION_VAR: "eu-west-1 "}, REGION_VAR, id="region-trailing-space"),
    ],
)
def test_refuses_invalid_settings(case: Case, env: dict[str, str | None], reason: str) -> None:
    assert_refused(case.run(env=env), reason)


# --- Refusals at STS -------------------------------------------------------------------------------


def test_refuses_when_sts_denies_the_role(case: Case) -> None:
    # A well-formed role the hub's policy does not grant: moto answers AccessDenied like STS.
    result = case.run(env={ROLE_VAR: NOT_GRANTED_ROLE_ARN})

    assert_refused(result, "AccessDenied", f"sts assume-role of {NOT_GRANTED_ROLE_ARN} failed")


def test_refuses_when_sts_is_unreachable(case: Case) -> None:
    with socket.socket() as closed:  # bound but not listening: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = case.run(env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_MAX_ATTEMPTS": "1"})

    assert_refused(result, "Could not connect", f"sts assume-role of {SPOKE_ROLE_ARN} failed")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param(
            StsFault(rewrite_role_arn=SAME_NAME_OTHER_ACCOUNT_ARN),
            f"belong to account {OTHER_ACCOUNT}, expected account {SPOKE_ACCOUNT}",
            id="other-account",
        ),
        pytest.param(
            StsFault(rewrite_role_arn=OTHER_ROLE_SAME_ACCOUNT_ARN),
            f"assumed identity is {assumed_role_arn('argocd-fleet-prod-deploy', f'argocd-{APP_NAME}')}, "
            f"expected {assumed_role_arn(SPOKE_ROLE_NAME, f'argocd-{APP_NAME}')}",
            id="other-role-same-account",
        ),
        pytest.param(
            StsFault(mangle=".Credentials.SessionToken = null"),
            "returned no Credentials.SessionToken",
            id="null-session-token",
        ),
        pytest.param(
            StsFault(mangle='.Credentials.SecretAccessKey = ""'),
            "returned no Credentials.SecretAccessKey",
            id="empty-secret-key",
        ),
        pytest.param(StsFault(mangle="del(.Credentials)"), "returned no Credentials.AccessKeyId", id="no-credentials"),
    ],
)
def test_refuses_credentials_of_another_identity(case: Case, fault: StsFault, reason: str) -> None:
    assert_refused(case.run(sts_fault=fault), reason)


# --- Refusals at helmfile --------------------------------------------------------------------------


def test_helmfile_failure_prints_nothing_even_after_partial_output(case: Case) -> None:
    partial = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    result = case.run(helmfile=Helmfile(output=partial, exit_status=3))

    assert_refused(result, "helmfile template failed (exit 3)", helmfile_ran=True)
    assert result.returncode == 3


@pytest.mark.parametrize(
    "output", [pytest.param("", id="nothing"), pytest.param("---\n\n# Source: none\n---\n", id="separators-only")]
)
def test_refuses_an_empty_render(case: Case, output: str) -> None:
    result = case.run(helmfile=Helmfile(output=output))

    assert_refused(result, "rendered no manifests for environment prod", helmfile_ran=True)


# --- The script itself -----------------------------------------------------------------------------


def test_credentials_never_appear_on_a_command_line(case: Case) -> None:
    # argv is visible to every user in `ps`; strace sees every program the script and its children start.
    if shutil.which("strace") is None:
        pytest.fail("strace is needed to watch the script's command lines (Debian: apt-get install strace)")
    trace = case.record / "execve.trace"
    strace = ["strace", "-f", "-qq", "-e", "trace=execve", "-s", "100000", "-o", str(trace)]
    result = case.run(command_prefix=strace)

    assert result.returncode == 0, result.stderr
    executed = trace.read_text()
    assert '"sts", "assume-role"' in executed and '"template"' in executed  # the trace saw the real work
    assert len(result.credentials) == 3  # the hub's secret key, the spoke's secret key and session token
    assert not any(credential in executed for credential in result.credentials)


def test_shellcheck_is_clean() -> None:
    result = subprocess.run([tool("shellcheck"), str(SCRIPT)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_script_never_traces_and_keeps_credentials_off_disk_by_construction() -> None:
    text = SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert os.access(SCRIPT, os.X_OK)
    assert re.search(r"^set -euo pipefail$", text, re.MULTILINE)
    # Tracing would print the credentials: switched off first, never switched on.
    assert re.search(r"^set \+xv$", text, re.MULTILINE)
    assert not re.search(r"set\s+-\w*x|-o\s+xtrace|BASH_XTRACEFD", text)
    # Here-documents and here-strings may be backed by temporary files.
    assert "<<" not in text
