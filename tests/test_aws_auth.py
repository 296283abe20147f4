"""The aws-auth provider against a live (fake) Kubernetes API holding an existing aws-auth.

The existing ConfigMap has node-role, Fargate and people mappings; through `up`, a second `up`, a
removed spoke and `destroy` they keep their meaning, the ConfigMap is never created, replaced or
deleted, and the mapRoles key is never dropped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider

from components.aws_auth import AwsAuthError, AwsAuthProvider, parse_map_roles, with_role, without_role
from tests.support.fake_kubernetes import FakeCluster, fake_cluster

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY_ROLE = "arn:aws:iam::222222222222:role/argocd-fleet-test-deploy"

EXISTING_MAP_ROLES = textwrap.dedent(
    """\
    - rolearn: arn:aws:iam::222222222222:role/prod-app-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
    - rolearn: arn:aws:iam::222222222222:role/prod-app-fargate
      username: system:node:{{SessionName}}
      groups: [system:bootstrappers, system:nodes, system:node-proxier]
    - rolearn: arn:aws:iam::222222222222:role/platform-admins
      username: "platform-admin:{{SessionName}}"
      groups: [system:masters]
    """
)
EXISTING = {
    "mapRoles": EXISTING_MAP_ROLES,
    "mapUsers": "- userarn: arn:aws:iam::222222222222:user/alice\n  username: alice\n  groups: [system:masters]\n",
    "mapAccounts": '- "444444444444"\n',
}
OUR_ENTRY = {"rolearn": DEPLOY_ROLE, "username": "argocd-fleet:test:deploy", "groups": ["argocd-fleet:test:deployers"]}


@pytest.fixture(autouse=True)
def aws_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`aws eks get-token` runs for real (it signs locally, no network), with throwaway credentials."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with fake_cluster() as running:
        running.store(EXISTING)
        yield running


def props(cluster: FakeCluster, **changes: Any) -> dict[str, Any]:
    return {
        "clusterName": "prod-app",
        "region": "ap-northeast-1",
        "endpoint": cluster.endpoint,
        "caData": cluster.ca_data,
        "provisionerRoleArn": None,
        **OUR_ENTRY,
        **changes,
    }


def map_roles(cluster: FakeCluster) -> list[dict[str, Any]]:
    return parse_map_roles(cluster.data["mapRoles"])


EXISTING_ENTRIES = yaml.safe_load(EXISTING_MAP_ROLES)


def assert_others_untouched(cluster: FakeCluster) -> None:
    assert [entry for entry in map_roles(cluster) if entry["rolearn"] != DEPLOY_ROLE] == EXISTING_ENTRIES
    assert cluster.data["mapUsers"] == EXISTING["mapUsers"]
    assert cluster.data["mapAccounts"] == EXISTING["mapAccounts"]


def assert_only_reads_and_patches(cluster: FakeCluster) -> None:
    assert set(cluster.methods) <= {"GET", "PATCH"}, cluster.methods
    for request in cluster.requests:
        if request.method == "PATCH":
            assert request.body is not None
            assert set(request.body) == {"metadata", "data"}
            assert set(request.body["data"]) == {"mapRoles"}
            assert request.body["metadata"]["resourceVersion"]


def test_up_second_up_removed_spoke_and_destroy(cluster: FakeCluster) -> None:
    provider = AwsAuthProvider()

    created = provider.create(props(cluster))
    assert created.id == f"ap-northeast-1/prod-app/{DEPLOY_ROLE}"
    assert map_roles(cluster) == [*EXISTING_ENTRIES, OUR_ENTRY]
    assert_others_untouched(cluster)
    assert cluster.methods == ["GET", "PATCH"]

    # A second `up`: nothing to diff, and even a forced write finds nothing to change.
    assert not provider.diff(created.id, props(cluster), props(cluster)).changes
    version = cluster.configmap["metadata"]["resourceVersion"] if cluster.configmap else None
    provider.update(created.id, props(cluster), props(cluster))
    assert cluster.configmap is not None and cluster.configmap["metadata"]["resourceVersion"] == version
    assert cluster.methods == ["GET", "PATCH", "GET"]

    # The spoke leaves the config (or `pulumi destroy`): only our entry goes.
    provider.delete(created.id, props(cluster))
    assert map_roles(cluster) == EXISTING_ENTRIES
    assert_others_untouched(cluster)
    assert_only_reads_and_patches(cluster)
    assert cluster.configmap is not None


def test_removing_the_last_entry_keeps_the_map_roles_key(cluster: FakeCluster) -> None:
    cluster.store({"mapRoles": ""})
    provider = AwsAuthProvider()
    provider.create(props(cluster))
    provider.delete("id", props(cluster))
    assert "mapRoles" in cluster.data
    assert parse_map_roles(cluster.data["mapRoles"]) == []


def test_a_cluster_without_aws_auth_is_an_error_never_a_new_configmap(cluster: FakeCluster) -> None:
    cluster.store(None)
    with pytest.raises(AwsAuthError, match=r"no kube-system/aws-auth ConfigMap.*clusterAccess: access-entry"):
        AwsAuthProvider().create(props(cluster))
    assert cluster.methods == ["GET"]
    assert cluster.configmap is None


def test_deleting_from_a_cluster_without_aws_auth_writes_nothing(cluster: FakeCluster) -> None:
    cluster.store(None)
    AwsAuthProvider().delete("id", props(cluster))
    assert cluster.methods == ["GET"]


def test_a_concurrent_edit_is_retried_not_overwritten(cluster: FakeCluster) -> None:
    eksctl_entry = {"rolearn": "arn:aws:iam::222222222222:role/new-nodegroup", "username": "n", "groups": ["x"]}

    def someone_else_writes(fake: FakeCluster) -> None:
        fake.write({"mapRoles": EXISTING_MAP_ROLES + yaml.safe_dump([eksctl_entry])})

    cluster.before_patch = someone_else_writes
    AwsAuthProvider().create(props(cluster))
    assert map_roles(cluster) == [*EXISTING_ENTRIES, eksctl_entry, OUR_ENTRY]
    assert cluster.methods == ["GET", "PATCH", "GET", "PATCH"]


def test_malformed_map_roles_is_left_alone(cluster: FakeCluster) -> None:
    cluster.store({"mapRoles": "rolearn: not-a-list\n"})
    with pytest.raises(AwsAuthError, match="not a YAML list"):
        AwsAuthProvider().create(props(cluster))
    assert "PATCH" not in cluster.methods


def test_an_existing_mapping_of_our_role_is_replaced_in_place(cluster: FakeCluster) -> None:
    stale = {"rolearn": DEPLOY_ROLE, "username": "old", "groups": ["system:masters"]}
    cluster.store({**EXISTING, "mapRoles": yaml.safe_dump([EXISTING_ENTRIES[0], stale, EXISTING_ENTRIES[1], stale])})
    AwsAuthProvider().create(props(cluster))
    assert map_roles(cluster) == [EXISTING_ENTRIES[0], OUR_ENTRY, EXISTING_ENTRIES[1]]


def test_update_to_another_role_moves_the_entry(cluster: FakeCluster) -> None:
    provider = AwsAuthProvider()
    provider.create(props(cluster))
    other = "arn:aws:iam::222222222222:role/argocd-fleet-other-deploy"
    provider.update("id", props(cluster), props(cluster, rolearn=other))
    assert map_roles(cluster) == [*EXISTING_ENTRIES, {**OUR_ENTRY, "rolearn": other}]


def test_diff_never_replaces(cluster: FakeCluster) -> None:
    diff = AwsAuthProvider().diff("id", props(cluster), props(cluster, clusterName="other", rolearn="x"))
    assert diff.changes and diff.replaces == []


def test_read_reports_the_live_entry_or_its_absence(cluster: FakeCluster) -> None:
    provider = AwsAuthProvider()
    provider.create(props(cluster))
    assert provider.read("id", props(cluster)).id == "id"
    cluster.write({"mapRoles": EXISTING_MAP_ROLES})
    assert provider.read("id", props(cluster)).id is None


def test_the_cluster_certificate_is_verified(cluster: FakeCluster) -> None:
    with fake_cluster() as impostor, pytest.raises(AwsAuthError, match="cannot reach"):
        AwsAuthProvider().create(props(cluster, caData=impostor.ca_data))
    assert cluster.requests == []


def test_check_requires_every_input(cluster: FakeCluster) -> None:
    result = AwsAuthProvider().check({}, props(cluster, endpoint="", groups=[]))
    assert sorted(failure.property for failure in result.failures) == ["endpoint", "groups"]


def test_the_serialised_provider_works_in_a_fresh_interpreter(cluster: FakeCluster) -> None:
    """What the engine does: unpickle the provider in a new process started in the project directory."""
    script = textwrap.dedent(
        """
        import base64, json, sys, dill
        provider = dill.loads(base64.b64decode(sys.stdin.readline()))
        props = json.loads(sys.stdin.readline())
        print(provider.create(props).id)
        """
    )
    serialized = serialize_provider(AwsAuthProvider())
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=f"{serialized}\n{json.dumps(props(cluster))}\n",
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ap-northeast-1/prod-app/{DEPLOY_ROLE}"
    assert map_roles(cluster)[-1] == OUR_ENTRY


def test_entry_helpers_are_pure() -> None:
    entries = [{"rolearn": "a"}, {"rolearn": "b"}]
    assert with_role(entries, {"rolearn": "c"}) == [*entries, {"rolearn": "c"}]
    assert with_role(entries, {"rolearn": "a", "x": 1}) == [{"rolearn": "a", "x": 1}, {"rolearn": "b"}]
    assert without_role(entries, "a") == [{"rolearn": "b"}]
    assert entries == [{"rolearn": "a"}, {"rolearn": "b"}]
