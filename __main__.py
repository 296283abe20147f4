"""argocd-fleet: one hub Argo CD deploying to EKS clusters in many AWS accounts.

The configuration is read and validated once (every problem reported together, before anything is
registered); the components do the rest.
"""

import pulumi

from components.config import read_fleet_config
from components.fleet import Fleet, FleetArgs

config = read_fleet_config()
fleet = Fleet("fleet", FleetArgs(config=config, stack=pulumi.get_stack()))

pulumi.export("managementRoleArn", fleet.management_role_arn)
pulumi.export("repoServerRoleArn", fleet.repo_server_role_arn)
pulumi.export("accounts", fleet.accounts)
pulumi.export("spokes", fleet.spokes)
pulumi.export("argocdHelmValues", fleet.argocd_helm_values)
pulumi.export("helmfilePlugin", fleet.helmfile_plugin)
