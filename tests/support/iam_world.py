"""An independent IAM evaluator for the fleet's role documents, built on principalmapper 1.1.5.

Tests describe a small "world" of IAM roles (trust policy plus permission policies, keyed by role
ARN, in as many accounts as needed) and ask it questions AWS would answer when a request is made:

* `web_identity_can_assume`: sts:AssumeRoleWithWebIdentity with an OIDC token (IRSA).
* `service_can_assume`: a service principal assumes a role (EKS Pod Identity).
* `role_can_assume`: a session of one role calls sts:AssumeRole (and sts:TagSession) on another,
  same-account or cross-account.
* `role_can`: a session of a role calls an action on a resource.

principalmapper does the policy matching (actions, resources, conditions, Allow/Deny, the
same-account and cross-account rules for trust and resource policies). This module only builds
principalmapper's own `Node`/`Policy` objects and the request context AWS would send. Condition
keys are case-insensitive, as in AWS.

Known limitations of principalmapper 1.1.5 that matter here:

* Resource and Arn* condition patterns are matched case-insensitively (AWS: case-sensitive), so
  `/PROD/x` matches `/prod/*`. Do not write tests whose answer depends on letter case.
* Those patterns become regular expressions with only `.`, `$`, `^`, `*` and `?` handled, so a
  `+` (legal in IAM role names) or another regex metacharacter would be misread. Such documents
  are refused with `UnsupportedPolicy` rather than evaluated wrongly.
* Resource policies are matched only on `AWS` and `Service` principals; `Federated` statements are
  evaluated here (see `web_identity_can_assume`).
* Negated operators (`StringNotLike`, ...) on a missing key and `ForAllValues`/`ForAnyValue` on
  non-string operators are not AWS-exact; the fleet's documents use neither. `Bool`/`Null` values
  must be the strings "true"/"false".
"""

from __future__ import annotations

import collections
import collections.abc
import copy
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# principalmapper 1.1.5 imports `collections.Mapping`/`MutableMapping`, gone since Python 3.10.
for _alias in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _alias):
        setattr(collections, _alias, getattr(collections.abc, _alias))

from principalmapper.common.nodes import Node  # noqa: E402
from principalmapper.common.policies import Policy  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    ResourcePolicyEvalResult,
    policy_has_matching_statement,
    resource_policy_authorization,
)
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

Document = dict[str, Any]  # a policy document, as components.policies builds it

ASSUME_ROLE = "sts:AssumeRole"
TAG_SESSION = "sts:TagSession"
ASSUME_ROLE_WITH_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"

# Regex metacharacters principalmapper leaves unescaped when it compiles a policy pattern.
_MISREAD_BY_PRINCIPALMAPPER = frozenset("+()[]|\\")


class UnsupportedPolicy(ValueError):
    """A document principalmapper would evaluate wrongly; the harness refuses to answer for it."""


@dataclass
class RoleDocuments:
    trust: Document  # trust policy document
    policies: list[Document] = field(default_factory=list)  # permission policy documents (inline and managed alike)


