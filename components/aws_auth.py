"""One `mapRoles` entry in an EKS cluster's `aws-auth` ConfigMap, and nothing else.

Why a dynamic provider and not a ConfigMap or ConfigMapPatch resource: `mapRoles` is a single
string holding every role mapping of the cluster (node roles, Fargate profiles, people). A
ConfigMap resource would own the whole object and delete it on destroy; a server-side-apply patch
takes ownership of the whole `mapRoles` string, and deleting the patch relinquishes that field,
which drops the key and locks nodes and people out of the cluster. This provider instead reads the
live ConfigMap, adds or removes only its own entry (matched by role ARN) and writes `mapRoles`
back with a merge patch guarded by the resourceVersion it read, so a concurrent edit is retried,
never overwritten. It never creates, replaces or deletes the ConfigMap and never drops the key.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pulumi
import yaml
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

CONFIGMAP_PATH = "/api/v1/namespaces/kube-system/configmaps/aws-auth"
FIELD_MANAGER = "argocd-fleet"
WRITE_ATTEMPTS = 5
# Inputs that decide which entry lives where; everything else (credentials, CA) only says how to reach it.
ENTRY_KEYS = ("rolearn", "username", "groups")
CLUSTER_KEYS = ("clusterName", "region")
REQUIRED_KEYS = (*CLUSTER_KEYS, "endpoint", "caData", *ENTRY_KEYS)

Entries = list[dict[str, Any]]


class AwsAuthError(Exception):
    """The cluster's aws-auth cannot be edited safely; the message says why and what to do."""


def parse_map_roles(text: str | None) -> Entries:
    """The entries of a `mapRoles` value; refuse anything that is not a YAML list of mappings."""
    entries = yaml.safe_load(text) if text and text.strip() else []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise AwsAuthError("aws-auth mapRoles is not a YAML list of mappings; refusing to edit it")
    return entries


def render_map_roles(entries: Entries) -> str:
    return yaml.safe_dump(entries, default_flow_style=False, sort_keys=False)


def with_role(entries: Entries, entry: dict[str, Any]) -> Entries:
    """`entries` with `entry` in place of any mapping of the same role (first position kept), else appended."""
    rolearn = entry["rolearn"]
    result: Entries = []
    for existing in entries:
        if existing.get("rolearn") != rolearn:
            result.append(existing)
        elif entry not in result:
            result.append(entry)
    return result if entry in result else [*result, entry]


def without_role(entries: Entries, rolearn: str) -> Entries:
    return [entry for entry in entries if entry.get("rolearn") != rolearn]


def edited_map_roles(text: str | None, edit: Callable[[Entries], Entries]) -> str | None:
    """The new `mapRoles` text, or None when `edit` changes nothing (so nothing is written)."""
    entries = parse_map_roles(text)
    edited = edit(entries)
    return None if edited == entries else render_map_roles(edited)


def entry_of(props: dict[str, Any]) -> dict[str, Any]:
    return {"rolearn": props["rolearn"], "username": props["username"], "groups": list(props["groups"])}


class KubernetesApi:
    """The two calls this provider makes to one cluster: read aws-auth, patch its mapRoles."""

    def __init__(self, props: dict[str, Any]):
        self.endpoint = str(props["endpoint"]).rstrip("/")
        self.cluster = f"{props['clusterName']} ({props['region']})"
        certificate = base64.b64decode(props["caData"]).decode()
        self.tls = ssl.create_default_context(cadata=certificate)
        self.token = _eks_token(props)

    def request(self, method: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint}{CONFIGMAP_PATH}" + (f"?fieldManager={FIELD_MANAGER}" if method == "PATCH" else ""),
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": "application/merge-patch+json",
            },
        )
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code in (404, 409):
                return error.code, {}
            raise AwsAuthError(
                f"{method} aws-auth on {self.cluster} failed: HTTP {error.code} {error.reason}"
            ) from None
        except urllib.error.URLError as error:
            raise AwsAuthError(f"cannot reach {self.cluster} at {self.endpoint}: {error.reason}") from None

    def read(self) -> dict[str, Any] | None:
        status, configmap = self.request("GET")
        return None if status == 404 else configmap

    def edit_map_roles(self, edit: Callable[[Entries], Entries], missing_ok: bool) -> None:
        """Read-modify-write of mapRoles, retried when someone else wrote in between."""
        for _ in range(WRITE_ATTEMPTS):
            configmap = self.read()
            if configmap is None:
                if missing_ok:
                    return
                raise AwsAuthError(
                    f"{self.cluster} has no kube-system/aws-auth ConfigMap. argocd-fleet never creates one "
                    "(a new aws-auth would replace what EKS manages); use clusterAccess: access-entry for this spoke"
                )
            new_text = edited_map_roles((configmap.get("data") or {}).get("mapRoles"), edit)
            if new_text is None:
                return
            patch = {
                "metadata": {"resourceVersion": configmap["metadata"]["resourceVersion"]},
                "data": {"mapRoles": new_text},
            }
            status, _ = self.request("PATCH", patch)
            if status != 409:
                return
        raise AwsAuthError(f"aws-auth on {self.cluster} kept changing under us ({WRITE_ATTEMPTS} attempts); retry")


