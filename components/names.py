"""Every name the fleet gives to things outside Pulumi, in one place.

Role names are fixed per stack (not per account) so that the hub can address "the deploy role of
this stack" in every account with one ARN pattern; the stack is part of each name because several
stacks may share an account.
"""

from __future__ import annotations

from dataclasses import dataclass

IAM_ROLE_NAME_LIMIT = 64
IAM_POLICY_NAME_LIMIT = 128

# Kubernetes metadata the fleet writes; user labels may not override these keys.
CLUSTER_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
LABEL_PREFIX = "argocd-fleet.io/"
ACCOUNT_LABEL = LABEL_PREFIX + "account"
REGION_LABEL = LABEL_PREFIX + "region"
STACK_LABEL = LABEL_PREFIX + "stack"
SSM_ROLE_ANNOTATION = LABEL_PREFIX + "ssm-role-arn"
HELMFILE_ENV_ANNOTATION = LABEL_PREFIX + "helmfile-environment"
ACCOUNT_ID_ANNOTATION = LABEL_PREFIX + "account-id"
REGION_ANNOTATION = LABEL_PREFIX + "region"


@dataclass(frozen=True)
class FleetNames:
    """Names derived from the Pulumi stack name."""

    stack: str
    prefix_base: str = "argocd-fleet"

    @property
    def prefix(self) -> str:
        return f"{self.prefix_base}-{self.stack}"

    @property
    def management_role(self) -> str:
        return f"{self.prefix}-management"

    @property
    def repo_server_role(self) -> str:
        return f"{self.prefix}-repo-server"

    @property
    def deploy_role(self) -> str:
        return f"{self.prefix}-deploy"

    @property
    def ssm_read_role(self) -> str:
        return f"{self.prefix}-ssm-read"

    def all_role_names(self) -> list[str]:
        return [self.management_role, self.repo_server_role, self.deploy_role, self.ssm_read_role]

    def assume_policy(self, role_name: str, part: int) -> str:
        """Managed policy that lets a hub role assume spoke roles (one of several parts)."""
        return f"{role_name}-assume-{part}"

    @property
    def deployers_group(self) -> str:
        """Kubernetes group the deploy role is mapped to through aws-auth."""
        return f"argocd-fleet:{self.stack}:deployers"

    @property
    def deployers_binding(self) -> str:
        return f"{self.prefix}-deployers"

    @property
    def deploy_username(self) -> str:
        return f"argocd-fleet:{self.stack}:deploy"
