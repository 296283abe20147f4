"""Providers (one AWS provider per account, one Kubernetes provider per cluster that runs something) and lookups."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class AccountAccess:
    """How Pulumi reaches one AWS account."""

    key: str
    account_id: str
    region: str
    provisioner_role_arn: str | None


class ClusterFacts:
    """What the EKS API says about one cluster; a lookup, never written. Each fact is derived on first use."""

    def __init__(self, name: str, region: str, account_id: str, lookup: pulumi.Output[aws.eks.GetClusterResult]):
        self.name, self.region, self.account_id = name, region, account_id
        self._lookup = lookup

    @functools.cached_property
    def endpoint(self) -> pulumi.Output[str]:
        return self._lookup.endpoint

    @functools.cached_property
    def certificate_authority(self) -> pulumi.Output[str]:
        return self._lookup.certificate_authorities.apply(lambda authorities: authorities[0].data)

    @functools.cached_property
    def oidc_issuer(self) -> pulumi.Output[str]:
        return self._lookup.identities.apply(lambda identities: identities[0].oidcs[0].issuer)

    @functools.cached_property
    def authentication_mode(self) -> pulumi.Output[str]:
        return self._lookup.access_configs.apply(
            lambda configs: configs[0].authentication_mode if configs else "CONFIG_MAP"
        )


def aws_provider(
    name: str, access: AccountAccess, default_tags: dict[str, str], parent: pulumi.Resource
) -> aws.Provider:
    """An AWS provider locked to one account: a wrong credential fails the plan instead of touching another account."""
    assume_roles = (
        [aws.ProviderAssumeRoleArgs(role_arn=access.provisioner_role_arn, session_name="argocd-fleet")]
        if access.provisioner_role_arn
        else None
    )
    return aws.Provider(
        name,
        region=access.region,
        allowed_account_ids=[access.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def lookup_cluster(name: str, region: str, account_id: str, opts: pulumi.InvokeOutputOptions) -> ClusterFacts:
    """Endpoint, CA, OIDC issuer and authentication mode of an EKS cluster.

    `opts` picks the account (provider or parent) and, for sandbox clusters, what to wait for.
    """
    return ClusterFacts(name, region, account_id, aws.eks.get_cluster_output(name=name, region=region, opts=opts))


def kubeconfig(cluster: ClusterFacts, provisioner_role_arn: str | None) -> pulumi.Output[str]:
    """A kubeconfig that gets its token from `aws eks get-token`: nothing to store, nothing to expire in state."""
    token_args = ["--region", cluster.region, "eks", "get-token", "--cluster-name", cluster.name, "--output", "json"]
    if provisioner_role_arn:
        token_args += ["--role-arn", provisioner_role_arn]

    def document(endpoint: str, certificate_authority: str) -> str:
        user = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "aws",
                "args": token_args,
                "interactiveMode": "Never",
            }
        }
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": cluster.name,
                        "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
                    }
                ],
                "contexts": [{"name": cluster.name, "context": {"cluster": cluster.name, "user": cluster.name}}],
                "current-context": cluster.name,
                "users": [{"name": cluster.name, "user": user}],
            }
        )

    return pulumi.Output.all(cluster.endpoint, cluster.certificate_authority).apply(lambda facts: document(*facts))


def kubernetes_provider(
    name: str, cluster: ClusterFacts, provisioner_role_arn: str | None, parent: pulumi.Resource
) -> k8s.Provider:
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig(cluster, provisioner_role_arn),
        # The provider is replaced only when the cluster itself changes, never because the
        # credentials or the endpoint string did; a replaced provider replaces every object on it.
        cluster_identifier=f"{cluster.account_id}/{cluster.region}/{cluster.name}",
        opts=pulumi.ResourceOptions(parent=parent),
    )
