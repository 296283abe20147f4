"""Shared test setup: one Mocks class for every test, and fleet configurations to run the real program with."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from components.offline import FleetMocks, ProgramRun, run_program

HUB_ACCOUNT = "111111111111"
PROD_ACCOUNT = "222222222222"
STG_ACCOUNT = "333333333333"
OUTSIDE_ACCOUNT = "999999999999"
STG_KMS_KEY = "arn:aws:kms:ap-northeast-1:333333333333:key/11111111-2222-3333-4444-555555555555"
PLUGIN_IMAGE = "ghcr.io/example/argocd-helmfile-cmp:1.2.0"


class Mocks(FleetMocks):
    """The one Mocks class of the test suite: the program's own offline mocks (placeholder EKS facts,
    ARNs in the account of the provider that registered the resource)."""


def fleet_config(identity: str = "irsa") -> dict[str, Any]:
    """Two spoke accounts, three spokes, both cluster access modes; keys exactly as in a stack file."""
    return {
        "argocd-fleet:hub": {
            "accountId": HUB_ACCOUNT,
            "region": "ap-northeast-1",
            "clusterName": "hub",
            "identity": identity,
            "provisionerRoleArn": f"arn:aws:iam::{HUB_ACCOUNT}:role/pulumi-provisioner",
        },
        "argocd-fleet:accounts": [
            {
                "name": "prod",
                "accountId": PROD_ACCOUNT,
                "provisionerRoleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/pulumi-provisioner",
                "ssmParameterPaths": ["/prod/"],
            },
            {
                "name": "stg",
                "accountId": STG_ACCOUNT,
                "provisionerRoleArn": f"arn:aws:iam::{STG_ACCOUNT}:role/pulumi-provisioner",
                "ssmParameterPaths": ["/stg/", "/shared/stg"],
                "kmsKeyArns": [STG_KMS_KEY],
            },
        ],
        "argocd-fleet:spokes": [
            {
                "name": "prod-app",
                "account": "prod",
                "region": "ap-northeast-1",
                "clusterName": "prod-app",
                "labels": {"env": "prod"},
            },
            {
                "name": "prod-batch",
                "account": "prod",
                "region": "us-west-2",
                "clusterName": "prod-batch",
                "clusterAccess": "access-entry",
                "labels": {"env": "prod", "tier": "batch"},
            },
            {
                "name": "stg-app",
                "account": "stg",
                "region": "ap-northeast-1",
                "clusterName": "stg-app",
                "clusterAccess": "access-entry",
                "helmfileEnvironment": "staging",
                "labels": {"env": "stg"},
                "namespaces": ["platform", "apps"],
            },
        ],
        "argocd-fleet:plugin": {"image": PLUGIN_IMAGE, "helmfileArgs": ["--skip-deps"], "execTimeout": "180s"},
        "argocd-fleet:applicationSets": [
            {
                "name": "platform",
                "repoURL": "https://github.com/example/deploy.git",
                "path": "helmfile/platform",
                "targetRevision": "main",
                "project": "default",
                "selector": {"env": "prod"},
                "namespace": "platform",
                "syncPolicy": "automated",
            },
            {
                "name": "observability",
                "repoURL": "git@github.com:example/observability.git",
                "path": ".",
                "namespace": "monitoring",
            },
        ],
    }


def raw_config(stack_config: dict[str, Any]) -> dict[str, Any]:
    """The same configuration as `parse_fleet_config` takes it: short keys, values as Pulumi delivers them."""
    return {key.split(":", 1)[1]: json.loads(json.dumps(value)) for key, value in stack_config.items()}


@pytest.fixture(params=["irsa", "pod-identity"])
def identity(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(identity: str) -> dict[str, Any]:
    return fleet_config(identity)


RunFleet = Callable[..., ProgramRun]


@pytest.fixture
def run_fleet() -> RunFleet:
    """Run the real program (`__main__.py`) under the shared Mocks with a stack configuration."""

    def run(stack_config: dict[str, Any], stack: str = "test", mocks: Mocks | None = None) -> ProgramRun:
        return run_program(copy.deepcopy(stack_config), stack=stack, mocks=mocks or Mocks())

    return run


@pytest.fixture
def fleet_run(config: dict[str, Any], run_fleet: RunFleet) -> ProgramRun:
    return run_fleet(config)
