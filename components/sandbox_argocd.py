"""Argo CD on the sandbox hub, installed with the argo-cd Helm chart and the fleet's own values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

ARGO_HELM = "https://argoproj.github.io/argo-helm"


@dataclass
class SandboxArgoCdArgs:
    namespace: str
    chart_version: str
    # The same values the README tells real users to give the chart: service account annotations
    # (IRSA) and the helmfile plugin sidecar.
    values: dict[str, Any]


class SandboxArgoCd(pulumi.ComponentResource):
    """The argo-cd Helm release (through the hub's Kubernetes provider from `opts.providers`).

    Outputs: `release`, for the hub's objects to wait on (the chart creates the namespace, the
    service accounts and the ApplicationSet CRD).
    """

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: SandboxArgoCdArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:sandbox_argocd:SandboxArgoCd", name, None, opts)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="argocd",
            chart="argo-cd",
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ARGO_HELM),
            namespace=args.namespace,
            create_namespace=True,
            values=args.values,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"release": self.release.status})
