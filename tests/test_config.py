"""Config validation: one test per rule, each asserting that the message names the key path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import TOP_LEVEL_KEYS, ConfigError, FleetConfig, parse_fleet_config
from components.offline import FleetMocks, RecordingMonitor, run_program
from tests.conftest import HUB_ACCOUNT, fleet_config, raw_config

Edit = Callable[[dict[str, Any]], None]


def problems_after(edit: Edit, stack: str = "test") -> list[str]:
    raw = raw_config(fleet_config())
    edit(raw)
    with pytest.raises(ConfigError) as caught:
        parse_fleet_config(raw, stack)
    return caught.value.problems


def assert_problem(problems: list[str], path: str, *fragments: str) -> None:
    """Exactly one problem starts with `path: ` and it contains every fragment."""
    matching = [problem for problem in problems if problem.startswith(f"{path}: ")]
    assert len(matching) == 1, f"expected one problem at {path}, got {problems}"
    for fragment in fragments:
        assert fragment in matching[0], matching[0]


def test_the_example_configuration_is_valid() -> None:
    fleet = parse_fleet_config(raw_config(fleet_config()), "test")
    assert isinstance(fleet, FleetConfig)
    assert [spoke.helmfile_env for spoke in fleet.spokes] == ["prod-app", "prod-batch", "staging"]
    assert fleet.hub.namespace == "argocd" and fleet.hub.identity == "irsa"
    assert fleet.spokes[0].cluster_access == "aws-auth"


@pytest.mark.parametrize(
    ("edit", "path", "fragment"),
    [
        (lambda raw: raw["hub"].update(accountId="12345"), "hub.accountId", "12-digit"),
        (lambda raw: raw["accounts"][1].update(accountId="33333333333a"), "accounts[1].accountId", "12-digit"),
        (lambda raw: raw["accounts"][0].update(accountId=222222222222), "accounts[0].accountId", "quote it"),
    ],
)
def test_account_ids_are_12_digit_strings(edit: Edit, path: str, fragment: str) -> None:
    assert_problem(problems_after(edit), path, fragment)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::222222222222:user/pulumi",
        "arn:aws:iam::2222:role/pulumi",
        "pulumi-provisioner",
        "arn:aws:iam::222222222222:role/",
    ],
)
def test_provisioner_role_arn_syntax(arn: str) -> None:
    problems = problems_after(lambda raw: raw["accounts"][0].update(provisionerRoleArn=arn))
    assert_problem(problems, "accounts[0].provisionerRoleArn", "is not an IAM role ARN")


def test_provisioner_role_lives_in_its_account() -> None:
    problems = problems_after(
        lambda raw: raw["accounts"][1].update(provisionerRoleArn="arn:aws:iam::222222222222:role/pulumi-provisioner")
    )
    assert_problem(problems, "accounts[1].provisionerRoleArn", "account 222222222222", "accountId is 333333333333")


def test_hub_provisioner_role_lives_in_the_hub_account() -> None:
    problems = problems_after(
        lambda raw: raw["hub"].update(provisionerRoleArn="arn:aws:iam::222222222222:role/pulumi-provisioner")
    )
    assert_problem(problems, "hub.provisionerRoleArn", "accountId is 111111111111")


@pytest.mark.parametrize("region", ["Tokyo", "ap-northeast", "apne1", "ap_northeast_1"])
def test_region_shape(region: str) -> None:
    problems = problems_after(lambda raw: raw["spokes"][1].update(region=region))
    assert_problem(problems, "spokes[1].region", "is not an AWS region")


def test_duplicate_account_names() -> None:
    problems = problems_after(lambda raw: raw["accounts"][1].update(name="prod"))
    assert_problem(problems, "accounts[1].name", 'account name "prod" is already used by accounts[0]')


def test_duplicate_account_ids() -> None:
    problems = problems_after(lambda raw: raw["accounts"][1].update(accountId="222222222222", provisionerRoleArn=None))
    assert_problem(problems, "accounts[1].accountId", 'account ID "222222222222" is already used by accounts[0]')


def test_duplicate_spoke_names() -> None:
    problems = problems_after(lambda raw: raw["spokes"][2].update(name="prod-app"))
    assert_problem(problems, "spokes[2].name", 'spoke name "prod-app" is already used by spokes[0]')


def test_two_spokes_on_one_eks_cluster() -> None:
    def same_cluster(raw: dict[str, Any]) -> None:
        raw["spokes"][1].update(region="ap-northeast-1", clusterName="prod-app")

    assert_problem(problems_after(same_cluster), "spokes[1].clusterName", "already spokes[0]")


def test_same_cluster_name_in_another_account_or_region_is_fine() -> None:
    raw = raw_config(fleet_config())
    raw["spokes"][2]["clusterName"] = "prod-app"  # stg account, same name as prod's cluster
    raw["spokes"][1]["clusterName"] = "prod-app"  # prod account, another region
    assert len(parse_fleet_config(raw, "test").spokes) == 3


def test_unknown_account_reference() -> None:
    problems = problems_after(lambda raw: raw["spokes"][2].update(account="stage"))
    assert_problem(problems, "spokes[2].account", 'no account named "stage"', 'did you mean "stg"')


@pytest.mark.parametrize(
    ("labels", "path", "fragment"),
    [
        ({"env": "prod!"}, "spokes[0].labels.env", "label value"),
        ({"env": "x" * 64}, "spokes[0].labels.env", "label value"),
        ({"bad key": "x"}, 'spokes[0].labels["bad key"]', "label key"),
        ({"a/b/c": "x"}, 'spokes[0].labels["a/b/c"]', "invalid prefix"),
        ({"Example.COM/team": "x"}, 'spokes[0].labels["Example.COM/team"]', "invalid prefix"),
        ({"argocd.argoproj.io/secret-type": "x"}, 'spokes[0].labels["argocd.argoproj.io/secret-type"]', "reserved"),
        ({"argocd-fleet.io/account": "x"}, 'spokes[0].labels["argocd-fleet.io/account"]', "reserved"),
    ],
)
def test_labels_kubernetes_would_reject(labels: dict[str, str], path: str, fragment: str) -> None:
    assert_problem(problems_after(lambda raw: raw["spokes"][0].update(labels=labels)), path, fragment)


def test_valid_labels_pass() -> None:
    raw = raw_config(fleet_config())
    raw["spokes"][0]["labels"] = {"example.com/team": "platform", "tier": "", "a_b.c-d": "X-1"}
    assert parse_fleet_config(raw, "test").spokes[0].labels["example.com/team"] == "platform"


@pytest.mark.parametrize("path_value", ["prod/", "", "/prod//db", "/prod/*"])
def test_ssm_paths_start_with_a_slash_and_are_paths(path_value: str) -> None:
    problems = problems_after(lambda raw: raw["accounts"][0].update(ssmParameterPaths=["/ok/", path_value]))
    assert_problem(problems, "accounts[0].ssmParameterPaths[1]")


def test_ssm_paths_are_required_and_not_empty() -> None:
    assert_problem(
        problems_after(lambda raw: raw["accounts"][0].update(ssmParameterPaths=[])),
        "accounts[0].ssmParameterPaths",
        "empty",
    )
    assert_problem(
        problems_after(lambda raw: raw["accounts"][0].pop("ssmParameterPaths")),
        "accounts[0].ssmParameterPaths",
        "required",
    )


def test_kms_key_arns_must_be_key_arns() -> None:
    alias = "arn:aws:kms:ap-northeast-1:333333333333:alias/ssm"
    problems = problems_after(lambda raw: raw["accounts"][1].update(kmsKeyArns=[alias]))
    assert_problem(problems, "accounts[1].kmsKeyArns[0]", "alias ARN")


def test_generated_role_names_over_64_characters() -> None:
    problems = problems_after(lambda raw: None, stack="a-stack-name-long-enough-to-overflow-iam")
    assert_problem(problems, "hub.roleNamePrefix", "repo-server", "IAM allows 64")


def test_a_shorter_prefix_makes_room_for_a_long_stack() -> None:
    raw = raw_config(fleet_config())
    raw["hub"]["roleNamePrefix"] = "acd"
    fleet = parse_fleet_config(raw, "a-stack-name-long-enough-to-overflow-iam")
    assert fleet.names("a-stack-name-long-enough-to-overflow-iam").repo_server_role.startswith("acd-")


def test_an_account_equal_to_the_hub_account_is_allowed() -> None:
    raw = raw_config(fleet_config())
    raw["accounts"][0].update(accountId=HUB_ACCOUNT, provisionerRoleArn=raw["hub"]["provisionerRoleArn"])
    assert parse_fleet_config(raw, "test").accounts[0].account_id == HUB_ACCOUNT


def test_the_hub_account_as_a_spoke_account_needs_the_same_provisioner_role() -> None:
    problems = problems_after(
        lambda raw: raw["accounts"][0].update(
            accountId=HUB_ACCOUNT, provisionerRoleArn=f"arn:aws:iam::{HUB_ACCOUNT}:role/other"
        )
    )
    assert_problem(problems, "accounts[0].provisionerRoleArn", "hub.provisionerRoleArn")


@pytest.mark.parametrize(
    ("edit", "path", "hint"),
    [
        (lambda raw: raw.update(spoke=[]), "spoke", 'did you mean "spokes"'),
        (lambda raw: raw["hub"].update(identiy="irsa"), "hub.identiy", 'did you mean "identity"'),
        (
            lambda raw: raw["accounts"][0].update(ssmPaths=["/x/"]),
            "accounts[0].ssmPaths",
            'did you mean "ssmParameterPaths"',
        ),
        (
            lambda raw: raw["spokes"][1].update(clusterAcess="aws-auth"),
            "spokes[1].clusterAcess",
            'did you mean "clusterAccess"',
        ),
        (
            lambda raw: (
                raw["hub"]["serviceAccounts"].update(repoSrv="x")
                if "serviceAccounts" in raw["hub"]
                else raw["hub"].update(serviceAccounts={"repoSrv": "x"})
            ),
            "hub.serviceAccounts.repoSrv",
            'did you mean "repoServer"',
        ),
    ],
)
def test_unknown_keys_are_errors(edit: Edit, path: str, hint: str) -> None:
    assert_problem(problems_after(edit), path, "unknown key", hint)


@pytest.mark.parametrize(
    ("edit", "path", "fragment"),
    [
        (lambda raw: raw["hub"].update(identity="kiam"), "hub.identity", "'irsa' or 'pod-identity'"),
        (
            lambda raw: raw["spokes"][0].update(clusterAccess="eks"),
            "spokes[0].clusterAccess",
            "'aws-auth' or 'access-entry'",
        ),
        (lambda raw: raw["spokes"][0].update(name="Prod_App"), "spokes[0].name", "DNS-1123 label"),
        (lambda raw: raw["hub"].update(namespace="Argo CD"), "hub.namespace", "DNS-1123 label"),
        (
            lambda raw: raw["spokes"][0].update(helmfileEnvironment="prod app"),
            "spokes[0].helmfileEnvironment",
            "helmfile environment",
        ),
        (lambda raw: raw["spokes"][0].update(clusterName="-bad"), "spokes[0].clusterName", "EKS cluster name"),
        (lambda raw: raw["hub"].pop("clusterName"), "hub.clusterName", "required"),
    ],
)
def test_field_shapes(edit: Edit, path: str, fragment: str) -> None:
    assert_problem(problems_after(edit), path, fragment)


def test_namespace_scope_needs_access_entries() -> None:
    problems = problems_after(lambda raw: raw["spokes"][0].update(namespaces=["team-a"]))
    assert_problem(problems, "spokes[0].namespaces", "access-entry")


def test_an_account_no_spoke_uses_is_an_error() -> None:
    def orphan(raw: dict[str, Any]) -> None:
        raw["spokes"][2]["account"] = "prod"

    assert_problem(problems_after(orphan), "accounts[1]", 'no spoke uses account "stg"')


def test_every_problem_is_reported_together() -> None:
    def many(raw: dict[str, Any]) -> None:
        raw["hub"]["region"] = "tokyo"
        raw["accounts"][0]["ssmParameterPaths"] = ["prod/"]
        raw["spokes"][0]["labels"] = {"env": "bad value"}
        raw["spokes"][2]["account"] = "stage"
        raw["spokes"][1]["name"] = "prod-app"
        raw["extra"] = True

    problems = problems_after(many)
    for path in [
        "hub.region",
        "accounts[0].ssmParameterPaths[0]",
        "spokes[0].labels.env",
        "spokes[2].account",
        "spokes[1].name",
        "extra",
    ]:
        assert_problem(problems, path)
    message = str(ConfigError(problems))
    assert message.startswith(f"invalid argocd-fleet configuration ({len(problems)} problems):")


def test_bad_config_stops_the_program_before_any_resource_is_registered() -> None:
    stack_config = fleet_config()
    stack_config["argocd-fleet:spokes"][2]["account"] = "stage"
    monitor = RecordingMonitor(FleetMocks())
    with pytest.raises(ConfigError) as caught:
        run_program(stack_config, stack="test", monitor=monitor)
    assert 'spokes[2].account: no account named "stage"' in str(caught.value)
    assert monitor.registrations == []


def test_unknown_top_level_config_keys_reach_the_parser() -> None:
    stack_config = fleet_config()
    stack_config["argocd-fleet:spokess"] = []
    with pytest.raises(ConfigError, match='spokess: unknown key; did you mean "spokes"'):
        run_program(stack_config, stack="test")


def test_an_ssm_read_policy_over_the_inline_limit_is_refused() -> None:
    problems = problems_after(
        lambda raw: raw["accounts"][0].update(ssmParameterPaths=[f"/team-{n}/" for n in range(120)])
    )
    assert_problem(problems, "accounts[0].ssmParameterPaths", "SSM read policy would be", "IAM allows 10240")


def test_more_accounts_than_ten_managed_policies_can_name_are_refused() -> None:
    def huge(raw: dict[str, Any]) -> None:
        raw["accounts"] = [
            {"name": f"a{n}", "accountId": f"{500000000000 + n}", "ssmParameterPaths": ["/x/"]} for n in range(4000)
        ]
        raw["spokes"] = [
            {"name": f"s{n}", "account": f"a{n}", "region": "ap-northeast-1", "clusterName": "c"} for n in range(4000)
        ]
        raw["applicationSets"] = []

    assert_problem(problems_after(huge), "accounts", "4000 accounts need", "IAM attaches at most 10")


def test_the_hub_name_is_reserved_for_the_hub_account() -> None:
    assert_problem(problems_after(lambda raw: raw["accounts"][1].update(name="hub")), "accounts[1].name", "reserved")


def test_pulumi_yaml_declares_the_project_and_its_keys() -> None:
    project = yaml.safe_load((Path(__file__).resolve().parent.parent / "Pulumi.yaml").read_text())
    assert project["name"] == "argocd-fleet"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert project["stackConfigDir"] == "stacks"
    declared = project["config"]
    # The sandbox is optional and has no default, which a declaration would turn into "required".
    assert set(declared) == set(TOP_LEVEL_KEYS) - {"sandbox"}
    assert all(entry["description"] for entry in declared.values())
    assert declared["applicationSets"]["default"] == []
