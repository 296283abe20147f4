"""Providers (one AWS provider per account, one Kubernetes provider per cluster) and cluster lookups."""

from __future__ import annotations

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


@dataclass(frozen=True)
class ClusterFacts:
    """What the EKS API says about a cluster; all lookups, never written."""

    name: str
    region: str
    account_id: str
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    arn: pulumi.Output[str]
    authentication_mode: pulumi.Output[str]


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
    cluster = aws.eks.get_cluster_output(name=name, region=region, opts=opts)
    return ClusterFacts(
        name=name,
        region=region,
        account_id=account_id,
        endpoint=cluster.endpoint,
        certificate_authority=cluster.certificate_authorities.apply(lambda authorities: authorities[0].data),
        oidc_issuer=cluster.identities.apply(lambda identities: identities[0].oidcs[0].issuer),
        arn=cluster.arn,
        authentication_mode=cluster.access_configs.apply(
            lambda configs: configs[0].authentication_mode if configs else "CONFIG_MAP"
        ),
    )


def kubeconfig(cluster: ClusterFacts, provisioner_role_arn: str | None) -> pulumi.Output[str]:
    """A kubeconfig that gets its token from `aws eks get-token`: nothing to store, nothing to expire in state."""
    token_args = ["--region", cluster.region, "eks", "get-token", "--cluster-name", cluster.name, "--output", "json"]
    if provisioner_role_arn:
        token_args += ["--role-arn", provisioner_role_arn]
    return pulumi.Output.json_dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster.name,
                    "cluster": {
                        "server": cluster.endpoint,
                        "certificate-authority-data": cluster.certificate_authority,
                    },
                }
            ],
            "contexts": [{"name": cluster.name, "context": {"cluster": cluster.name, "user": cluster.name}}],
            "current-context": cluster.name,
            "users": [
                {
                    "name": cluster.name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": token_args,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


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
