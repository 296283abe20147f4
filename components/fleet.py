"""The whole fleet: providers per account and cluster, hub identity and objects, spoke accounts and clusters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.application_sets import ApplicationSets, ApplicationSetsArgs
from components.config import AccountConfig, FleetConfig, ServiceAccounts
from components.helmfile_plugin import HelmfilePlugin, HelmfilePluginArgs, sidecar_spec
from components.hub_identity import HubIdentity, HubIdentityArgs
from components.hub_service_accounts import IRSA_ANNOTATION, HubServiceAccounts, HubServiceAccountsArgs
from components.providers import AccountAccess, aws_provider, kubernetes_provider, lookup_cluster
from components.sandbox import Sandbox, SandboxArgs
from components.sandbox_argocd import SandboxArgoCd, SandboxArgoCdArgs
from components.spoke_account import SpokeAccount, SpokeAccountArgs
from components.spoke_cluster import SpokeCluster, SpokeClusterArgs


@dataclass
class FleetArgs:
    config: FleetConfig
    stack: str


class Fleet(pulumi.ComponentResource):
    """Everything `pulumi up` manages for one stack.

    Outputs: `management_role_arn`, `repo_server_role_arn`, `accounts` and `spokes` (role ARNs per
    account and per spoke, plus each spoke's server and cluster Secret), `argocd_helm_values`
    (service account annotations and the plugin sidecar for the argo-cd chart) and `helmfile_plugin`.
    """

    management_role_arn: pulumi.Output[str]
    repo_server_role_arn: pulumi.Output[str]
    accounts: dict[str, dict[str, pulumi.Output[str]]]
    spokes: dict[str, dict[str, Any]]
    argocd_helm_values: dict[str, Any]
    helmfile_plugin: dict[str, Any]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:fleet:Fleet", name, None, opts)
        config, stack = args.config, args.stack
        hub = config.hub
        names = config.names(stack)

        aws_providers = self._aws_providers(name, config, stack)
        hub_aws = aws_providers[hub.account_id]
        sandbox = None
        if config.sandbox is not None:
            spoke = config.spokes[0]
            sandbox = Sandbox(
                f"{name}-sandbox-eks",
                SandboxArgs(
                    sandbox=config.sandbox,
                    hub=hub,
                    spoke=spoke,
                    hub_provider=hub_aws,
                    spoke_provider=aws_providers[config.account(spoke.account).account_id],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        hub_cluster = lookup_cluster(
            hub.cluster_name,
            hub.region,
            hub.account_id,
            pulumi.InvokeOutputOptions(provider=hub_aws, depends_on=[sandbox.hub_cluster] if sandbox else None),
        )
        hub_kubernetes = kubernetes_provider(f"{name}-k8s-hub", hub_cluster, hub.provisioner_role_arn, parent=self)
        identity = HubIdentity(
            f"{name}-hub",
            HubIdentityArgs(
                hub=hub,
                names=names,
                spoke_account_ids=[account.account_id for account in config.accounts],
                oidc_issuer=hub_cluster.oidc_issuer if hub.identity == "irsa" else None,
            ),
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": hub_aws}),
        )

        config_map_name = f"{names.prefix}-helmfile-plugin"
        sidecar, volumes = sidecar_spec(config.plugin, config_map_name)
        service_account_roles = {
            **{account: identity.management_role_arn for account in hub.service_accounts.management},
            hub.service_accounts.repo_server: identity.repo_server_role_arn,
        }
        self.argocd_helm_values = _helm_values(
            hub.identity == "irsa", hub.service_accounts, service_account_roles, sidecar, volumes
        )

        hub_ready: list[pulumi.Resource] = []
        if config.sandbox is not None:
            argocd = SandboxArgoCd(
                f"{name}-argocd",
                SandboxArgoCdArgs(
                    namespace=hub.namespace,
                    chart_version=config.sandbox.argocd_chart_version,
                    values=self.argocd_helm_values,
                ),
                opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": hub_kubernetes}),
            )
            hub_ready = [argocd.release]
        on_hub = pulumi.ResourceOptions(parent=self, providers={"aws": hub_aws, "kubernetes": hub_kubernetes})

        # Role names are fixed, so ARNs are known before anything exists: previews show whole trust
        # policies, and dependencies are explicit (IAM refuses to trust a role that does not exist yet).
        spoke_accounts = {
            account.name: SpokeAccount(
                f"{name}-{account.name}",
                SpokeAccountArgs(
                    account=account,
                    names=names,
                    partition=hub.partition,
                    ssm_regions=config.ssm_regions_of(account),
                    management_role_arn=config.role_arn(hub.account_id, names.management_role),
                    repo_server_role_arn=config.role_arn(hub.account_id, names.repo_server_role),
                    tag_session=hub.identity == "pod-identity",
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, providers={"aws": aws_providers[account.account_id]}, depends_on=[identity]
                ),
            )
            for account in config.accounts
        }

        spoke_clusters = {}
        for spoke in config.spokes:
            account = config.account(spoke.account)
            spoke_clusters[spoke.name] = SpokeCluster(
                f"{name}-{spoke.name}",
                SpokeClusterArgs(
                    spoke=spoke,
                    account=account,
                    names=names,
                    partition=hub.partition,
                    hub_namespace=hub.namespace,
                    labels=config.cluster_labels(spoke, stack),
                    deploy_role_arn=config.role_arn(account.account_id, names.deploy_role),
                    ssm_read_role_arn=config.role_arn(account.account_id, names.ssm_read_role),
                    roles_created_by=spoke_accounts[account.name],
                    cluster_created_by=sandbox.spoke_cluster if sandbox else None,
                    hub_ready=hub_ready,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    providers={"aws": aws_providers[account.account_id], "kubernetes": hub_kubernetes},
                ),
            )

        plugin = HelmfilePlugin(
            f"{name}-helmfile-plugin",
            HelmfilePluginArgs(
                plugin=config.plugin, namespace=hub.namespace, config_map_name=config_map_name, hub_ready=hub_ready
            ),
            opts=on_hub,
        )
        ApplicationSets(
            f"{name}-application-sets",
            ApplicationSetsArgs(
                application_sets=config.application_sets,
                namespace=hub.namespace,
                stack=stack,
                plugin_reference=plugin.plugin_reference,
                hub_ready=hub_ready,
            ),
            opts=on_hub,
        )
        # In the sandbox the chart sets the same annotations from the values above.
        if hub.identity == "irsa" and config.sandbox is None:
            HubServiceAccounts(
                f"{name}-service-accounts",
                HubServiceAccountsArgs(namespace=hub.namespace, role_arns=service_account_roles),
                opts=on_hub,
            )

        self.management_role_arn = identity.management_role_arn
        self.repo_server_role_arn = identity.repo_server_role_arn
        self.accounts = {
            account_name: {"deployRoleArn": account.deploy_role_arn, "ssmReadRoleArn": account.ssm_read_role_arn}
            for account_name, account in spoke_accounts.items()
        }
        self.spokes = {
            spoke.name: {
                **self.accounts[spoke.account],
                "server": spoke_clusters[spoke.name].server,
                "clusterSecret": spoke_clusters[spoke.name].secret_name,
            }
            for spoke in config.spokes
        }
        self.helmfile_plugin = {
            "configMap": plugin.config_map_name,
            "pluginName": plugin.plugin_reference,
            "sidecar": plugin.sidecar,
            "volumes": plugin.volumes,
        }
        self.register_outputs(
            {
                "management_role_arn": self.management_role_arn,
                "repo_server_role_arn": self.repo_server_role_arn,
                "accounts": self.accounts,
                "spokes": self.spokes,
                "argocd_helm_values": self.argocd_helm_values,
                "helmfile_plugin": self.helmfile_plugin,
            }
        )

    def _aws_providers(self, name: str, config: FleetConfig, stack: str) -> dict[str, aws.Provider]:
        """One provider per AWS account; a spoke account that is the hub account shares the hub's."""
        default_tags = {"ManagedBy": "pulumi", "argocd-fleet:stack": stack}
        providers: dict[str, aws.Provider] = {}
        for access in [_hub_access(config)] + [_account_access(a, config.hub.region) for a in config.accounts]:
            if access.account_id not in providers:
                providers[access.account_id] = aws_provider(f"{name}-aws-{access.key}", access, default_tags, self)
        return providers


def _helm_values(
    irsa: bool,
    service_accounts: ServiceAccounts,
    roles: Mapping[str, pulumi.Output[str]],
    sidecar: dict[str, Any],
    volumes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Values for the argo-cd Helm chart: the same annotations as the patches, plus the plugin sidecar."""

    def service_account(name: str) -> dict[str, Any]:
        annotations = {IRSA_ANNOTATION: roles[name]} if irsa else {}
        return {"serviceAccount": {"name": name, "annotations": annotations}}

    return {
        "controller": service_account(service_accounts.application_controller),
        "applicationSet": service_account(service_accounts.application_set_controller),
        "server": service_account(service_accounts.server),
        "repoServer": {
            **service_account(service_accounts.repo_server),
            "extraContainers": [sidecar],
            "volumes": volumes,
        },
    }


def _hub_access(config: FleetConfig) -> AccountAccess:
    hub = config.hub
    return AccountAccess("hub", hub.account_id, hub.region, hub.provisioner_role_arn)


def _account_access(account: AccountConfig, region: str) -> AccountAccess:
    # IAM is global; regional resources and lookups name their region explicitly.
    return AccountAccess(account.name, account.account_id, region, account.provisioner_role_arn)
