"""The README's commands and documents: the offline ones run, the JSON and YAML parse, the policy is valid IAM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from parliament import analyze_policy_string

PROJECT = Path(__file__).resolve().parent.parent
README = (PROJECT / "README.md").read_text()
CI = (PROJECT / ".ci" / "run").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert match, title
    return match.group(1)


def commands(text: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_the_fresh_machine_commands_are_what_ci_runs() -> None:
    (fresh,) = re.findall(r"```sh\n(.*?)```", section("Fresh machine"), re.DOTALL)
    found = commands(fresh)
    assert found == ["make plan", "make test"]
    ci_commands = commands(CI)
    for command in found:
        assert command in ci_commands, f"{command!r} is not run by .ci/run"


def test_every_make_command_in_the_readme_runs_in_ci() -> None:
    documented = set(re.findall(r"(make [a-z]+(?: STACK=[a-z]+)?)", README))
    assert {"make plan", "make test", "make lint", "make setup", "make plan STACK=dev"} <= documented
    ci_commands = set(commands(CI))
    # `make setup` runs as the first step of every other target.
    assert documented - {"make setup"} <= ci_commands, documented - ci_commands


def test_the_makefile_targets_run_the_documented_commands() -> None:
    makefile = (PROJECT / "Makefile").read_text()
    assert "$(PYTHON) -m components.plan --stack $(STACK) --out build/$(STACK)" in makefile
    assert "$(PYTHON) -m pytest" in makefile


def test_the_fixture_example_feeds_the_plan(tmp_path: Path) -> None:
    (facts,) = [block for block in blocks("yaml") if block.startswith("# facts.yaml")]
    (command,) = [line for line in commands("\n".join(blocks("sh"))) if "--fixture facts.yaml" in line]
    (tmp_path / "facts.yaml").write_text(facts)
    arguments = command.split()[1:]  # the README's command, with this interpreter instead of .venv/bin/python
    arguments = [str(tmp_path / "facts.yaml") if a == "facts.yaml" else a for a in arguments]
    arguments = [str(tmp_path / "out") if a == "build/example" else a for a in arguments]
    result = subprocess.run([sys.executable, *arguments], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    secret = yaml.safe_load((tmp_path / "out/kubernetes/hub/secret-cluster-prod-app.yaml").read_text())
    assert secret["stringData"]["server"] == "https://ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com"


def test_the_configuration_reference_parses() -> None:
    (reference,) = [block for block in blocks("yaml") if "argocd-fleet:hub:" in block and "sandbox" in block]
    config = yaml.safe_load(reference)["config"]
    assert set(config) == {
        f"argocd-fleet:{key}" for key in ("hub", "accounts", "spokes", "plugin", "applicationSets", "sandbox")
    }


def test_the_provisioner_policy_is_valid_iam() -> None:
    (policy,) = [block for block in blocks("json") if '"FleetRoles"' in block]
    document = json.loads(policy)
    findings = analyze_policy_string(json.dumps(document)).findings
    assert [f for f in findings if f.severity in ("HIGH", "MEDIUM", "CRITICAL")] == [], findings
    actions = [
        a
        for statement in document["Statement"]
        for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert "iam:CreateRole" in actions and "eks:CreateAccessEntry" in actions


def test_the_resource_table_and_the_benchmark_table_are_filled_in() -> None:
    assert "BENCHMARK_TABLE" not in README
    assert re.search(r"^spread +1000 ", README, re.MULTILINE), "paste the benchmark's output into the README"
