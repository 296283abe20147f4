"""IAM policy documents as plain dicts, built by pure functions.

The builders touch nothing outside their arguments: callers serialise the dicts with `serialise`
(`pulumi.Output.json_dumps`, compact separators), tests feed the very same dicts to an independent
IAM evaluator, and `size` measures exactly what AWS will be sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi

Document = dict[str, Any]

VERSION = "2012-10-17"
COMPACT = (",", ":")

# AWS quotas (characters, whitespace not counted; we send compact JSON, so length == count).
TRUST_POLICY_LIMIT = 2048
INLINE_POLICIES_LIMIT = 10240
MANAGED_POLICY_LIMIT = 6144
MANAGED_POLICIES_PER_ROLE = 10
# Documents are built to stay within this share of their quota (the fleet's promise is at most
# 90 %), so a statement added by hand or a longer ARN still fits.
HEADROOM = 0.85

STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
SSM_READ_ACTIONS = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
ASSUME_DEPLOY_SID = "AssumeFleetDeployRoles"
ASSUME_SSM_READ_SID = "AssumeFleetSsmReadRoles"


def size(document: Document) -> int:
    """Characters AWS counts for `document` as we serialise it."""
    return len(json.dumps(document, separators=COMPACT))


def serialise(document: pulumi.Input[Document]) -> pulumi.Output[str]:
    """The JSON AWS receives: compact, so that what we measure with `size` is what IAM counts."""
    return pulumi.Output.json_dumps(document, separators=COMPACT)


def dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def role_arn(partition: str, account_id: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def service_account_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    if not values:
        raise ValueError("a trust policy needs at least one service account")
    return list(values) if len(values) > 1 else values[0]


def _assume_actions(tag_session: bool) -> list[str]:
    # EKS Pod Identity sessions carry transitive session tags: every role chained after it must
    # allow sts:TagSession, or the AssumeRole call fails.
    return ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]


# --- trust policies ------------------------------------------------------------------------------


def irsa_trust_policy(
    oidc_provider_arn: str, issuer_host: str, namespace: str, service_accounts: Sequence[str]
) -> Document:
    """Web identity trust for exactly these service accounts of the hub cluster's OIDC issuer."""
    subjects = [service_account_subject(namespace, name) for name in service_accounts]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ArgoCdServiceAccounts",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer_host}:aud": STS_AUDIENCE,
                        f"{issuer_host}:sub": _one_or_many(subjects),
                    }
                },
            }
        ],
    }


def pod_identity_trust_policy(
    cluster_arn: str, account_id: str, namespace: str, service_accounts: Sequence[str]
) -> Document:
    """EKS Pod Identity trust, pinned to the hub cluster and to exactly these service accounts.

    The association binds a service account to the role on the EKS side; the session tags EKS Pod
    Identity attaches (eks-cluster-arn, kubernetes-namespace, kubernetes-service-account) make IAM
    enforce the same binding, so an association made in another cluster, namespace or service
    account of the account cannot use the role.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ArgoCdPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": _assume_actions(tag_session=True),
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account_id,
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": _one_or_many(service_accounts),
                    }
                },
            }
        ],
    }


def spoke_trust_policy(hub_role_arn: str, tag_session: bool) -> Document:
    """Trust exactly one hub role (the management role for deploy roles, the repo-server role for SSM)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "HubRole",
                "Effect": "Allow",
                "Principal": {"AWS": hub_role_arn},
                "Action": _assume_actions(tag_session),
            }
        ],
    }


# --- permission policies -------------------------------------------------------------------------


def assume_fleet_roles_policy(
    partition: str, role_name: str, account_ids: Sequence[str], tag_session: bool, sid: str
) -> Document:
    """Allow assuming the role called `role_name` in exactly these accounts, and nothing else.

    One ARN pattern plus an account list costs 15 characters per account instead of ~60 for a full
    ARN, which keeps a 1,000-account fleet within a handful of managed policies.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": _assume_actions(tag_session),
                "Resource": role_arn(partition, "*", role_name),
                "Condition": {"StringEquals": {"aws:ResourceAccount": sorted(account_ids)}},
            }
        ],
    }


def split_to_fit(items: Sequence[str], build: Callable[[list[str]], Document], limit: int) -> list[Document]:
    """Greedily pack `items` into as few documents as possible, each of at most `limit` characters."""
    documents: list[Document] = []
    chunk: list[str] = []
    for item in items:
        if chunk and size(build([*chunk, item])) > limit:
            documents.append(build(chunk))
            chunk = []
        if size(build([item])) > limit:
            raise ValueError(f"a single entry ({item}) does not fit in {limit} characters")
        chunk.append(item)
    if chunk:
        documents.append(build(chunk))
    return documents


def managed_policy_budget() -> int:
    return int(MANAGED_POLICY_LIMIT * HEADROOM)


def assume_fleet_roles_policies(
    partition: str, role_name: str, account_ids: Sequence[str], tag_session: bool, sid: str
) -> list[Document]:
    """`assume_fleet_roles_policy` split into managed policies that each stay under the headroom."""

    def build(chunk: list[str]) -> Document:
        return assume_fleet_roles_policy(partition, role_name, chunk, tag_session, sid)

    return split_to_fit(sorted(set(account_ids)), build, managed_policy_budget())


def parameter_arns(partition: str, account_id: str, regions: Sequence[str], paths: Sequence[str]) -> list[str]:
    """Parameter ARNs for each path prefix: the path itself (GetParametersByPath) and everything under it.

    `/prod/` must not match `/production/...`, so the pattern always ends at a `/`.
    """
    arns: list[str] = []
    for region in regions:
        for path in paths:
            base = path.rstrip("/")
            prefix = f"arn:{partition}:ssm:{region}:{account_id}:parameter"
            arns += [f"{prefix}{base}/*"] if not base else [f"{prefix}{base}", f"{prefix}{base}/*"]
    return list(dict.fromkeys(arns))


def ssm_read_policy(
    partition: str, account_id: str, regions: Sequence[str], paths: Sequence[str], kms_key_arns: Sequence[str]
) -> Document:
    """Read the configured parameter paths; decrypt with the configured keys only through SSM."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadConfiguredParameters",
            "Effect": "Allow",
            "Action": SSM_READ_ACTIONS,
            "Resource": parameter_arns(partition, account_id, regions, paths),
        }
    ]
    if kms_key_arns:
        statements.append(
            {
                "Sid": "DecryptSecureStringsViaSsm",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sorted(set(kms_key_arns)),
                "Condition": {
                    "StringEquals": {"kms:ViaService": [f"ssm.{region}.{dns_suffix(partition)}" for region in regions]}
                },
            }
        )
    return {"Version": VERSION, "Statement": statements}
