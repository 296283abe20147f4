"""Fleets of 1,000 spokes: IAM documents within AWS's limits, still bounded to the fleet, documented resource counts."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from benchmarks.plan_scale import fleet_config
from components import policies
from components.offline import FleetMocks, ProgramRun, run_program
from tests.support.fleet_documents import FleetDocuments, fleet_documents
from tests.support.iam_world import IamWorld

README = Path(__file__).resolve().parent.parent / "README.md"
HUB = "100000000000"
OUTSIDE = "999999999999"
SHAPES = {"1000 spokes in 1000 accounts": None, "1000 spokes in 10 accounts": 10}


@pytest.fixture(scope="module", params=list(SHAPES))
def large(request: pytest.FixtureRequest) -> tuple[ProgramRun, FleetDocuments]:
    run = run_program(fleet_config(1000, SHAPES[request.param]), stack="bench", mocks=FleetMocks())
    return run, fleet_documents(run)


def test_every_document_fits_its_limit_with_headroom(large: tuple[ProgramRun, FleetDocuments]) -> None:
    _, documents = large
    ceiling = 0.9  # no document above 90 % of its limit
    assert len(documents.roles) >= 22
    for arn, role in documents.roles.items():
        assert policies.size(role.trust) <= ceiling * policies.TRUST_POLICY_LIMIT, arn
        assert sum(policies.size(d) for d in documents.inline[arn]) <= ceiling * policies.INLINE_POLICIES_LIMIT, arn
        assert all(policies.size(d) <= ceiling * policies.MANAGED_POLICY_LIMIT for d in documents.managed[arn]), arn
        assert len(documents.managed[arn]) <= policies.MANAGED_POLICIES_PER_ROLE, arn


def test_hub_policies_name_every_fleet_account_exactly_once(large: tuple[ProgramRun, FleetDocuments]) -> None:
    _, documents = large
    fleet_accounts = {arn.split(":")[4] for arn in documents.roles if arn.endswith("-deploy")}
    management = documents.managed[f"arn:aws:iam::{HUB}:role/argocd-fleet-bench-management"]
    listed = [
        a for d in management for s in d["Statement"] for a in s["Condition"]["StringEquals"]["aws:ResourceAccount"]
    ]
    assert sorted(listed) == sorted(fleet_accounts)


def test_the_iam_chain_holds_for_sampled_spokes(large: tuple[ProgramRun, FleetDocuments]) -> None:
    _, documents = large
    world = IamWorld(documents.roles)
    management = f"arn:aws:iam::{HUB}:role/argocd-fleet-bench-management"
    repo_server = f"arn:aws:iam::{HUB}:role/argocd-fleet-bench-repo-server"
    accounts = sorted({arn.split(":")[4] for arn in documents.roles if arn.endswith("-deploy")})
    for account in [accounts[0], accounts[-1], *random.Random(5).sample(accounts, min(8, len(accounts)))]:
        deploy = f"arn:aws:iam::{account}:role/argocd-fleet-bench-deploy"
        ssm_read = f"arn:aws:iam::{account}:role/argocd-fleet-bench-ssm-read"
        assert world.role_can_assume(management, deploy)
        assert world.role_can_assume(repo_server, ssm_read)
        assert not world.role_can_assume(management, ssm_read)
        assert not world.role_can_assume(repo_server, deploy)
    assert not world.role_can_assume(management, f"arn:aws:iam::{OUTSIDE}:role/argocd-fleet-bench-deploy")
    assert not world.role_can_assume(repo_server, f"arn:aws:iam::{OUTSIDE}:role/argocd-fleet-bench-ssm-read")


def documented_counts() -> dict[str, int]:
    """The resource counts the README's table promises."""
    counts = {}
    for label, number in re.findall(r"^\| (per [^|]+?) \| (\d+) \|", README.read_text(), re.MULTILINE):
        counts[label] = int(number)
    return counts


def registrations(spokes: int, accounts: int | None) -> int:
    return len(run_program(fleet_config(spokes, accounts), stack="bench", mocks=FleetMocks()).registrations)


def test_resource_counts_match_the_readme() -> None:
    documented = documented_counts()
    # fleet_config alternates aws-auth (even) and access-entry (odd) spokes.
    one, two, three = registrations(1, 1), registrations(2, 1), registrations(3, 1)
    assert documented["per spoke cluster on access entries"] == two - one
    assert documented["per spoke cluster on aws-auth"] == three - two
    assert documented["per spoke account"] == registrations(2, 2) - two
    assert (
        documented["per fleet (hub, IRSA, one ApplicationSet)"]
        == one - documented["per spoke account"] - documented["per spoke cluster on aws-auth"]
    )
