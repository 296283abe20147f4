"""The offline plan: golden tree, deterministic output, parseable files, a faithful trust diagram, clean failures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.offline import PLACEHOLDER
from components.plan import main

PROJECT = Path(__file__).resolve().parent.parent
GOLDEN_TREE = Path(__file__).resolve().parent / "golden" / "example-tree.txt"
STACK_FILE = PROJECT / "stacks" / "Pulumi.example.yaml"


def plan(out: Path, *extra: str, stack: str = "example") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components.plan", "--stack", stack, "--out", str(out), *extra],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )


def folder(path: Path) -> dict[str, bytes]:
    return {str(file.relative_to(path)): file.read_bytes() for file in sorted(path.rglob("*")) if file.is_file()}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("plan") / "example"
    result = plan(out)
    assert result.returncode == 0, result.stderr
    return result, out


def test_the_printed_tree_matches_the_golden_file(example: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, out = example
    assert result.stdout == GOLDEN_TREE.read_text(), (
        "regenerate with: python -m components.plan --stack example > tests/golden/example-tree.txt"
    )
    assert (out / "tree.txt").read_text() == result.stdout


def test_two_runs_give_byte_identical_folders(
    example: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _, first = example
    assert plan(tmp_path / "again").returncode == 0
    assert folder(tmp_path / "again") == folder(first)


def test_every_json_and_yaml_file_parses(example: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = example
    files = folder(out)
    assert any(name.endswith(".json") for name in files) and any(name.endswith(".yaml") for name in files)
    for name, content in files.items():
        if name.endswith(".json"):
            json.loads(content)
        elif name.endswith(".yaml"):
            assert yaml.safe_load(content) is not None, name


def test_one_iam_file_per_role_and_one_folder_per_cluster(
    example: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = example
    roles = sorted(str(p.relative_to(out / "iam")) for p in (out / "iam").rglob("*.json"))
    assert roles == [
        "hub/argocd-fleet-example-management.json",
        "hub/argocd-fleet-example-repo-server.json",
        "prod/argocd-fleet-example-deploy.json",
        "prod/argocd-fleet-example-ssm-read.json",
        "stg/argocd-fleet-example-deploy.json",
        "stg/argocd-fleet-example-ssm-read.json",
    ]
    management = json.loads((out / "iam/hub/argocd-fleet-example-management.json").read_text())
    assert management["trust"]["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert list(management["managedPolicies"]) == ["argocd-fleet-example-management-assume-1"]
    assert sorted(p.name for p in (out / "kubernetes").iterdir()) == ["hub", "prod-app"]
    assert (out / "plugin/helmfile-generate.sh").read_text() == (
        PROJECT / "components/assets/helmfile-generate.sh"
    ).read_text()


def test_aws_auth_after_up_keeps_existing_entries(example: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = example
    view = yaml.safe_load((out / "kubernetes/prod-app/configmap-aws-auth.after-up.yaml").read_text())
    entries = yaml.safe_load(view["mapRoles"])
    assert [entry["rolearn"].rsplit("/", 1)[1] for entry in entries] == [
        f"{PLACEHOLDER}-node-role-of-prod-app",
        "argocd-fleet-example-deploy",
    ]


def mermaid_graph(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    """Node id -> label, and (source label, edge label, target label) for every edge."""
    nodes = {m["id"]: m["label"] for m in re.finditer(r'^  (?P<id>n\d+)\W+"(?P<label>[^"]+)"', text, re.MULTILINE)}
    edges = {
        (nodes[m["source"]], m["label"], nodes[m["target"]])
        for m in re.finditer(r"^  (?P<source>n\d+) -->\|(?P<label>[^|]+)\| (?P<target>n\d+)$", text, re.MULTILINE)
    }
    return nodes, edges


def test_the_diagram_has_every_role_and_every_trust(example: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = example
    nodes, edges = mermaid_graph((out / "trust.mmd").read_text())
    assert f"```mermaid\n{(out / 'trust.mmd').read_text()}```" in (out / "summary.md").read_text()

    def role(name: str, account: str) -> str:
        return f"role argocd-fleet-example-{name}<br/>{account}"

    spoke_accounts = ["222222222222", "333333333333"]
    expected_roles = {role(n, "111111111111") for n in ("management", "repo-server")}
    expected_roles |= {role(n, a) for n in ("deploy", "ssm-read") for a in spoke_accounts}
    assert expected_roles <= set(nodes.values())
    expected_trust = {
        *{
            (f"hub service account {sa}", "IRSA", role("management", "111111111111"))
            for sa in ("argocd-application-controller", "argocd-applicationset-controller", "argocd-server")
        },
        ("hub service account argocd-repo-server", "IRSA", role("repo-server", "111111111111")),
        *{(role("management", "111111111111"), "sts:AssumeRole", role("deploy", a)) for a in spoke_accounts},
        *{(role("repo-server", "111111111111"), "sts:AssumeRole", role("ssm-read", a)) for a in spoke_accounts},
    }
    trust_edges = {edge for edge in edges if edge[1] in ("IRSA", "Pod Identity", "sts:AssumeRole")}
    assert trust_edges == expected_trust
    assert (role("deploy", "222222222222"), "aws-auth", "cluster prod-app") in edges
    assert (role("deploy", "333333333333"), "access entry", "cluster stg-app") in edges
    assert (role("ssm-read", "333333333333"), "reads", "SSM /stg in stg") in edges


def test_the_summary_lists_every_role_with_what_it_may_do(
    example: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = example
    text = (out / "summary.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `argocd-fleet-example-")]
    assert len(rows) == 6
    assert any("kms:Decrypt" in row and "kms:ViaService" in row for row in rows)
    assert sum("nothing (no IAM permissions)" in row for row in rows) == 2


FIXTURE = """\
clusters:
  - accountId: "222222222222"
    region: ap-northeast-1
    name: prod-app
    endpoint: https://ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com
    awsAuthMapRoles: |
      - rolearn: arn:aws:iam::222222222222:role/nodes
        username: system:node:{{EC2PrivateDNSName}}
        groups: [system:bootstrappers, system:nodes]
