"""The whole program under mocks: providers per account, component structure, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.offline import ProgramRun, Registration
from tests.conftest import HUB_ACCOUNT, PROD_ACCOUNT, STG_ACCOUNT, RunFleet, fleet_config

COMPONENTS = Path(__file__).resolve().parent.parent / "components"


def aws_providers(run: ProgramRun) -> dict[str, Registration]:
    return {json.loads(p.inputs["allowedAccountIds"])[0]: p for p in run.of_type("pulumi:providers:aws")}


def test_one_aws_provider_per_account_locked_to_it(fleet_run: ProgramRun) -> None:
    providers = aws_providers(fleet_run)
    assert sorted(providers) == [HUB_ACCOUNT, PROD_ACCOUNT, STG_ACCOUNT]
    assert len(fleet_run.of_type("pulumi:providers:aws")) == 3
    for account_id, provider in providers.items():
        (assume,) = json.loads(provider.inputs["assumeRoles"])
        assert assume["roleArn"] == f"arn:aws:iam::{account_id}:role/pulumi-provisioner"
        assert provider.inputs["region"] == "ap-northeast-1"


def test_no_assume_role_without_a_provisioner_role(run_fleet: RunFleet) -> None:
    config = fleet_config()
    del config["argocd-fleet:accounts"][1]["provisionerRoleArn"]
    assert "assumeRoles" not in aws_providers(run_fleet(config))[STG_ACCOUNT].inputs


def test_every_aws_resource_goes_through_its_accounts_provider(fleet_run: ProgramRun) -> None:
    aws_resources = [r for r in fleet_run.registrations if r.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        provider = fleet_run.provider_of(resource)
        assert provider is not None and provider.type == "pulumi:providers:aws", resource.name
        account_id = json.loads(provider.inputs["allowedAccountIds"])[0]
        if "arn" in resource.outputs:
            assert resource.outputs["arn"].split(":")[4] == account_id, resource.name
        if resource.type == "aws:iam/role:Role":
            expected = (
                HUB_ACCOUNT
                if "-hub-" in resource.name
                else {"prod": PROD_ACCOUNT, "stg": STG_ACCOUNT}[resource.name.split("-")[1]]
            )
            assert account_id == expected


def test_the_hub_account_as_a_spoke_account_shares_the_hub_provider(run_fleet: RunFleet) -> None:
    config = fleet_config()
    config["argocd-fleet:accounts"][0].update(
        accountId=HUB_ACCOUNT, provisionerRoleArn=config["argocd-fleet:hub"]["provisionerRoleArn"]
    )
    run = run_fleet(config)
    assert sorted(aws_providers(run)) == [HUB_ACCOUNT, STG_ACCOUNT]
    deploy = run.named("fleet-prod-deploy", "aws:iam/role:Role")
    assert deploy.outputs["arn"] == f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-deploy"


def test_components_have_module_type_tokens_and_own_their_children(fleet_run: ProgramRun) -> None:
    components = [r for r in fleet_run.registrations if not r.custom]
    assert {c.type for c in components} >= {
        "argocd-fleet:fleet:Fleet",
        "argocd-fleet:hub_identity:HubIdentity",
        "argocd-fleet:spoke_account:SpokeAccount",
    }
    for component in components:
        package, module, _ = component.type.split(":")
        assert package == "argocd-fleet" and (COMPONENTS / f"{module}.py").is_file(), component.type
        for child in fleet_run.children_of(component):
            assert child.name.startswith(component.name + "-") or child.name == component.name, child.name
    for resource in fleet_run.registrations:
        parent = fleet_run.parent_of(resource)
        assert parent is not None or resource.type == "argocd-fleet:fleet:Fleet", resource.name
        assert parent is None or not parent.custom, f"{resource.name} is parented to a custom resource"


@pytest.mark.parametrize("identity", ["irsa", "pod-identity"])
def test_outputs_name_every_role(run_fleet: RunFleet, identity: str) -> None:
    outputs = run_fleet(fleet_config(identity)).outputs
    assert outputs["managementRoleArn"] == f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-management"
    assert outputs["repoServerRoleArn"] == f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-repo-server"
    prod = {
        "deployRoleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/argocd-fleet-test-deploy",
        "ssmReadRoleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/argocd-fleet-test-ssm-read",
    }
    assert outputs["accounts"]["prod"] == prod
    for spoke in ("prod-app", "prod-batch"):
        assert {key: outputs["spokes"][spoke][key] for key in prod} == prod
    assert (
        outputs["spokes"]["stg-app"]["ssmReadRoleArn"] == f"arn:aws:iam::{STG_ACCOUNT}:role/argocd-fleet-test-ssm-read"
    )
