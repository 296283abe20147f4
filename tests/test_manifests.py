"""Every Kubernetes object the program produces, validated in strict mode against real schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from components.offline import ProgramRun, Registration

KUBERNETES_VERSION = "1.33"
ARGOCD_SCHEMAS = Path(__file__).resolve().parent / "schemas" / "argocd"


def kubernetes_objects(run: ProgramRun) -> list[Registration]:
    return [
        r for r in run.registrations if r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:providers")
    ]


def as_object(registration: Registration) -> dict[str, Any]:
    return {key: value for key, value in registration.inputs.items() if not key.startswith("__")}


def validate_core(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def application_set_schema() -> Any:
    """A validator for the ApplicationSet CRD's schema (built once: the schema is 2 MB)."""
    schema = json.loads((ARGOCD_SCHEMAS / "applicationset_v1alpha1.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_the_program_produces_the_expected_kinds(fleet_run: ProgramRun) -> None:
    kinds = sorted({(r.inputs["apiVersion"], r.inputs["kind"]) for r in kubernetes_objects(fleet_run)})
    expected = {
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
    }
    assert expected <= set(kinds)


def test_core_objects_validate_strictly(fleet_run: ProgramRun) -> None:
    core = [r for r in kubernetes_objects(fleet_run) if r.inputs["apiVersion"] != "argoproj.io/v1alpha1"]
    assert len(core) >= 5  # three cluster Secrets, the plugin ConfigMap, a ClusterRoleBinding (+ IRSA patches)
    for registration in core:
        validate_core(as_object(registration))


def test_application_sets_validate_against_argo_cds_crd_schema(
    fleet_run: ProgramRun, application_set_schema: Any
) -> None:
    application_sets = [r for r in kubernetes_objects(fleet_run) if r.inputs["kind"] == "ApplicationSet"]
    assert len(application_sets) == 2
    for registration in application_sets:
        application_set_schema.validate(as_object(registration))


def test_the_crd_schema_is_strict(application_set_schema: Any) -> None:
    """A misspelt field must fail, or the check above proves nothing."""
    bad = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "x"},
        "spec": {
            "generators": [],
            "template": {"metadata": {}, "spec": {"destination": {}, "project": "p"}},
            "goTemplateOption": [],
        },
    }
    with pytest.raises(jsonschema.ValidationError, match="goTemplateOption"):
        application_set_schema.validate(bad)


def test_the_sidecar_spec_validates_in_a_repo_server_pod(fleet_run: ProgramRun) -> None:
    plugin = fleet_run.outputs["helmfilePlugin"]
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "argocd-repo-server"},
        "spec": {
            "containers": [plugin["sidecar"]],
            # var-files and plugins come from the argo-cd chart's repo-server.
            "volumes": [{"name": "var-files", "emptyDir": {}}, {"name": "plugins", "emptyDir": {}}, *plugin["volumes"]],
        },
    }
    validate_core(pod)
    mounted = {mount["name"] for mount in plugin["sidecar"]["volumeMounts"]}
    assert mounted <= {volume["name"] for volume in pod["spec"]["volumes"]}
