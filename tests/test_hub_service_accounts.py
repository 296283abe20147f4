"""IRSA annotations on the hub service accounts, and the same values for the argo-cd Helm chart."""

from __future__ import annotations

from components.offline import ProgramRun
from tests.conftest import HUB_ACCOUNT, PLUGIN_IMAGE, RunFleet, fleet_config

MANAGEMENT = f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-management"
REPO_SERVER = f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-repo-server"
EXPECTED_ROLES = {
    "argocd-application-controller": MANAGEMENT,
    "argocd-applicationset-controller": MANAGEMENT,
    "argocd-server": MANAGEMENT,
    "argocd-repo-server": REPO_SERVER,
}


def patches(run: ProgramRun) -> dict[str, dict[str, object]]:
    return {p.inputs["metadata"]["name"]: p.inputs for p in run.of_type("kubernetes:core/v1:ServiceAccountPatch")}


def test_irsa_patches_touch_only_the_role_annotation(run_fleet: RunFleet) -> None:
    run = run_fleet(fleet_config("irsa"))
    found = patches(run)
    assert set(found) == set(EXPECTED_ROLES)
    for name, inputs in found.items():
        assert inputs == {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": name,
                "namespace": "argocd",
                "annotations": {"eks.amazonaws.com/role-arn": EXPECTED_ROLES[name]},
            },
        }
        provider = run.provider_of(run.named(f"fleet-service-accounts-{name}"))
        assert provider is not None and provider.name == "fleet-k8s-hub"


def test_pod_identity_needs_no_annotations(run_fleet: RunFleet) -> None:
    run = run_fleet(fleet_config("pod-identity"))
    assert patches(run) == {}
    values = run.outputs["argocdHelmValues"]
    assert all(values[key]["serviceAccount"]["annotations"] == {} for key in ("controller", "server", "repoServer"))


def test_helm_values_carry_the_same_annotations_and_the_sidecar(run_fleet: RunFleet) -> None:
    values = run_fleet(fleet_config("irsa")).outputs["argocdHelmValues"]
    expected = {
        "controller": "argocd-application-controller",
        "applicationSet": "argocd-applicationset-controller",
        "server": "argocd-server",
        "repoServer": "argocd-repo-server",
    }
    for key, service_account in expected.items():
        assert values[key]["serviceAccount"] == {
            "name": service_account,
            "annotations": {"eks.amazonaws.com/role-arn": EXPECTED_ROLES[service_account]},
        }
    (sidecar,) = values["repoServer"]["extraContainers"]
    assert sidecar["image"] == PLUGIN_IMAGE
    assert [volume["name"] for volume in values["repoServer"]["volumes"]] == ["helmfile-plugin", "helmfile-plugin-tmp"]