"""


def test_a_fixture_replaces_the_placeholders(tmp_path: Path) -> None:
    fixture = tmp_path / "facts.yaml"
    fixture.write_text(FIXTURE)
    out = tmp_path / "plan"
    assert plan(out, "--fixture", str(fixture)).returncode == 0
    secret = yaml.safe_load((out / "kubernetes/hub/secret-cluster-prod-app.yaml").read_text())
    assert secret["stringData"]["server"] == "https://ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com"
    view = yaml.safe_load((out / "kubernetes/prod-app/configmap-aws-auth.after-up.yaml").read_text())
    assert [entry["rolearn"] for entry in yaml.safe_load(view["mapRoles"])] == [
        "arn:aws:iam::222222222222:role/nodes",
        "arn:aws:iam::222222222222:role/argocd-fleet-example-deploy",
    ]


@pytest.fixture
def broken_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    broken = yaml.safe_load(STACK_FILE.read_text())
    broken["config"]["argocd-fleet:spokes"][2]["account"] = "stage"
    broken["config"]["argocd-fleet:hub"]["region"] = "tokyo"
    (stacks / "Pulumi.broken.yaml").write_text(yaml.safe_dump(broken))
    monkeypatch.setattr("components.plan.STACKS", stacks)
    return "broken"


def test_invalid_config_exits_2_with_every_error_and_touches_nothing(
    broken_stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous plan")
    assert main(["--stack", broken_stack, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "hub.region: 'tokyo' is not an AWS region" in captured.err
    assert 'spokes[2].account: no account named "stage"' in captured.err
    assert folder(out) == {"keep.txt": b"previous plan"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "stacks"]  # no staging folder left behind


def test_invalid_config_creates_no_output_folder(broken_stack: str, tmp_path: Path) -> None:
    assert main(["--stack", broken_stack, "--out", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()


def test_an_unknown_stack_names_the_known_ones(tmp_path: Path) -> None:
    result = plan(tmp_path / "out", stack="nope")
    assert result.returncode != 0
    assert "no stack file stacks/Pulumi.nope.yaml (stacks: dev, example, prod, sandbox)" in result.stderr


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_every_shipped_stack_plans(stack: str, tmp_path: Path) -> None:
    result = plan(tmp_path / stack, stack=stack)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Plan for stack {stack}: ")
