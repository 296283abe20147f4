"""Third-party policy linters on every permission policy the program produced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudsplaining.scan.policy_document import PolicyDocument
from parliament import analyze_policy_string

from components.offline import ProgramRun
from tests.support.fleet_documents import fleet_documents

CLOUDSPLAINING_FINDINGS = [
    "allows_privilege_escalation",
    "allows_data_exfiltration_actions",
    "permissions_management_without_constraints",
    "write_actions_without_constraints",
    "tagging_actions_without_constraints",
    "infrastructure_modification",
    "credentials_exposure",
    "service_wildcard",
    "all_allowed_unrestricted_actions",
]


def cloudsplaining_findings(document: dict[str, Any]) -> dict[str, list[str]]:
    # flag_conditional_statements: a condition must not excuse an unrestricted action.
    scanned = PolicyDocument(document, flag_conditional_statements=True)
    return {name: findings for name in CLOUDSPLAINING_FINDINGS if (findings := getattr(scanned, name))}


def permission_policies(run: ProgramRun) -> list[tuple[str, dict[str, Any]]]:
    documents = fleet_documents(run)
    found = [(arn, policy) for arn, role in documents.roles.items() for policy in role.policies]
    assert len(found) == 4  # one assume policy per hub role, one SSM read policy per spoke account
    return found


def test_cloudsplaining_flags_nothing(fleet_run: ProgramRun) -> None:
    for arn, document in permission_policies(fleet_run):
        assert cloudsplaining_findings(document) == {}, arn


def test_parliament_finds_nothing(fleet_run: ProgramRun) -> None:
    for arn, document in permission_policies(fleet_run):
        assert analyze_policy_string(json.dumps(document)).findings == [], arn


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"},
    ],
)
def test_cloudsplaining_would_flag_an_unbounded_statement(statement: dict[str, Any]) -> None:
    assert cloudsplaining_findings({"Version": "2012-10-17", "Statement": [statement]})
