"""The sandbox: a hub and a spoke EKS cluster from pulumi-eks, Argo CD installed on the hub, the fleet wired to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import ConfigError, parse_fleet_config
from components.offline import ProgramRun
from tests.conftest import RunFleet, raw_config

SANDBOX_STACK = Path(__file__).resolve().parent.parent / "stacks" / "Pulumi.sandbox.yaml"


def sandbox_config(**hub_changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(SANDBOX_STACK.read_text())["config"]
    config["argocd-fleet:hub"].update(hub_changes)
    return config


@pytest.fixture
def sandbox_run(run_fleet: RunFleet) -> ProgramRun:
    return run_fleet(sandbox_config(), stack="sandbox")


def test_two_eks_clusters_on_access_entries(sandbox_run: ProgramRun) -> None:
    clusters = {c.inputs["name"]: c.inputs for c in sandbox_run.of_type("eks:index:Cluster")}
    assert sorted(clusters) == ["argocd-fleet-sandbox-hub", "argocd-fleet-sandbox-spoke"]
    for inputs in clusters.values():
        assert inputs["authenticationMode"] == "API"
        assert inputs["createOidcProvider"] is True
        assert inputs["desiredCapacity"] == inputs["minSize"] == inputs["maxSize"] == 2
        assert inputs["instanceType"] == "t3.medium"
        assert inputs["version"] == "1.33"


def test_argo_cd_is_installed_with_the_fleets_values(sandbox_run: ProgramRun) -> None:
    (release,) = sandbox_run.of_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == "argo-cd"
    assert release.inputs["version"] == "8.5.0"
    assert release.inputs["repositoryOpts"] == {"repo": "https://argoproj.github.io/argo-helm"}
    assert release.inputs["namespace"] == "argocd" and release.inputs["createNamespace"] is True
    values = release.inputs["values"]
    assert values == sandbox_run.outputs["argocdHelmValues"]
    assert values["repoServer"]["extraContainers"][0]["image"] == "ghcr.io/example/argocd-helmfile-cmp:1.0.0"
    annotation = values["server"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation == "arn:aws:iam::123456789012:role/argocd-fleet-sandbox-management"


def test_the_chart_sets_the_annotations_so_there_are_no_patches(sandbox_run: ProgramRun) -> None:
    assert sandbox_run.of_type("kubernetes:core/v1:ServiceAccountPatch") == []


def test_hub_objects_wait_for_the_argo_cd_release(sandbox_run: ProgramRun) -> None:
    (release,) = sandbox_run.of_type("kubernetes:helm.sh/v3:Release")
    waiting = [
        *sandbox_run.of_type("kubernetes:core/v1:Secret"),
        *sandbox_run.of_type("kubernetes:core/v1:ConfigMap"),
        *sandbox_run.of_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet"),
    ]
    assert len(waiting) == 3
    for registration in waiting:
        assert release.urn in registration.dependencies, registration.name


def test_the_spoke_is_reached_through_an_access_entry(sandbox_run: ProgramRun) -> None:
    (entry,) = sandbox_run.of_type("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["clusterName"] == "argocd-fleet-sandbox-spoke"
    assert sandbox_run.of_type("pulumi-python:dynamic/aws_auth:AwsAuthRoleMapping") == []


def test_pod_identity_sandbox_gets_the_agent_add_on(run_fleet: RunFleet) -> None:
    run = run_fleet(sandbox_config(identity="pod-identity"), stack="sandbox")
    (addon,) = run.of_type("aws:eks/addon:Addon")
    assert addon.inputs == {"clusterName": "argocd-fleet-sandbox-hub", "addonName": "eks-pod-identity-agent"}
    assert len(run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")) == 4


def problems(edit: Any) -> list[str]:
    raw = raw_config(sandbox_config())
    edit(raw)
    with pytest.raises(ConfigError) as caught:
        parse_fleet_config(raw, "sandbox")
    return caught.value.problems


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda raw: raw["spokes"].append({**raw["spokes"][0], "name": "two", "clusterName": "two"}),
            "sandbox: the sandbox creates one spoke cluster, but spokes lists 2",
        ),
        (
            lambda raw: raw["spokes"][0].update(clusterAccess="aws-auth"),
            "spokes[0].clusterAccess: sandbox clusters use EKS access entries",
        ),
        (
            lambda raw: raw["spokes"][0].update(region="us-west-2"),
            "spokes[0].region: the sandbox spoke must be in the hub's region",
        ),
        (
            lambda raw: raw["spokes"][0].update(clusterName="argocd-fleet-sandbox-hub"),
            "spokes[0].clusterName: the sandbox creates two clusters",
        ),
        (lambda raw: raw["sandbox"].update(nodeCount=0), "sandbox.nodeCount"),
        (lambda raw: raw["sandbox"].update(kubernetesVersion="latest"), "sandbox.kubernetesVersion"),
    ],
)
def test_sandbox_validation(edit: Any, expected: str) -> None:
    found = problems(edit)
    assert any(problem.startswith(expected) for problem in found), found
