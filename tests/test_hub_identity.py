"""HubIdentity under mocks: trust per identity mode, permissions limited to the fleet's roles."""

from __future__ import annotations

import json
from typing import Any

from components.offline import ProgramRun
from tests.conftest import HUB_ACCOUNT, PROD_ACCOUNT, STG_ACCOUNT, RunFleet, fleet_config

MANAGEMENT_ACCOUNTS = ["argocd-application-controller", "argocd-applicationset-controller", "argocd-server"]


def role_document(run: ProgramRun, component_child: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run.named(component_child, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    return document


def attached_policies(run: ProgramRun, role_child: str) -> list[dict[str, Any]]:
    role = run.named(role_child, "aws:iam/role:Role")
    policies = {p.outputs["arn"]: json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/policy:Policy")}
    attachments = [
        a
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.inputs["name"]
    ]
    return [policies[a.inputs["policyArn"]] for a in attachments]


def test_irsa_trust_is_the_hub_oidc_provider_with_exact_subjects(run_fleet: RunFleet) -> None:
    run = run_fleet(fleet_config("irsa"))
    (statement,) = role_document(run, "fleet-hub-management")["Statement"]
    provider_arn = statement["Principal"]["Federated"]
    assert provider_arn.startswith(
        f"arn:aws:iam::{HUB_ACCOUNT}:oidc-provider/oidc.eks.ap-northeast-1.amazonaws.com/id/"
    )
    host = provider_arn.split("oidc-provider/", 1)[1]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{host}:aud": "sts.amazonaws.com",
            f"{host}:sub": [f"system:serviceaccount:argocd:{name}" for name in MANAGEMENT_ACCOUNTS],
        }
    }
    (repo,) = role_document(run, "fleet-hub-repo-server")["Statement"]
    assert repo["Condition"]["StringEquals"][f"{host}:sub"] == "system:serviceaccount:argocd:argocd-repo-server"
    assert run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []


def test_service_account_names_and_namespace_are_overridable(run_fleet: RunFleet) -> None:
    config = fleet_config("irsa")
    config["argocd-fleet:hub"].update(namespace="gitops", serviceAccounts={"repoServer": "repo", "server": "api"})
    run = run_fleet(config)
    (statement,) = role_document(run, "fleet-hub-management")["Statement"]
    subjects = next(v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert subjects == [
        "system:serviceaccount:gitops:argocd-application-controller",
        "system:serviceaccount:gitops:argocd-applicationset-controller",
        "system:serviceaccount:gitops:api",
    ]
    (repo,) = role_document(run, "fleet-hub-repo-server")["Statement"]
    assert "system:serviceaccount:gitops:repo" in repo["Condition"]["StringEquals"].values()


def test_pod_identity_trust_and_one_association_per_service_account(run_fleet: RunFleet) -> None:
    run = run_fleet(fleet_config("pod-identity"))
    (statement,) = role_document(run, "fleet-hub-management")["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    tags = statement["Condition"]["StringEquals"]
    assert tags["aws:RequestTag/eks-cluster-arn"] == f"arn:aws:eks:ap-northeast-1:{HUB_ACCOUNT}:cluster/hub"
    assert tags["aws:RequestTag/kubernetes-service-account"] == MANAGEMENT_ACCOUNTS
    roles = {r.name: r.outputs["arn"] for r in run.of_type("aws:iam/role:Role")}
    associations = {
        a.inputs["serviceAccount"]: (a.inputs["namespace"], a.inputs["clusterName"], a.inputs["roleArn"])
        for a in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert associations == {
        **{name: ("argocd", "hub", roles["fleet-hub-management"]) for name in MANAGEMENT_ACCOUNTS},
        "argocd-repo-server": ("argocd", "hub", roles["fleet-hub-repo-server"]),
    }


def test_hub_roles_may_assume_only_the_fleet_roles(run_fleet: RunFleet, identity: str) -> None:
    run = run_fleet(fleet_config(identity))
    actions = ["sts:AssumeRole", "sts:TagSession"] if identity == "pod-identity" else ["sts:AssumeRole"]
    for role, target in [("fleet-hub-management", "deploy"), ("fleet-hub-repo-server", "ssm-read")]:
        (document,) = attached_policies(run, role)
        assert document["Statement"] == [
            {
                "Sid": document["Statement"][0]["Sid"],
                "Effect": "Allow",
                "Action": actions,
                "Resource": f"arn:aws:iam::*:role/argocd-fleet-test-{target}",
                "Condition": {"StringEquals": {"aws:ResourceAccount": [PROD_ACCOUNT, STG_ACCOUNT]}},
            }
        ]
    hub_children = run.children_of(run.named("fleet-hub", "argocd-fleet:hub_identity:HubIdentity"))
    assert not [child for child in hub_children if child.type == "aws:iam/rolePolicy:RolePolicy"]


def test_role_names_include_the_stack(run_fleet: RunFleet) -> None:
    run = run_fleet(fleet_config(), stack="prod")
    names = {r.inputs["name"] for r in run.of_type("aws:iam/role:Role")}
    assert {"argocd-fleet-prod-management", "argocd-fleet-prod-repo-server"} <= names
