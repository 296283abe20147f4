"""SpokeAccount under mocks: exact trust, no deploy permissions, SSM reads limited to paths and regions."""

from __future__ import annotations

import json
from typing import Any

from components.offline import ProgramRun
from tests.conftest import HUB_ACCOUNT, PROD_ACCOUNT, STG_ACCOUNT, STG_KMS_KEY, RunFleet, fleet_config


def trust(run: ProgramRun, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run.named(name, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    return document


def test_deploy_role_trusts_exactly_the_management_role(fleet_run: ProgramRun, identity: str) -> None:
    for account in ("prod", "stg"):
        (statement,) = trust(fleet_run, f"fleet-{account}-deploy")["Statement"]
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-management"}
        expected = ["sts:AssumeRole", "sts:TagSession"] if identity == "pod-identity" else ["sts:AssumeRole"]
        assert statement["Action"] == expected
        assert "Condition" not in statement


def test_ssm_read_role_trusts_exactly_the_repo_server_role(fleet_run: ProgramRun) -> None:
    for account in ("prod", "stg"):
        (statement,) = trust(fleet_run, f"fleet-{account}-ssm-read")["Statement"]
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{HUB_ACCOUNT}:role/argocd-fleet-test-repo-server"}


def test_deploy_role_has_no_iam_permissions(fleet_run: ProgramRun) -> None:
    deploy_roles = {r.inputs["name"] for r in fleet_run.of_type("aws:iam/role:Role") if r.name.endswith("-deploy")}
    attached = {a.inputs["role"] for a in fleet_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    inline = {p.inputs["role"] for p in fleet_run.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert deploy_roles == {"argocd-fleet-test-deploy"}
    assert not deploy_roles & (attached | inline)


def ssm_policy(run: ProgramRun, account: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        run.named(f"fleet-{account}-ssm-read", "aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    )
    return document


def test_ssm_read_covers_the_paths_in_every_region_the_account_spokes_use(fleet_run: ProgramRun) -> None:
    (read,) = ssm_policy(fleet_run, "prod")["Statement"]
    assert read["Action"] == ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    assert read["Resource"] == [
        f"arn:aws:ssm:{region}:{PROD_ACCOUNT}:parameter{suffix}"
        for region in ("ap-northeast-1", "us-west-2")
        for suffix in ("/prod", "/prod/*")
    ]


def test_kms_decrypt_only_configured_keys_only_via_ssm(fleet_run: ProgramRun) -> None:
    read, decrypt = ssm_policy(fleet_run, "stg")["Statement"]
    assert read["Resource"] == [
        f"arn:aws:ssm:ap-northeast-1:{STG_ACCOUNT}:parameter{suffix}"
        for suffix in ("/stg", "/stg/*", "/shared/stg", "/shared/stg/*")
    ]
    assert decrypt == {
        "Sid": "DecryptSecureStringsViaSsm",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [STG_KMS_KEY],
        "Condition": {"StringEquals": {"kms:ViaService": ["ssm.ap-northeast-1.amazonaws.com"]}},
    }


def test_ssm_regions_override(run_fleet: RunFleet) -> None:
    config = fleet_config()
    config["argocd-fleet:accounts"][0]["ssmRegions"] = ["eu-west-1"]
    (read,) = ssm_policy(run_fleet(config), "prod")["Statement"]
    assert {arn.split(":")[3] for arn in read["Resource"]} == {"eu-west-1"}
