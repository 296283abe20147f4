"""SpokeCluster under mocks: the Argo CD cluster Secret, and the deploy role's access per clusterAccess mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.offline import ClusterFixture, ProgramRun, Registration, placeholder_cluster
from tests.conftest import PROD_ACCOUNT, STG_ACCOUNT, Mocks, RunFleet, fleet_config

AWS_AUTH_TYPE = "pulumi-python:dynamic/aws_auth:AwsAuthRoleMapping"


def secret(run: ProgramRun, spoke: str) -> Registration:
    return run.named(f"fleet-{spoke}-cluster-secret", "kubernetes:core/v1:Secret")


def deploy_role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/argocd-fleet-test-deploy"


def test_cluster_secret_is_argo_cds_format(fleet_run: ProgramRun) -> None:
    facts = placeholder_cluster(PROD_ACCOUNT, "ap-northeast-1", "prod-app")
    registration = secret(fleet_run, "prod-app")
    assert registration.inputs["metadata"]["name"] == "cluster-prod-app"
    assert registration.inputs["metadata"]["namespace"] == "argocd"
    data = registration.inputs["stringData"]
    assert set(data) == {"name", "server", "config"}
    assert data["name"] == "prod-app"
    assert data["server"] == facts.endpoint
    assert json.loads(data["config"]) == {
        "awsAuthConfig": {"clusterName": "prod-app", "roleARN": deploy_role(PROD_ACCOUNT)},
        "tlsClientConfig": {"insecure": False, "caData": facts.certificate_authority},
    }


def test_cluster_secret_goes_to_the_hub_cluster(fleet_run: ProgramRun) -> None:
    provider = fleet_run.provider_of(secret(fleet_run, "stg-app"))
    assert provider is not None and provider.name == "fleet-k8s-hub"


def test_cluster_secret_labels_and_annotations(fleet_run: ProgramRun) -> None:
    metadata = secret(fleet_run, "prod-batch").inputs["metadata"]
    assert metadata["labels"] == {
        "argocd.argoproj.io/secret-type": "cluster",
        "env": "prod",
        "tier": "batch",
        "argocd-fleet.io/account": "prod",
        "argocd-fleet.io/region": "us-west-2",
        "argocd-fleet.io/stack": "test",
    }
    assert metadata["annotations"] == {
        "argocd-fleet.io/ssm-role-arn": f"arn:aws:iam::{PROD_ACCOUNT}:role/argocd-fleet-test-ssm-read",
        "argocd-fleet.io/helmfile-environment": "prod-batch",
        "argocd-fleet.io/account-id": PROD_ACCOUNT,
        "argocd-fleet.io/region": "us-west-2",
    }
    assert (
        secret(fleet_run, "stg-app").inputs["metadata"]["annotations"]["argocd-fleet.io/helmfile-environment"]
        == "staging"
    )


def test_namespaced_spokes_tell_argo_cd_to_stay_in_their_namespaces(fleet_run: ProgramRun) -> None:
    data = secret(fleet_run, "stg-app").inputs["stringData"]
    assert data["namespaces"] == "platform,apps"
    assert data["clusterResources"] == "false"


def test_aws_auth_spoke_gets_one_mapping_and_a_dedicated_group(fleet_run: ProgramRun) -> None:
    (mapping,) = fleet_run.of_type(AWS_AUTH_TYPE)
    facts = placeholder_cluster(PROD_ACCOUNT, "ap-northeast-1", "prod-app")
    inputs = {key: value for key, value in mapping.inputs.items() if key != "__provider"}
    assert inputs == {
        "clusterName": "prod-app",
        "region": "ap-northeast-1",
        "endpoint": facts.endpoint,
        "caData": facts.certificate_authority,
        "rolearn": deploy_role(PROD_ACCOUNT),
        "username": "argocd-fleet:test:deploy",
        "groups": ["argocd-fleet:test:deployers"],
        "provisionerRoleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/pulumi-provisioner",
    }
    (binding,) = fleet_run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "cluster-admin",
    }
    assert binding.inputs["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "argocd-fleet:test:deployers"}
    ]
    provider = fleet_run.provider_of(binding)
    assert provider is not None and provider.name == "fleet-prod-app-k8s"


def test_nothing_could_create_replace_or_delete_aws_auth(fleet_run: ProgramRun) -> None:
    for registration in fleet_run.registrations:
        if registration.type.startswith("kubernetes:core/v1:ConfigMap"):
            assert registration.inputs["metadata"]["name"] != "aws-auth", registration.name
    (mapping,) = fleet_run.of_type(AWS_AUTH_TYPE)
    assert not mapping.delete_before_replace
    assert not [r for r in fleet_run.registrations if r.read]


def test_access_entry_spokes_get_an_entry_and_the_cluster_admin_policy(fleet_run: ProgramRun) -> None:
    entries = {e.inputs["clusterName"]: e for e in fleet_run.of_type("aws:eks/accessEntry:AccessEntry")}
    assert sorted(entries) == ["prod-batch", "stg-app"]
    assert entries["prod-batch"].inputs["principalArn"] == deploy_role(PROD_ACCOUNT)
    assert entries["prod-batch"].inputs["region"] == "us-west-2"
    assert entries["stg-app"].inputs["principalArn"] == deploy_role(STG_ACCOUNT)
    associations = {
        a.inputs["clusterName"]: a.inputs
        for a in fleet_run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert associations["prod-batch"]["policyArn"] == policy and associations["stg-app"]["policyArn"] == policy
    assert associations["prod-batch"]["accessScope"] == {"type": "cluster"}
    assert associations["stg-app"]["accessScope"] == {"type": "namespace", "namespaces": ["platform", "apps"]}
    assert associations["stg-app"]["principalArn"] == deploy_role(STG_ACCOUNT)


def test_kubernetes_providers_only_where_something_runs_on_the_cluster(fleet_run: ProgramRun) -> None:
    """The hub, and spokes on aws-auth (their ClusterRoleBinding); access-entry spokes are pure AWS API."""
    names = sorted(p.name for p in fleet_run.of_type("pulumi:providers:kubernetes"))
    assert names == ["fleet-k8s-hub", "fleet-prod-app-k8s"]


def run_with_modes(run_fleet: RunFleet, modes: dict[str, str]) -> ProgramRun:
    mocks = Mocks(
        clusters={
            (account, region, name): ClusterFixture(
                **{**placeholder_cluster(account, region, name).__dict__, "authentication_mode": mode}
            )
            for (account, region, name), mode in {
                (PROD_ACCOUNT, "ap-northeast-1", "prod-app"): modes.get("prod-app", "API_AND_CONFIG_MAP"),
                (PROD_ACCOUNT, "us-west-2", "prod-batch"): modes.get("prod-batch", "API_AND_CONFIG_MAP"),
                (STG_ACCOUNT, "ap-northeast-1", "stg-app"): modes.get("stg-app", "API"),
            }.items()
        }
    )
    return run_fleet(fleet_config(), mocks=mocks)


@pytest.mark.parametrize(
    ("spoke", "mode", "message"),
    [
        (
            "prod-app",
            "API",
            r"prod-app \(ap-northeast-1\) uses authentication mode API.*use clusterAccess: access-entry",
        ),
        (
            "prod-batch",
            "CONFIG_MAP",
            r"prod-batch \(us-west-2\) uses authentication mode CONFIG_MAP.*clusterAccess: aws-auth",
        ),
    ],
)
def test_a_cluster_access_mode_the_cluster_does_not_support_is_an_error(
    run_fleet: RunFleet, spoke: str, mode: str, message: str
) -> None:
    with pytest.raises(Exception, match=message):
        run_with_modes(run_fleet, {spoke: mode})


def test_supported_modes_pass(run_fleet: RunFleet) -> None:
    run = run_with_modes(run_fleet, {"prod-app": "CONFIG_MAP", "prod-batch": "API", "stg-app": "API_AND_CONFIG_MAP"})
    assert len(run.of_type(AWS_AUTH_TYPE)) == 1


def comparable(run: ProgramRun) -> dict[str, Any]:
    return {r.urn: {k: v for k, v in r.inputs.items() if k != "__provider"} for r in run.registrations}


def short_names(urns: set[str]) -> set[str]:
    return {urn.rsplit("::", 1)[1] for urn in urns}


def test_removing_a_spoke_removes_its_secret_and_nothing_else(run_fleet: RunFleet) -> None:
    config = fleet_config()
    extra = {"name": "prod-web", "account": "prod", "region": "ap-northeast-1", "clusterName": "prod-web"}
    config["argocd-fleet:spokes"].append(extra)
    before = comparable(run_fleet(config))
    config["argocd-fleet:spokes"].remove(extra)
    after = comparable(run_fleet(config))
    assert set(after) <= set(before)
    assert short_names(set(before) - set(after)) == {
        "fleet-prod-web",
        "fleet-prod-web-cluster-secret",
        "fleet-prod-web-k8s",
        "fleet-prod-web-deployers",
        "fleet-prod-web-aws-auth",
    }
    assert {urn for urn in after if after[urn] != before[urn]} == set()


def test_removing_an_accounts_only_spoke_in_a_region_narrows_its_ssm_regions(run_fleet: RunFleet) -> None:
    config = fleet_config()
    before = comparable(run_fleet(config))
    config["argocd-fleet:spokes"] = [s for s in config["argocd-fleet:spokes"] if s["name"] != "prod-batch"]
    after = comparable(run_fleet(config))
    assert short_names(set(before) - set(after)) == {
        "fleet-prod-batch",
        "fleet-prod-batch-cluster-secret",
        "fleet-prod-batch-access-entry",
        "fleet-prod-batch-cluster-admin",
    }
    (changed,) = [urn for urn in after if after[urn] != before[urn]]
    assert changed.endswith("rolePolicy:RolePolicy::fleet-prod-ssm-read")
    assert "us-west-2" in before[changed]["policy"] and "us-west-2" not in after[changed]["policy"]
