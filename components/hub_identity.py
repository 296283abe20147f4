"""The hub account's two roles: management (controller, applicationset controller, server) and repo-server.

They are separate on purpose: the repo-server, which runs arbitrary generate steps, never gets
cluster-admin on the spokes, and the controllers never read secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import HubConfig
from components.names import FleetNames
from components.policies import (
    ASSUME_DEPLOY_SID,
    ASSUME_SSM_READ_SID,
    assume_fleet_roles_policies,
    irsa_trust_policy,
    pod_identity_trust_policy,
    serialise,
)


@dataclass
class HubIdentityArgs:
    hub: HubConfig
    names: FleetNames
    # Accounts whose deploy and SSM read roles the hub roles may assume (the fleet's spoke accounts).
    spoke_account_ids: list[str]
    # The hub cluster's OIDC issuer URL (IRSA only), from the EKS lookup.
    oidc_issuer: pulumi.Input[str] | None = None


class HubIdentity(pulumi.ComponentResource):
    """Management and repo-server roles, trusted through IRSA or EKS Pod Identity.

    Outputs: `management_role_arn`, `repo_server_role_arn`.
    """

    management_role_arn: pulumi.Output[str]
    repo_server_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: HubIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:hub_identity:HubIdentity", name, None, opts)
        self._name = name
        self._args = args
        hub, names = args.hub, args.names
        pod_identity = hub.identity == "pod-identity"
        management_accounts = hub.service_accounts.management
        repo_server_accounts = [hub.service_accounts.repo_server]

        management = self._role(
            "management",
            names.management_role,
            "Argo CD application controller, ApplicationSet controller and server: assumes the fleet's deploy roles",
            self._trust(management_accounts),
        )
        repo_server = self._role(
            "repo-server",
            names.repo_server_role,
            "Argo CD repo-server helmfile plugin: assumes the fleet's SSM read roles",
            self._trust(repo_server_accounts),
        )
        self._allow_assume(management, "management", names.management_role, names.deploy_role, ASSUME_DEPLOY_SID)
        self._allow_assume(repo_server, "repo-server", names.repo_server_role, names.ssm_read_role, ASSUME_SSM_READ_SID)

        if pod_identity:
            for role, service_accounts in ((management, management_accounts), (repo_server, repo_server_accounts)):
                for service_account in service_accounts:
                    aws.eks.PodIdentityAssociation(
                        f"{name}-{service_account}",
                        cluster_name=hub.cluster_name,
                        namespace=hub.namespace,
                        service_account=service_account,
                        role_arn=role.arn,
                        # The trust policy checks these session tags; without them nothing could assume the role.
                        disable_session_tags=False,
                        opts=pulumi.ResourceOptions(parent=self),
                    )

        self.management_role_arn = management.arn
        self.repo_server_role_arn = repo_server.arn
        self.register_outputs(
            {"management_role_arn": self.management_role_arn, "repo_server_role_arn": self.repo_server_role_arn}
        )

    def _trust(self, service_accounts: list[str]) -> pulumi.Output[str]:
        hub = self._args.hub
        if hub.identity == "pod-identity":
            cluster_arn = f"arn:{hub.partition}:eks:{hub.region}:{hub.account_id}:cluster/{hub.cluster_name}"
            return serialise(pod_identity_trust_policy(cluster_arn, hub.account_id, hub.namespace, service_accounts))
        if self._args.oidc_issuer is None:
            raise ValueError("IRSA needs the hub cluster's OIDC issuer")
        # The lookup fails the preview, with AWS's message, when the cluster has no IAM OIDC provider.
        provider = aws.iam.get_open_id_connect_provider_output(
            url=self._args.oidc_issuer, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        document = pulumi.Output.all(provider.arn, self._args.oidc_issuer).apply(
            lambda values: irsa_trust_policy(values[0], _issuer_host(values[1]), hub.namespace, service_accounts)
        )
        return serialise(document)

    def _role(self, suffix: str, role_name: str, description: str, trust: pulumi.Input[str]) -> aws.iam.Role:
        return aws.iam.Role(
            f"{self._name}-{suffix}",
            name=role_name,
            description=description,
            assume_role_policy=trust,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _allow_assume(self, role: aws.iam.Role, suffix: str, role_name: str, target_role_name: str, sid: str) -> None:
        """Managed policies (as many as the account list needs) letting `role` assume `target_role_name` fleet-wide."""
        args = self._args
        documents = assume_fleet_roles_policies(
            args.hub.partition,
            target_role_name,
            args.spoke_account_ids,
            tag_session=args.hub.identity == "pod-identity",
            sid=sid,
        )
        for part, document in enumerate(documents, start=1):
            policy = aws.iam.Policy(
                f"{self._name}-{suffix}-assume-{part}",
                name=args.names.assume_policy(role_name, part),
                # No part count here: a description change replaces the policy (IAM cannot update it).
                description=f"Lets {role_name} assume {target_role_name} in the fleet's spoke accounts (part {part})",
                policy=serialise(document),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{suffix}-assume-{part}",
                role=role.name,
                policy_arn=policy.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )


def _issuer_host(url: str) -> str:
    """IRSA condition keys use the issuer without its scheme: oidc.eks.<region>.amazonaws.com/id/<ID>."""
    return url.removeprefix("https://")
