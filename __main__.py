"""argocd-fleet: one hub Argo CD deploying to EKS clusters in many AWS accounts.

The configuration is read and validated once (every problem reported together, before anything is
registered); the components do the rest.
"""

import gc

import pulumi

from components.config import read_fleet_config
from components.fleet import Fleet, FleetArgs

# Pulumi keeps every resource and Output alive until the program ends. With Python's default
# thresholds the cyclic collector rescans that growing graph again and again, so the time per
# spoke would grow with the fleet; collecting less often keeps it flat (benchmarks/plan_scale.py).
gc.set_threshold(100_000, 50, 100)

config = read_fleet_config()
fleet = Fleet("fleet", FleetArgs(config=config, stack=pulumi.get_stack()))

pulumi.export("managementRoleArn", fleet.management_role_arn)
pulumi.export("repoServerRoleArn", fleet.repo_server_role_arn)
pulumi.export("accounts", fleet.accounts)
pulumi.export("spokes", fleet.spokes)
pulumi.export("argocdHelmValues", fleet.argocd_helm_values)
pulumi.export("helmfilePlugin", fleet.helmfile_plugin)
