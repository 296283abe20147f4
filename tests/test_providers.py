"""Kubernetes providers: endpoint and CA from the EKS lookup, credentials from `aws eks get-token`."""

from __future__ import annotations

import json
from typing import Any

from components.offline import ProgramRun, placeholder_cluster
from tests.conftest import HUB_ACCOUNT, PROD_ACCOUNT, RunFleet, fleet_config


def kubeconfig(run: ProgramRun, name: str) -> dict[str, Any]:
    provider = run.named(name, "pulumi:providers:kubernetes")
    document: dict[str, Any] = json.loads(provider.inputs["kubeconfig"])
    return document


def test_hub_kubeconfig_comes_from_the_lookup_and_the_provisioner_role(fleet_run: ProgramRun) -> None:
    facts = placeholder_cluster(HUB_ACCOUNT, "ap-northeast-1", "hub")
    config = kubeconfig(fleet_run, "fleet-k8s-hub")
    assert config["clusters"] == [
        {
            "name": "hub",
            "cluster": {"server": facts.endpoint, "certificate-authority-data": facts.certificate_authority},
        }
    ]
    (user,) = config["users"]
    assert user["user"]["exec"] == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": [
            "--region",
            "ap-northeast-1",
            "eks",
            "get-token",
            "--cluster-name",
            "hub",
            "--output",
            "json",
            "--role-arn",
            f"arn:aws:iam::{HUB_ACCOUNT}:role/pulumi-provisioner",
        ],
        "interactiveMode": "Never",
    }


def test_spoke_kubeconfig_uses_the_spoke_accounts_provisioner_role(fleet_run: ProgramRun) -> None:
    (user,) = kubeconfig(fleet_run, "fleet-prod-app-k8s")["users"]
    assert user["user"]["exec"]["args"][-2:] == ["--role-arn", f"arn:aws:iam::{PROD_ACCOUNT}:role/pulumi-provisioner"]


def test_no_role_argument_without_a_provisioner_role(run_fleet: RunFleet) -> None:
    config = fleet_config()
    del config["argocd-fleet:hub"]["provisionerRoleArn"]
    (user,) = kubeconfig(run_fleet(config), "fleet-k8s-hub")["users"]
    assert "--role-arn" not in user["user"]["exec"]["args"]


def test_providers_are_replaced_only_when_the_cluster_changes(fleet_run: ProgramRun) -> None:
    identifiers = {p.name: p.inputs["clusterIdentifier"] for p in fleet_run.of_type("pulumi:providers:kubernetes")}
    assert identifiers == {
        "fleet-k8s-hub": f"{HUB_ACCOUNT}/ap-northeast-1/hub",
        "fleet-prod-app-k8s": f"{PROD_ACCOUNT}/ap-northeast-1/prod-app",
    }
