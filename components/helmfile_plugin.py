"""The helmfile Config Management Plugin: its ConfigMap on the hub, and the sidecar spec for the argo-cd chart.

The sidecar itself belongs to the repo-server Deployment, which the argo-cd Helm release owns; this
component publishes the container and volumes to put in `repoServer.extraContainers` and
`repoServer.volumes` rather than patching a Deployment it does not own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.config import PluginConfig

GENERATE_SCRIPT = Path(__file__).resolve().parent / "assets" / "helmfile-generate.sh"
SCRIPT_KEY = "helmfile-generate.sh"
CONFIG_DIR = "/home/argocd/cmp-server/config"
SCRIPT_DIR = "/home/argocd/cmp-server/scripts"
CMP_SERVER = "/var/run/argocd/argocd-cmp-server"
# Only the top of the Application's path: helmfile reads helmfile.yaml(.gotmpl) from its working directory.
DISCOVER = r"find . -maxdepth 1 -type f \( -name helmfile.yaml -o -name helmfile.yaml.gotmpl \) -print"


def plugin_manifest(plugin: PluginConfig) -> dict[str, Any]:
    """plugin.yaml: a sidecar ConfigManagementPlugin whose generate step is the script."""
    spec: dict[str, Any] = {
        "generate": {"command": ["bash", f"{SCRIPT_DIR}/{SCRIPT_KEY}"], "args": list(plugin.helmfile_args)},
        "discover": {"find": {"command": ["sh", "-c", DISCOVER]}},
    }
    if plugin.version:
        spec = {"version": plugin.version, **spec}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ConfigManagementPlugin",
        "metadata": {"name": plugin.name},
        "spec": spec,
    }


def sidecar_spec(plugin: PluginConfig, config_map_name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The container for the argo-cd chart's `repoServer.extraContainers`, and its `repoServer.volumes`."""
    config_map_volume, tmp_volume = f"{plugin.name}-plugin", f"{plugin.name}-plugin-tmp"
    volumes = [
        {"name": config_map_volume, "configMap": {"name": config_map_name}},
        {"name": tmp_volume, "emptyDir": {}},
    ]
    return _sidecar_container(plugin, config_map_volume, tmp_volume), volumes


def _sidecar_container(plugin: PluginConfig, config_map_volume: str, tmp_volume: str) -> dict[str, Any]:
    env = [
        # helm writes caches and repository indexes; the root filesystem is read-only.
        {"name": "HELM_CACHE_HOME", "value": "/tmp/helm/cache"},
        {"name": "HELM_CONFIG_HOME", "value": "/tmp/helm/config"},
        {"name": "HELM_DATA_HOME", "value": "/tmp/helm/data"},
    ]
    if plugin.exec_timeout:
        env.append({"name": "ARGOCD_EXEC_TIMEOUT", "value": plugin.exec_timeout})
    return {
        "name": f"{plugin.name}-plugin",
        "image": plugin.image,
        "command": [CMP_SERVER],
        "env": env,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 999,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "var-files", "mountPath": "/var/run/argocd"},
            {"name": "plugins", "mountPath": "/home/argocd/cmp-server/plugins"},
            {"name": config_map_volume, "mountPath": f"{CONFIG_DIR}/plugin.yaml", "subPath": "plugin.yaml"},
            {"name": config_map_volume, "mountPath": f"{SCRIPT_DIR}/{SCRIPT_KEY}", "subPath": SCRIPT_KEY},
            {"name": tmp_volume, "mountPath": "/tmp"},
        ],
    }


@dataclass
class HelmfilePluginArgs:
    plugin: PluginConfig
    namespace: str
    config_map_name: str
    # What the ConfigMap waits for (sandbox: the Argo CD release that creates the namespace).
    hub_ready: list[pulumi.Resource] = field(default_factory=list)


class HelmfilePlugin(pulumi.ComponentResource):
    """ConfigMap with `plugin.yaml` and the generate script; outputs the sidecar spec.

    Outputs: `config_map_name`, `plugin_reference` (what Applications name), `sidecar` (the
    container), `volumes` (for `repoServer.volumes`).
    """

    config_map_name: pulumi.Output[str]
    plugin_reference: str
    sidecar: dict[str, Any]
    volumes: list[dict[str, Any]]

    def __init__(self, name: str, args: HelmfilePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:helmfile_plugin:HelmfilePlugin", name, None, opts)
        plugin = args.plugin
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.config_map_name,
                namespace=args.namespace,
                labels={"app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/managed-by": "argocd-fleet"},
            ),
            data={
                "plugin.yaml": yaml.safe_dump(plugin_manifest(plugin), sort_keys=False),
                SCRIPT_KEY: GENERATE_SCRIPT.read_text(),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.hub_ready),
        )
        self.config_map_name = config_map.metadata.name
        self.plugin_reference = plugin.reference
        self.sidecar, self.volumes = sidecar_spec(plugin, args.config_map_name)
        self.register_outputs(
            {
                "config_map_name": self.config_map_name,
                "plugin_reference": self.plugin_reference,
                "sidecar": self.sidecar,
                "volumes": self.volumes,
            }
        )
