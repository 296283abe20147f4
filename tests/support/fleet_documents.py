"""The IAM documents a program run produced, keyed by role ARN, as AWS would hold them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from components.offline import ProgramRun, Registration
from tests.support.iam_world import Document, RoleDocuments


@dataclass
class FleetDocuments:
    roles: dict[str, RoleDocuments]
    inline: dict[str, list[Document]]
    managed: dict[str, list[Document]]


def _account(run: ProgramRun, registration: Registration) -> str:
    provider = run.provider_of(registration)
    assert provider is not None, registration.name
    return str(json.loads(provider.inputs["allowedAccountIds"])[0])


def _role_arn(run: ProgramRun, registration: Registration, role_name: str) -> str:
    return f"arn:aws:iam::{_account(run, registration)}:role/{role_name}"


def fleet_documents(run: ProgramRun) -> FleetDocuments:
    """Trust and permission policies exactly as registered (not rebuilt from the policy functions)."""
    roles = {
        role.outputs["arn"]: json.loads(role.inputs["assumeRolePolicy"]) for role in run.of_type("aws:iam/role:Role")
    }
    inline: dict[str, list[Document]] = {arn: [] for arn in roles}
    managed: dict[str, list[Document]] = {arn: [] for arn in roles}
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        inline[_role_arn(run, policy, policy.inputs["role"])].append(json.loads(policy.inputs["policy"]))
    documents = {
        policy.outputs["arn"]: json.loads(policy.inputs["policy"]) for policy in run.of_type("aws:iam/policy:Policy")
    }
    for attachment in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        managed[_role_arn(run, attachment, attachment.inputs["role"])].append(documents[attachment.inputs["policyArn"]])
    return FleetDocuments(
        roles={arn: RoleDocuments(trust=trust, policies=inline[arn] + managed[arn]) for arn, trust in roles.items()},
        inline=inline,
        managed=managed,
    )
