"""The helmfile CMP: ConfigMap content, the embedded script, the sidecar spec, discovery run for real."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.helmfile_plugin import DISCOVER, GENERATE_SCRIPT
from components.offline import ProgramRun
from tests.conftest import PLUGIN_IMAGE, RunFleet, fleet_config


def config_map(run: ProgramRun) -> dict[str, Any]:
    return run.named("fleet-helmfile-plugin-config", "kubernetes:core/v1:ConfigMap").inputs


def plugin_yaml(run: ProgramRun) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(config_map(run)["data"]["plugin.yaml"])
    return document


def test_plugin_yaml_is_a_sidecar_cmp_running_the_script(fleet_run: ProgramRun) -> None:
    assert config_map(fleet_run)["metadata"]["name"] == "argocd-fleet-test-helmfile-plugin"
    assert config_map(fleet_run)["metadata"]["namespace"] == "argocd"
    assert plugin_yaml(fleet_run) == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ConfigManagementPlugin",
        "metadata": {"name": "helmfile"},
        "spec": {
            "generate": {
                "command": ["bash", "/home/argocd/cmp-server/scripts/helmfile-generate.sh"],
                "args": ["--skip-deps"],
            },
            "discover": {"find": {"command": ["sh", "-c", DISCOVER]}},
        },
    }


def test_the_script_is_embedded_byte_for_byte(fleet_run: ProgramRun) -> None:
    assert config_map(fleet_run)["data"]["helmfile-generate.sh"] == GENERATE_SCRIPT.read_text()


def test_sidecar_mounts_what_the_cmp_server_expects(fleet_run: ProgramRun) -> None:
    plugin = fleet_run.outputs["helmfilePlugin"]
    sidecar = plugin["sidecar"]
    assert sidecar["image"] == PLUGIN_IMAGE
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    mounts = {mount["mountPath"]: mount for mount in sidecar["volumeMounts"]}
    assert mounts["/var/run/argocd"]["name"] == "var-files"
    assert mounts["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"] == {
        "name": "helmfile-plugin",
        "mountPath": "/home/argocd/cmp-server/config/plugin.yaml",
        "subPath": "plugin.yaml",
    }
    assert mounts["/home/argocd/cmp-server/scripts/helmfile-generate.sh"]["subPath"] == "helmfile-generate.sh"
    assert mounts["/tmp"]["name"] == "helmfile-plugin-tmp"
    assert {"name": "ARGOCD_EXEC_TIMEOUT", "value": "180s"} in sidecar["env"]
    assert plugin["volumes"] == [
        {"name": "helmfile-plugin", "configMap": {"name": "argocd-fleet-test-helmfile-plugin"}},
        {"name": "helmfile-plugin-tmp", "emptyDir": {}},
    ]
    assert plugin["pluginName"] == "helmfile"


def test_a_plugin_version_changes_the_name_applications_use(run_fleet: RunFleet) -> None:
    config = fleet_config()
    config["argocd-fleet:plugin"].update(name="helmfile-plugin", version="v1.0")
    run = run_fleet(config)
    assert plugin_yaml(run)["spec"]["version"] == "v1.0"
    assert run.outputs["helmfilePlugin"]["pluginName"] == "helmfile-plugin-v1.0"
    (application_set,) = [
        a
        for a in run.of_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet")
        if a.inputs["metadata"]["name"] == "platform"
    ]
    assert application_set.inputs["spec"]["template"]["spec"]["source"]["plugin"]["name"] == "helmfile-plugin-v1.0"


@pytest.mark.parametrize(
    ("files", "found"),
    [
        (["helmfile.yaml"], "./helmfile.yaml"),
        (["helmfile.yaml.gotmpl", "values.yaml"], "./helmfile.yaml.gotmpl"),
        (["sub/helmfile.yaml"], ""),
        (["kustomization.yaml"], ""),
        (["helmfile.yaml.bak"], ""),
    ],
)
def test_discovery_finds_helmfiles_at_the_top_of_the_path(tmp_path: Path, files: list[str], found: str) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("releases: []\n")
    result = subprocess.run(["sh", "-c", DISCOVER], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == found
