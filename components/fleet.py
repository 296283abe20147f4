"""The whole fleet: providers per account and cluster, the hub identity, every spoke account."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AccountConfig, FleetConfig
from components.hub_identity import HubIdentity, HubIdentityArgs
from components.providers import AccountAccess, aws_provider, lookup_cluster
from components.spoke_account import SpokeAccount, SpokeAccountArgs


@dataclass
class FleetArgs:
    config: FleetConfig
    stack: str


class Fleet(pulumi.ComponentResource):
    """Everything `pulumi up` manages for one stack.

    Outputs: `management_role_arn`, `repo_server_role_arn`, `accounts` (per account name: its deploy
    and SSM read role ARNs) and `spokes` (per spoke: the same, for the spoke's account).
    """

    management_role_arn: pulumi.Output[str]
    repo_server_role_arn: pulumi.Output[str]
    accounts: dict[str, SpokeAccount]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:fleet:Fleet", name, None, opts)
        config = args.config
        hub = config.hub
        names = config.names(args.stack)
        default_tags = {"ManagedBy": "pulumi", "argocd-fleet:stack": args.stack}

        # One provider per AWS account; a spoke account that is the hub account shares the hub's.
        providers: dict[str, aws.Provider] = {}
        for access in [_hub_access(config)] + [_account_access(account, hub.region) for account in config.accounts]:
            if access.account_id not in providers:
                providers[access.account_id] = aws_provider(f"{name}-aws-{access.key}", access, default_tags, self)
        hub_provider = providers[hub.account_id]

        hub_cluster = lookup_cluster(hub.cluster_name, hub.region, hub.account_id, hub_provider)
        spoke_account_ids = [account.account_id for account in config.accounts]
        identity = HubIdentity(
            f"{name}-hub",
            HubIdentityArgs(
                hub=hub,
                names=names,
                spoke_account_ids=spoke_account_ids,
                oidc_issuer=hub_cluster.oidc_issuer if hub.identity == "irsa" else None,
            ),
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": hub_provider}),
        )

        self.accounts = {
            account.name: SpokeAccount(
                f"{name}-{account.name}",
                SpokeAccountArgs(
                    account=account,
                    names=names,
                    partition=hub.partition,
                    ssm_regions=config.ssm_regions_of(account),
                    management_role_arn=identity.management_role_arn,
                    repo_server_role_arn=identity.repo_server_role_arn,
                    tag_session=hub.identity == "pod-identity",
                ),
                opts=pulumi.ResourceOptions(parent=self, providers={"aws": providers[account.account_id]}),
            )
            for account in config.accounts
        }

        self.management_role_arn = identity.management_role_arn
        self.repo_server_role_arn = identity.repo_server_role_arn
        self.register_outputs(
            {
                "management_role_arn": self.management_role_arn,
                "repo_server_role_arn": self.repo_server_role_arn,
            }
        )

    def account_outputs(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        return {
            name: {"deployRoleArn": account.deploy_role_arn, "ssmReadRoleArn": account.ssm_read_role_arn}
            for name, account in self.accounts.items()
        }

    def spoke_outputs(self, config: FleetConfig) -> dict[str, dict[str, pulumi.Output[str]]]:
        return {spoke.name: self.account_outputs()[spoke.account] for spoke in config.spokes}


def _hub_access(config: FleetConfig) -> AccountAccess:
    hub = config.hub
    return AccountAccess("hub", hub.account_id, hub.region, hub.provisioner_role_arn)


def _account_access(account: AccountConfig, region: str) -> AccountAccess:
    # IAM is global; regional resources and lookups name their region explicitly.
    return AccountAccess(account.name, account.account_id, region, account.provisioner_role_arn)
