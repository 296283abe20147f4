"""The pure policy builders: shapes, splitting within quotas, parameter ARNs."""

from __future__ import annotations

import json

import pytest

from components import policies


def account(n: int) -> str:
    return f"{n:012d}"


def test_irsa_trust_names_exact_subjects_and_audience() -> None:
    document = policies.irsa_trust_policy(
        "arn:aws:iam::111111111111:oidc-provider/oidc.example/id/X", "oidc.example/id/X", "argocd", ["a", "b"]
    )
    (statement,) = document["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "oidc.example/id/X:aud": "sts.amazonaws.com",
            "oidc.example/id/X:sub": ["system:serviceaccount:argocd:a", "system:serviceaccount:argocd:b"],
        }
    }


def test_pod_identity_trust_pins_cluster_account_and_service_accounts() -> None:
    cluster = "arn:aws:eks:ap-northeast-1:111111111111:cluster/hub"
    (statement,) = policies.pod_identity_trust_policy(cluster, "111111111111", "argocd", ["argocd-repo-server"])[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "111111111111",
            "aws:RequestTag/eks-cluster-arn": cluster,
            "aws:RequestTag/kubernetes-namespace": "argocd",
            "aws:RequestTag/kubernetes-service-account": "argocd-repo-server",
        }
    }


@pytest.mark.parametrize(
    ("tag_session", "actions"), [(False, ["sts:AssumeRole"]), (True, ["sts:AssumeRole", "sts:TagSession"])]
)
def test_spoke_trust_allows_tag_session_only_for_pod_identity(tag_session: bool, actions: list[str]) -> None:
    (statement,) = policies.spoke_trust_policy("arn:aws:iam::1:role/hub", tag_session)["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::1:role/hub"}
    assert statement["Action"] == actions


def test_parameter_arns_never_match_a_longer_sibling_path() -> None:
    arns = policies.parameter_arns("aws", "222222222222", ["ap-northeast-1"], ["/prod/", "/shared/app"])
    assert arns == [
        "arn:aws:ssm:ap-northeast-1:222222222222:parameter/prod",
        "arn:aws:ssm:ap-northeast-1:222222222222:parameter/prod/*",
        "arn:aws:ssm:ap-northeast-1:222222222222:parameter/shared/app",
        "arn:aws:ssm:ap-northeast-1:222222222222:parameter/shared/app/*",
    ]
    assert not any(arn.endswith("prod*") for arn in arns)


def test_the_root_path_means_every_parameter() -> None:
    assert policies.parameter_arns("aws", "2", ["us-east-1"], ["/"]) == ["arn:aws:ssm:us-east-1:2:parameter/*"]


def test_ssm_read_policy_decrypts_only_via_ssm_in_the_given_regions() -> None:
    key = "arn:aws:kms:us-east-1:2:key/k"
    document = policies.ssm_read_policy("aws", "2", ["us-east-1", "eu-west-1"], ["/a/"], [key])
    read, decrypt = document["Statement"]
    assert read["Action"] == ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    assert decrypt["Resource"] == [key]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": ["ssm.us-east-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]}
    }


def test_china_regions_use_the_china_service_domain() -> None:
    document = policies.ssm_read_policy("aws-cn", "2", ["cn-north-1"], ["/a/"], ["arn:aws-cn:kms:cn-north-1:2:key/k"])
    assert document["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"] == [
        "ssm.cn-north-1.amazonaws.com.cn"
    ]


def test_without_keys_there_is_no_kms_statement() -> None:
    assert len(policies.ssm_read_policy("aws", "2", ["us-east-1"], ["/a/"], [])["Statement"]) == 1


def test_assume_policy_is_one_arn_pattern_bounded_by_account() -> None:
    (document,) = policies.assume_fleet_roles_policies("aws", "deploy", ["3", "2", "2"], tag_session=False, sid="S")
    (statement,) = document["Statement"]
    assert statement["Resource"] == "arn:aws:iam::*:role/deploy"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": ["2", "3"]}}


@pytest.mark.parametrize("count", [1, 10, 100, 1000, 3000])
def test_assume_policies_split_within_headroom_and_cover_every_account(count: int) -> None:
    accounts = [account(n) for n in range(count)]
    documents = policies.assume_fleet_roles_policies("aws", "argocd-fleet-prod-deploy", accounts, True, "S")
    assert all(policies.size(document) <= policies.MANAGED_POLICY_LIMIT * policies.HEADROOM for document in documents)
    covered = [a for d in documents for a in d["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"]]
    assert sorted(covered) == sorted(accounts)
    assert len(documents) <= policies.MANAGED_POLICIES_PER_ROLE


def test_split_packs_greedily() -> None:
    """Every document but the last is full: one more account would push it over the budget."""
    documents = policies.assume_fleet_roles_policies("aws", "r", [account(n) for n in range(1000)], True, "S")
    assert len(documents) > 1
    for document in documents[:-1]:
        accounts = document["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"]
        fuller = policies.assume_fleet_roles_policy("aws", "r", [*accounts, "999999999999"], True, "S")
        assert policies.size(fuller) > policies.managed_policy_budget()


def test_size_counts_the_compact_serialisation() -> None:
    document = {"Version": "2012-10-17", "Statement": []}
    assert policies.size(document) == len(json.dumps(document, separators=(",", ":")))


def test_an_entry_that_cannot_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        policies.split_to_fit(["x" * 100], lambda chunk: {"a": chunk}, limit=50)
