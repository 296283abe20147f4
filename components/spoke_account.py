"""One spoke AWS account: the deploy role (mapped into its clusters) and the SSM read role."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AccountConfig
from components.names import FleetNames
from components.policies import serialise, spoke_trust_policy, ssm_read_policy


@dataclass
class SpokeAccountArgs:
    account: AccountConfig
    names: FleetNames
    partition: str
    # Regions whose Parameter Store (and SSM's use of the KMS keys) the SSM read role may read.
    ssm_regions: list[str]
    # The hub roles, by ARN (their names are fixed); the caller makes this component depend on them.
    management_role_arn: str
    repo_server_role_arn: str
    # Pod Identity session tags are transitive: chained roles must allow sts:TagSession.
    tag_session: bool


class SpokeAccount(pulumi.ComponentResource):
    """Deploy role (trusts only the hub management role; no IAM permissions of its own, its power is
    its Kubernetes mapping) and SSM read role (trusts only the hub repo-server role; reads the
    configured parameter paths and decrypts with the configured keys through SSM only).

    Outputs: `deploy_role_arn`, `ssm_read_role_arn`.
    """

    deploy_role_arn: pulumi.Output[str]
    ssm_read_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SpokeAccountArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:spoke_account:SpokeAccount", name, None, opts)
        account, names = args.account, args.names
        child = pulumi.ResourceOptions(parent=self)

        deploy = aws.iam.Role(
            f"{name}-deploy",
            name=names.deploy_role,
            description="Argo CD deploys to this account's EKS clusters as this role (hub management role assumes it)",
            assume_role_policy=serialise(spoke_trust_policy(args.management_role_arn, args.tag_session)),
            opts=child,
        )
        ssm_read = aws.iam.Role(
            f"{name}-ssm-read",
            name=names.ssm_read_role,
            description="Argo CD's helmfile plugin reads SSM parameters as this role (hub repo-server role assumes it)",
            assume_role_policy=serialise(spoke_trust_policy(args.repo_server_role_arn, args.tag_session)),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-ssm-read",
            name="read-configured-parameters",
            role=ssm_read.name,
            policy=serialise(
                ssm_read_policy(
                    args.partition,
                    account.account_id,
                    args.ssm_regions,
                    account.ssm_parameter_paths,
                    account.kms_key_arns,
                )
            ),
            opts=child,
        )

        self.deploy_role_arn = deploy.arn
        self.ssm_read_role_arn = ssm_read.arn
        self.register_outputs({"deploy_role_arn": self.deploy_role_arn, "ssm_read_role_arn": self.ssm_read_role_arn})
