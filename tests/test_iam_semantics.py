"""IAM semantics of what the program produced, judged by an independent evaluator (principalmapper).

The documents come from the program's registrations under mocks (never hand-copied), so a change
to any component that widens or breaks a trust shows up here.
"""

from __future__ import annotations

import pytest

from components.offline import ProgramRun, placeholder_cluster
from components.policies import STS_AUDIENCE, service_account_subject
from tests.conftest import (
    HUB_ACCOUNT,
    OUTSIDE_ACCOUNT,
    PROD_ACCOUNT,
    STG_ACCOUNT,
    STG_KMS_KEY,
    RunFleet,
    fleet_config,
)
from tests.support.fleet_documents import fleet_documents
from tests.support.iam_world import IamWorld

MANAGEMENT = ["argocd-application-controller", "argocd-applicationset-controller", "argocd-server"]
REPO_SERVER = "argocd-repo-server"
HUB_CLUSTER_ARN = f"arn:aws:eks:ap-northeast-1:{HUB_ACCOUNT}:cluster/hub"
ISSUER = placeholder_cluster(HUB_ACCOUNT, "ap-northeast-1", "hub").oidc_issuer.removeprefix("https://")
OIDC_PROVIDER = f"arn:aws:iam::{HUB_ACCOUNT}:oidc-provider/{ISSUER}"
POD_IDENTITY = "pods.eks.amazonaws.com"


def role(account: str, suffix: str) -> str:
    return f"arn:aws:iam::{account}:role/argocd-fleet-test-{suffix}"


MANAGEMENT_ROLE = role(HUB_ACCOUNT, "management")
REPO_SERVER_ROLE = role(HUB_ACCOUNT, "repo-server")
SPOKE_ACCOUNTS = [PROD_ACCOUNT, STG_ACCOUNT]


@pytest.fixture
def world(fleet_run: ProgramRun) -> IamWorld:
    return IamWorld(fleet_documents(fleet_run).roles)


def world_for(identity: str, run_fleet: RunFleet) -> IamWorld:
    return IamWorld(fleet_documents(run_fleet(fleet_config(identity))).roles)


def irsa_claims(service_account: str, namespace: str = "argocd", aud: str | None = STS_AUDIENCE) -> dict[str, str]:
    """Claims of a projected service account token from the hub cluster (no aud claim when aud is None)."""
    claims = {f"{ISSUER}:sub": service_account_subject(namespace, service_account)}
    return claims | ({f"{ISSUER}:aud": aud} if aud is not None else {})


def pod_identity_context(service_account: str, namespace: str = "argocd") -> dict[str, str]:
    """What EKS Pod Identity sends when it assumes a role for a pod of the hub cluster."""
    return {
        "aws:SourceAccount": HUB_ACCOUNT,
        "aws:RequestTag/eks-cluster-arn": HUB_CLUSTER_ARN,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }


def hub_session(world: IamWorld, identity: str, role_arn: str, service_account: str, namespace: str = "argocd") -> bool:
    """Can this pod of the hub cluster obtain `role_arn` the way its identity mode works?"""
    if identity == "irsa":
        return world.web_identity_can_assume(role_arn, OIDC_PROVIDER, irsa_claims(service_account, namespace))
    return world.service_can_assume(role_arn, POD_IDENTITY, pod_identity_context(service_account, namespace))


def chained(world: IamWorld, identity: str, source: str, target: str) -> bool:
    return world.role_can_assume(source, target, tag_session=identity == "pod-identity")


@pytest.mark.parametrize("service_account", MANAGEMENT)
def test_each_management_service_account_reaches_every_deploy_role(
    world: IamWorld, identity: str, service_account: str
) -> None:
    assert hub_session(world, identity, MANAGEMENT_ROLE, service_account)
    for account in SPOKE_ACCOUNTS:
        assert chained(world, identity, MANAGEMENT_ROLE, role(account, "deploy"))


def test_the_repo_server_reaches_every_ssm_read_role(world: IamWorld, identity: str) -> None:
    assert hub_session(world, identity, REPO_SERVER_ROLE, REPO_SERVER)
    for account in SPOKE_ACCOUNTS:
        assert chained(world, identity, REPO_SERVER_ROLE, role(account, "ssm-read"))


def test_the_ssm_read_role_reads_configured_paths_and_decrypts_via_ssm(world: IamWorld) -> None:
    prod, stg = role(PROD_ACCOUNT, "ssm-read"), role(STG_ACCOUNT, "ssm-read")
    for region in ("ap-northeast-1", "us-west-2"):
        assert world.role_can(
            prod, "ssm:GetParameter", f"arn:aws:ssm:{region}:{PROD_ACCOUNT}:parameter/prod/db/password"
        )
    assert world.role_can(prod, "ssm:GetParametersByPath", f"arn:aws:ssm:ap-northeast-1:{PROD_ACCOUNT}:parameter/prod")
    assert world.role_can(
        stg, "ssm:GetParameters", f"arn:aws:ssm:ap-northeast-1:{STG_ACCOUNT}:parameter/shared/stg/token"
    )
    via_ssm = {"kms:ViaService": "ssm.ap-northeast-1.amazonaws.com"}
    assert world.role_can(stg, "kms:Decrypt", STG_KMS_KEY, context=via_ssm)


