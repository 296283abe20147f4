"""A throwaway hub and spoke EKS cluster (pulumi-eks), so the whole topology can be tried in one's own AWS.

Both clusters use the default VPC and the EKS API authentication mode (access entries only, no
aws-auth to manage); the identity that runs `pulumi up` becomes their cluster admin.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from components.config import HubConfig, SandboxConfig, SpokeConfig


@dataclass
class SandboxArgs:
    sandbox: SandboxConfig
    hub: HubConfig
    spoke: SpokeConfig
    hub_provider: aws.Provider
    spoke_provider: aws.Provider


class Sandbox(pulumi.ComponentResource):
    """The hub and spoke clusters (and the Pod Identity agent when the hub uses it).

    Outputs: `hub_cluster` and `spoke_cluster`, for lookups to wait on.
    """

    hub_cluster: pulumi.Resource
    spoke_cluster: pulumi.Resource

    def __init__(self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:sandbox:Sandbox", name, None, opts)
        self.hub_cluster = self._cluster(f"{name}-hub", args.hub.cluster_name, args.sandbox, args.hub_provider)
        self.spoke_cluster = self._cluster(
            f"{name}-{args.spoke.name}", args.spoke.cluster_name, args.sandbox, args.spoke_provider
        )
        if args.hub.identity == "pod-identity":
            aws.eks.Addon(
                f"{name}-pod-identity-agent",
                cluster_name=args.hub.cluster_name,
                addon_name="eks-pod-identity-agent",
                opts=pulumi.ResourceOptions(parent=self, provider=args.hub_provider, depends_on=[self.hub_cluster]),
            )
        self.register_outputs({})

    def _cluster(self, name: str, cluster_name: str, sandbox: SandboxConfig, provider: aws.Provider) -> eks.Cluster:
        return eks.Cluster(
            name,
            name=cluster_name,
            version=sandbox.kubernetes_version,
            instance_type=sandbox.instance_type,
            desired_capacity=sandbox.node_count,
            min_size=sandbox.node_count,
            max_size=sandbox.node_count,
            authentication_mode=eks.AuthenticationMode.API,
            # IRSA needs the cluster's IAM OIDC provider; harmless with Pod Identity.
            create_oidc_provider=True,
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": provider}),
        )