def _eks_token(props: dict[str, Any]) -> str:
    """A token from `aws eks get-token`, as the Kubernetes providers get theirs."""
    command = ["aws", "--region", props["region"], "eks", "get-token", "--cluster-name", props["clusterName"]]
    if props.get("provisionerRoleArn"):
        command += ["--role-arn", props["provisionerRoleArn"]]
    result = subprocess.run([*command, "--output", "json"], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise AwsAuthError(f"aws eks get-token for {props['clusterName']} failed: {result.stderr.strip()}")
    return str(json.loads(result.stdout)["status"]["token"])


def _same_cluster(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    return all(olds.get(key) == news.get(key) for key in CLUSTER_KEYS)


class AwsAuthProvider(ResourceProvider):
    """CRUD of one mapRoles entry; the id is `<region>/<cluster>/<role ARN>`."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(key, f"{key} is required") for key in REQUIRED_KEYS if not news.get(key)]
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Never a replacement: a replace would add the new entry, then delete the old one by role
        # ARN, possibly the very entry just written. `update` moves entries in the right order.
        changed = [key for key in (*REQUIRED_KEYS, "provisionerRoleArn") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        entry = entry_of(props)
        KubernetesApi(props).edit_map_roles(lambda entries: with_role(entries, entry), missing_ok=False)
        return CreateResult(f"{props['region']}/{props['clusterName']}/{props['rolearn']}", props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        entry = entry_of(news)
        if _same_cluster(olds, news):
            old_role = olds["rolearn"]

            def move(entries: Entries) -> Entries:
                kept = entries if old_role == entry["rolearn"] else without_role(entries, old_role)
                return with_role(kept, entry)

            KubernetesApi(news).edit_map_roles(move, missing_ok=False)
        else:
            KubernetesApi(olds).edit_map_roles(lambda entries: without_role(entries, olds["rolearn"]), missing_ok=True)
            KubernetesApi(news).edit_map_roles(lambda entries: with_role(entries, entry), missing_ok=False)
        return UpdateResult(news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        KubernetesApi(props).edit_map_roles(lambda entries: without_role(entries, props["rolearn"]), missing_ok=True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        configmap = KubernetesApi(props).read()
        entries = parse_map_roles(((configmap or {}).get("data") or {}).get("mapRoles"))
        live = next((entry for entry in entries if entry.get("rolearn") == props["rolearn"]), None)
        if live is None:
            # Gone from the cluster: refresh drops it from the state, the next `up` adds it again.
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "username": live.get("username"), "groups": live.get("groups", [])})


class AwsAuthRoleMapping(pulumi.dynamic.Resource, module="aws_auth", name="AwsAuthRoleMapping"):
    """Maps `rolearn` to `username`/`groups` in the cluster's aws-auth, leaving every other entry as it is."""

    def __init__(
        self,
        name: str,
        *,
        cluster_name: str,
        region: str,
        endpoint: pulumi.Input[str],
        ca_data: pulumi.Input[str],
        rolearn: pulumi.Input[str],
        username: str,
        groups: list[str],
        provisioner_role_arn: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        props: dict[str, Any] = {
            "clusterName": cluster_name,
            "region": region,
            "endpoint": endpoint,
            "caData": ca_data,
            "rolearn": rolearn,
            "username": username,
            "groups": groups,
            "provisionerRoleArn": provisioner_role_arn,
        }
        super().__init__(AwsAuthProvider(), name, props, opts)
