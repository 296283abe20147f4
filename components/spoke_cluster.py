"""One spoke EKS cluster: its Argo CD cluster Secret on the hub, and the deploy role's access to it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws_auth import AwsAuthRoleMapping
from components.config import AccountConfig, SpokeConfig
from components.names import (
    ACCOUNT_ID_ANNOTATION,
    HELMFILE_ENV_ANNOTATION,
    REGION_ANNOTATION,
    SSM_ROLE_ANNOTATION,
    FleetNames,
)
from components.providers import ClusterFacts, kubernetes_provider, lookup_cluster

CONFIG_MAP_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP")
ACCESS_ENTRY_MODES = ("API", "API_AND_CONFIG_MAP")


@dataclass
class SpokeClusterArgs:
    spoke: SpokeConfig
    account: AccountConfig
    names: FleetNames
    partition: str
    hub_namespace: str
    # Labels of the cluster Secret (the spoke's own plus the fleet's), as ApplicationSets select them.
    labels: dict[str, str]
    # The account's roles, by ARN (their names are fixed), and the component that creates them: the
    # access entry and the aws-auth entry wait for it (EKS refuses a principal that does not exist).
    deploy_role_arn: str
    ssm_read_role_arn: str
    roles_created_by: pulumi.Resource
    # A cluster this stack creates (sandbox): the lookup waits for it.
    cluster_created_by: pulumi.Resource | None = None
    # What hub objects wait for (sandbox: the Argo CD release that creates the namespace).
    hub_ready: list[pulumi.Resource] = field(default_factory=list)


class SpokeCluster(pulumi.ComponentResource):
    """The Argo CD cluster Secret (through the hub's Kubernetes provider) and the deploy role's
    mapping into the cluster: an aws-auth entry bound to a dedicated group, or an EKS access entry.

    Expects `opts.providers` to hold the spoke account's `aws` provider and the hub's `kubernetes`
    provider. Outputs: `server` (the cluster endpoint), `secret_name`.
    """

    server: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: SpokeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:spoke_cluster:SpokeCluster", name, None, opts)
        self._name = name
        spoke, account = args.spoke, args.account
        created_by = [args.cluster_created_by] if args.cluster_created_by else None
        cluster = lookup_cluster(
            spoke.cluster_name,
            spoke.region,
            account.account_id,
            pulumi.InvokeOutputOptions(parent=self, depends_on=created_by),
        )

        secret = k8s.core.v1.Secret(
            f"{name}-cluster-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"cluster-{spoke.name}",
                namespace=args.hub_namespace,
                labels=args.labels,
                annotations={
                    SSM_ROLE_ANNOTATION: args.ssm_read_role_arn,
                    HELMFILE_ENV_ANNOTATION: spoke.helmfile_env,
                    ACCOUNT_ID_ANNOTATION: account.account_id,
                    REGION_ANNOTATION: spoke.region,
                },
            ),
            type="Opaque",
            string_data=_cluster_secret_data(spoke, cluster, args.deploy_role_arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.hub_ready),
        )

        if spoke.cluster_access == "aws-auth":
            self._map_in_aws_auth(args, cluster)
        else:
            self._grant_access_entry(args, cluster)

        self.server = cluster.endpoint
        self.secret_name = secret.metadata.name
        self.register_outputs({"server": self.server, "secret_name": self.secret_name})

    def _map_in_aws_auth(self, args: SpokeClusterArgs, cluster: ClusterFacts) -> None:
        """A group bound to cluster-admin, and one aws-auth entry putting the deploy role in it."""
        spoke, names = args.spoke, args.names
        spoke_kubernetes = kubernetes_provider(
            f"{self._name}-k8s", cluster, args.account.provisioner_role_arn, parent=self
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{self._name}-deployers",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.deployers_binding, labels={"app.kubernetes.io/managed-by": "argocd-fleet"}
            ),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="Group", name=names.deployers_group)
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=spoke_kubernetes),
        )
        AwsAuthRoleMapping(
            f"{self._name}-aws-auth",
            cluster_name=spoke.cluster_name,
            region=spoke.region,
            endpoint=_checked_mode(cluster, CONFIG_MAP_MODES, "aws-auth", "access-entry"),
            ca_data=cluster.certificate_authority,
            rolearn=args.deploy_role_arn,
            username=names.deploy_username,
            groups=[names.deployers_group],
            provisioner_role_arn=args.account.provisioner_role_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding, args.roles_created_by]),
        )

    def _grant_access_entry(self, args: SpokeClusterArgs, cluster: ClusterFacts) -> None:
        spoke = args.spoke
        entry = aws.eks.AccessEntry(
            f"{self._name}-access-entry",
            cluster_name=_checked_mode(cluster, ACCESS_ENTRY_MODES, "access-entry", "aws-auth").apply(
                lambda _: spoke.cluster_name
            ),
            principal_arn=args.deploy_role_arn,
            type="STANDARD",
            region=spoke.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.roles_created_by]),
        )
        scope = (
            aws.eks.AccessPolicyAssociationAccessScopeArgs(type="namespace", namespaces=spoke.namespaces)
            if spoke.namespaces
            else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
        )
        aws.eks.AccessPolicyAssociation(
            f"{self._name}-cluster-admin",
            cluster_name=spoke.cluster_name,
            principal_arn=args.deploy_role_arn,
            policy_arn=f"arn:{args.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            access_scope=scope,
            region=spoke.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
        )


def _cluster_secret_data(
    spoke: SpokeConfig, cluster: ClusterFacts, deploy_role_arn: str
) -> dict[str, pulumi.Input[str]]:
    """Argo CD's cluster Secret keys: argocd-k8s-auth assumes roleARN and asks EKS for a token."""

    def config(certificate_authority: str) -> str:
        return json.dumps(
            {
                "awsAuthConfig": {"clusterName": spoke.cluster_name, "roleARN": deploy_role_arn},
                "tlsClientConfig": {"insecure": False, "caData": certificate_authority},
            }
        )

    data: dict[str, pulumi.Input[str]] = {
        "name": spoke.name,
        "server": cluster.endpoint,
        "config": cluster.certificate_authority.apply(config),
    }
    if spoke.namespaces:
        # The deploy role only reaches these namespaces, so Argo CD must not try cluster-wide watches.
        data |= {"namespaces": ",".join(spoke.namespaces), "clusterResources": "false"}
    return data


def _checked_mode(cluster: ClusterFacts, allowed: tuple[str, ...], mode: str, other: str) -> pulumi.Output[str]:
    """The cluster endpoint, once the cluster's authentication mode is known to support `mode`."""

    def check(values: list[str]) -> str:
        endpoint, authentication_mode = values
        if authentication_mode not in allowed:
            raise ValueError(
                f"EKS cluster {cluster.name} ({cluster.region}) uses authentication mode {authentication_mode}, "
                f"which does not support clusterAccess: {mode}; use clusterAccess: {other} or switch the "
                f"cluster to {' or '.join(allowed)}"
            )
        return endpoint

    return pulumi.Output.all(cluster.endpoint, cluster.authentication_mode).apply(check)