def account_of(arn: str) -> str:
    """The account ID field of `arn` ("" for ARNs that have none, such as S3 buckets)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[4]


def _partition_of(arn: str) -> str:
    return arn.split(":")[1]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: Mapping[str, Any]) -> list[Document]:
    return _as_list(document.get("Statement", []))


# --- guarding against principalmapper's pattern matching -----------------------------------------


def _patterns(document: Mapping[str, Any]) -> Iterator[str]:
    """Every string of `document` that principalmapper matches as a wildcard pattern."""
    for statement in _statements(document):
        for element in ("Resource", "NotResource"):
            yield from _as_list(statement.get(element, []))
        for operator, block in statement.get("Condition", {}).items():
            if "Like" in operator or "Arn" in operator:
                for values in block.values():
                    yield from _as_list(values)


def _refuse_misread_patterns(document: Mapping[str, Any], where: str) -> None:
    for pattern in _patterns(document):
        misread = _MISREAD_BY_PRINCIPALMAPPER.intersection(pattern)
        if misread:
            raise UnsupportedPolicy(
                f"{where}: {pattern!r} contains {''.join(sorted(misread))!r}, which principalmapper 1.1.5 "
                "would read as regular-expression syntax"
            )


# --- building principalmapper objects and request contexts ---------------------------------------


def _role_node(role_arn: str, documents: RoleDocuments) -> Node:
    """A principalmapper Node for a role: every permission policy attached, no boundary, no tags."""
    account_of(role_arn)  # fail early on something that is not an ARN
    for index, document in enumerate([documents.trust, *documents.policies]):
        _refuse_misread_patterns(document, f"{role_arn} document {index}")
    unique_id = "AROA" + hashlib.sha256(role_arn.encode()).hexdigest()[:17].upper()
    return Node(
        arn=role_arn,
        id_value=unique_id,
        attached_policies=[
            Policy(role_arn, f"policy-{index}", copy.deepcopy(document))
            for index, document in enumerate(documents.policies)
        ],
        group_memberships=[],
        trust_policy=copy.deepcopy(documents.trust),
        instance_profile=None,
        num_access_keys=0,
        active_password=False,
        is_admin=False,
        permissions_boundary=None,
        has_mfa=False,
        tags={},
    )


def _trusting_account_root(partition: str, account_id: str) -> Document:
    """A trust policy that leaves the decision to the caller's own permissions (the account root is trusted)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": [ASSUME_ROLE, TAG_SESSION],
            }
        ],
    }


def _request_context(set_by_aws: Mapping[str, Any], extra: Mapping[str, Any] | None) -> CaseInsensitiveDict:
    """The condition keys of a request: those AWS derives from the principal and resource, plus `extra`.

    Keys are case-insensitive; giving one twice, or overriding one AWS sets itself, is an error.
    """
    context = CaseInsensitiveDict(set_by_aws)
    for key, value in (extra or {}).items():
        if key in context:
            raise ValueError(f"condition key {key!r} is given twice or is set by AWS from the ARNs involved")
        context[key] = value
    return context


def _statements_naming_provider(trust: Mapping[str, Any], provider_arn: str) -> Document:
    """The trust statements that apply to a web identity from `provider_arn` (Federated or "*" principal)."""
    applicable = []
    for statement in _statements(trust):
        if "NotPrincipal" in statement:
            raise UnsupportedPolicy("NotPrincipal in a trust policy is not evaluated for web identities")
        principal = statement.get("Principal", {})
        federated = principal.get("Federated", []) if isinstance(principal, dict) else []
        if principal == "*" or provider_arn in _as_list(federated):
            applicable.append(statement)
    return {"Version": trust.get("Version", "2012-10-17"), "Statement": applicable}


def _allows(document: Document, action: str, resource: str, context: CaseInsensitiveDict) -> bool:
    """An Allow statement matches and no Deny statement does."""
    allowed = policy_has_matching_statement(document, "Allow", action, resource, context)
    return allowed and not policy_has_matching_statement(document, "Deny", action, resource, context)


# --- the world -----------------------------------------------------------------------------------


