"""The IAM documents a program run produced, keyed by role ARN, as AWS would hold them."""

from __future__ import annotations

from dataclasses import dataclass

from components.offline import ProgramRun
from tests.support.iam_world import Document, RoleDocuments


@dataclass
class FleetDocuments:
    roles: dict[str, RoleDocuments]
    inline: dict[str, list[Document]]
    managed: dict[str, list[Document]]


def fleet_documents(run: ProgramRun) -> FleetDocuments:
    """Trust and permission policies exactly as registered (not rebuilt from the policy functions)."""
    roles = run.iam_roles
    return FleetDocuments(
        roles={
            role.arn: RoleDocuments(trust=role.trust, policies=[*role.inline.values(), *role.managed.values()])
            for role in roles
        },
        inline={role.arn: list(role.inline.values()) for role in roles},
        managed={role.arn: list(role.managed.values()) for role in roles},
    )
