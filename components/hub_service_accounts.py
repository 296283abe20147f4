"""IRSA annotations on the hub's Argo CD service accounts, touching nothing else on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass
class HubServiceAccountsArgs:
    namespace: str
    # Service account name -> the role it should run as.
    role_arns: Mapping[str, pulumi.Input[str]]


class HubServiceAccounts(pulumi.ComponentResource):
    """One server-side-apply patch per service account, owning only the `eks.amazonaws.com/role-arn` annotation.

    The argo-cd Helm release owns the service accounts; the patch shares them and, when removed,
    gives back only that annotation. A different value already set by someone else is a conflict
    that stops `pulumi up` instead of being overwritten. Pods pick the role up when they restart.
    """

    def __init__(self, name: str, args: HubServiceAccountsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:hub_service_accounts:HubServiceAccounts", name, None, opts)
        for service_account, role_arn in args.role_arns.items():
            k8s.core.v1.ServiceAccountPatch(
                f"{name}-{service_account}",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=service_account, namespace=args.namespace, annotations={IRSA_ANNOTATION: role_arn}
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