class IamWorld:
    """A set of roles (possibly in many accounts) and questions about what may assume/do what.

    The documents are copied: changing the caller's dicts afterwards does not change the world.
    """

    def __init__(self, roles: Mapping[str, RoleDocuments]):
        self._nodes = {role_arn: _role_node(role_arn, documents) for role_arn, documents in roles.items()}

    def _node(self, role_arn: str) -> Node:
        try:
            return self._nodes[role_arn]
        except KeyError:
            raise KeyError(f"{role_arn} is not a role of this world; known: {sorted(self._nodes)}") from None

    def web_identity_can_assume(self, role_arn: str, provider_arn: str, claims: Mapping[str, str]) -> bool:
        """sts:AssumeRoleWithWebIdentity with an OIDC token; only the trust policy matters.

        `claims` are the condition keys the token yields, such as `{"<issuer host>:sub": ...,
        "<issuer host>:aud": ...}`. AWS looks the provider up in the role's own account, so a provider
        of another account never matches. The statements that apply are those whose
        `Principal.Federated` names the provider (or `Principal: "*"`); one must Allow, none may Deny.
        """
        if account_of(provider_arn) != account_of(role_arn):
            return False
        trust = _statements_naming_provider(self._node(role_arn).trust_policy, provider_arn)
        context = _request_context({"aws:ResourceAccount": account_of(role_arn)}, claims)
        return _allows(trust, ASSUME_ROLE_WITH_WEB_IDENTITY, role_arn, context)

    def service_can_assume(
        self,
        role_arn: str,
        service: str,
        context: Mapping[str, Any],
        actions: Iterable[str] = (ASSUME_ROLE, TAG_SESSION),
    ) -> bool:
        """A service principal (e.g. pods.eks.amazonaws.com for EKS Pod Identity) assumes the role.

        `context` is what the service sends, such as aws:SourceAccount, aws:SourceArn and
        aws:RequestTag/kubernetes-namespace. Every action in `actions` must be allowed by the trust
        policy (Pod Identity calls sts:AssumeRole and sts:TagSession); service principals have no
        identity policies, so the trust policy alone decides.
        """
        actions = list(actions)
        if not actions:
            raise ValueError("actions must not be empty")
        trust = self._node(role_arn).trust_policy
        owner = account_of(role_arn)
        request = _request_context({"aws:ResourceAccount": owner, "aws:PrincipalServiceName": service}, context)
        return all(
            resource_policy_authorization(service, owner, trust, action, role_arn, request)
            is ResourcePolicyEvalResult.SERVICE_MATCH
            for action in actions
        )

    def role_can_assume(
        self,
        source_role_arn: str,
        target_role_arn: str,
        tag_session: bool = False,
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        """A session of the source role calls sts:AssumeRole (and sts:TagSession when `tag_session`) on the target.

        AWS's rules apply: cross-account, the source's permission policies AND the target's trust
        policy must allow; same-account, a trust policy naming the source role suffices on its own,
        one naming the account root defers to the source's permissions. The request carries
        aws:ResourceAccount (the target's account), aws:PrincipalArn and aws:PrincipalAccount, plus
        `context` (e.g. aws:RequestTag/... for tagged sessions).

        A target that is not in the world (say a same-named role in an account outside the fleet) is
        given a permissive trust policy trusting the source account's root, so only the source's own
        permissions decide: the answer is "could the source assume it if that account let it".
        """
        source = self._node(source_role_arn)
        target_account = account_of(target_role_arn)
        if target_role_arn in self._nodes:
            trust = self._nodes[target_role_arn].trust_policy
        else:
            trust = _trusting_account_root(_partition_of(source_role_arn), account_of(source_role_arn))
        request = _request_context(
            {
                "aws:ResourceAccount": target_account,
                "aws:PrincipalArn": source_role_arn,
                "aws:PrincipalAccount": account_of(source_role_arn),
            },
            context,
        )
        actions = [ASSUME_ROLE, TAG_SESSION] if tag_session else [ASSUME_ROLE]
        return all(
            local_check_authorization_full(
                source, action, target_role_arn, request, resource_policy=trust, resource_owner=target_account
            )
            for action in actions
        )

    def role_can(
        self,
        role_arn: str,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        resource_policy: Document | None = None,
    ) -> bool:
        """A session of the role calls `action` on `resource`: its permission policies must allow.

        A same-account resource has no resource policy unless one is given (for a KMS key this
        assumes the default key policy, which defers to IAM). A resource in another account can only
        be reached through its resource policy, so one must be given (otherwise ValueError: the
        answer would be a vacuous "no"). The request carries aws:PrincipalArn, aws:PrincipalAccount
        and, when the resource ARN names an account, aws:ResourceAccount, plus `context` (e.g.
        kms:ViaService).
        """
        node = self._node(role_arn)
        principal_account = account_of(role_arn)
        resource_account = account_of(resource) if resource.startswith("arn:") else ""
        set_by_aws = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": principal_account}
        if resource_account:
            set_by_aws["aws:ResourceAccount"] = resource_account
        if resource_policy is None and resource_account not in ("", principal_account):
            raise ValueError(f"{resource} is in another account: pass its resource policy (key policy, ...)")
        if resource_policy is not None:
            if not resource_account:
                raise ValueError(f"cannot tell which account owns {resource}")
            _refuse_misread_patterns(resource_policy, f"resource policy of {resource}")
        return bool(
            local_check_authorization_full(
                node,
                action,
                resource,
                _request_context(set_by_aws, context),
                resource_policy=copy.deepcopy(resource_policy),
                resource_owner=resource_account if resource_policy is not None else None,
            )
        )