@pytest.mark.parametrize(
    ("service_account", "namespace"),
    [
        ("argocd-notifications-controller", "argocd"),
        ("default", "argocd"),
        ("argocd-server", "default"),
        ("argocd-application-controller", "argo"),
    ],
)
def test_other_service_accounts_or_namespaces_are_denied(
    world: IamWorld, identity: str, service_account: str, namespace: str
) -> None:
    assert not hub_session(world, identity, MANAGEMENT_ROLE, service_account, namespace)
    assert not hub_session(world, identity, REPO_SERVER_ROLE, service_account, namespace)


def test_the_repo_server_service_account_cannot_take_the_management_role(world: IamWorld, identity: str) -> None:
    assert not hub_session(world, identity, MANAGEMENT_ROLE, REPO_SERVER)
    assert not hub_session(world, identity, REPO_SERVER_ROLE, "argocd-application-controller")


@pytest.mark.parametrize("aud", [None, "sts.amazonaws.com.evil", "https://kubernetes.default.svc"])
def test_irsa_tokens_with_a_missing_or_wrong_audience_are_denied(run_fleet: RunFleet, aud: str | None) -> None:
    world = world_for("irsa", run_fleet)
    assert not world.web_identity_can_assume(MANAGEMENT_ROLE, OIDC_PROVIDER, irsa_claims("argocd-server", aud=aud))
    assert not world.web_identity_can_assume(REPO_SERVER_ROLE, OIDC_PROVIDER, irsa_claims(REPO_SERVER, aud=aud))


def test_irsa_tokens_from_another_oidc_provider_are_denied(run_fleet: RunFleet) -> None:
    other = OIDC_PROVIDER.replace("/id/", "/id/OTHER")
    assert not world_for("irsa", run_fleet).web_identity_can_assume(
        MANAGEMENT_ROLE, other, irsa_claims("argocd-server")
    )


@pytest.mark.parametrize(
    "override",
    [
        {"aws:RequestTag/eks-cluster-arn": HUB_CLUSTER_ARN.replace("cluster/hub", "cluster/other")},
        {"aws:SourceAccount": OUTSIDE_ACCOUNT},
    ],
)
def test_pod_identity_from_another_cluster_or_account_is_denied(run_fleet: RunFleet, override: dict[str, str]) -> None:
    context = pod_identity_context("argocd-server") | override
    assert not world_for("pod-identity", run_fleet).service_can_assume(MANAGEMENT_ROLE, POD_IDENTITY, context)


def test_the_repo_server_role_cannot_reach_deploy_roles(world: IamWorld, identity: str) -> None:
    for account in SPOKE_ACCOUNTS:
        assert not chained(world, identity, REPO_SERVER_ROLE, role(account, "deploy"))


def test_the_management_role_cannot_reach_ssm_read_roles(world: IamWorld, identity: str) -> None:
    for account in SPOKE_ACCOUNTS:
        assert not chained(world, identity, MANAGEMENT_ROLE, role(account, "ssm-read"))


@pytest.mark.parametrize(
    "parameter",
    ["/production/db", "/prodx", "/stg/db", "/prod", "/"],
)
def test_ssm_reads_outside_the_configured_paths_are_denied(world: IamWorld, parameter: str) -> None:
    prod = role(PROD_ACCOUNT, "ssm-read")
    resource = f"arn:aws:ssm:ap-northeast-1:{PROD_ACCOUNT}:parameter{parameter}"
    expected = parameter == "/prod"  # the path itself is readable (GetParametersByPath on /prod)
    assert world.role_can(prod, "ssm:GetParameter", resource) is expected
    assert not world.role_can(prod, "ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{PROD_ACCOUNT}:parameter/prod/db")
    assert not world.role_can(prod, "ssm:PutParameter", f"arn:aws:ssm:ap-northeast-1:{PROD_ACCOUNT}:parameter/prod/db")


@pytest.mark.parametrize(
    "context",
    [{}, {"kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}, {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}],
)
def test_decrypting_outside_ssm_is_denied(world: IamWorld, context: dict[str, str]) -> None:
    assert not world.role_can(role(STG_ACCOUNT, "ssm-read"), "kms:Decrypt", STG_KMS_KEY, context=context)


def test_no_decrypt_without_configured_keys(world: IamWorld) -> None:
    prod_key = f"arn:aws:kms:ap-northeast-1:{PROD_ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    context = {"kms:ViaService": "ssm.ap-northeast-1.amazonaws.com"}
    assert not world.role_can(role(PROD_ACCOUNT, "ssm-read"), "kms:Decrypt", prod_key, context=context)


def test_hub_roles_cannot_reach_a_same_named_role_outside_the_fleet(world: IamWorld, identity: str) -> None:
    assert not chained(world, identity, MANAGEMENT_ROLE, role(OUTSIDE_ACCOUNT, "deploy"))
    assert not chained(world, identity, REPO_SERVER_ROLE, role(OUTSIDE_ACCOUNT, "ssm-read"))
    assert not chained(world, identity, MANAGEMENT_ROLE, role(HUB_ACCOUNT, "deploy"))
