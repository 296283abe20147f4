"""Run the real program with no cloud: Pulumi's mocks, placeholder lookups, and a record of everything registered.

Used by the offline plan (`python -m components.plan`), by the tests and by the benchmark, so all
three see exactly what `pulumi up` would be asked to create.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func

from components.config import partition_of
from components.policies import role_arn

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = PROJECT_ROOT / "__main__.py"
PROJECT = "argocd-fleet"
PLACEHOLDER = "PLACEHOLDER"


@dataclass(frozen=True)
class ClusterFixture:
    """What an EKS lookup returns for one cluster (placeholders unless a fixture file says otherwise)."""

    endpoint: str
    certificate_authority: str
    oidc_issuer: str
    authentication_mode: str = "API_AND_CONFIG_MAP"


def placeholder_cluster(account_id: str, region: str, name: str) -> ClusterFixture:
    digest = hashlib.sha256(f"{account_id}/{region}/{name}".encode()).hexdigest()[:32].upper()
    certificate = f"-----BEGIN CERTIFICATE-----\n{PLACEHOLDER} CA of {name}\n-----END CERTIFICATE-----\n"
    return ClusterFixture(
        endpoint=f"https://{PLACEHOLDER}-{digest[:12]}.{name.lower()}.{region}.eks.invalid",
        certificate_authority=base64.b64encode(certificate.encode()).decode(),
        oidc_issuer=f"https://oidc.eks.{region}.amazonaws.com/id/{PLACEHOLDER}{digest[: 32 - len(PLACEHOLDER)]}",
    )


@dataclass
class Registration:
    """One resource as the engine would see it: what it is, where it sits, and its options."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    protect: bool = False
    read: bool = False
    dependencies: list[str] = field(default_factory=list)


class FleetMocks(Mocks):
    """Answers resource registrations and lookups the way AWS and Kubernetes would, with placeholder facts.

    Provider registrations are remembered so that every resource can be attributed to its account:
    a role registered through the `prod` account's provider gets an ARN in the `prod` account.
    """

    def __init__(self, clusters: Mapping[tuple[str, str, str], ClusterFixture] | None = None):
        self.clusters = dict(clusters or {})
        self.provider_accounts: dict[str, tuple[str, str]] = {}

    def cluster(self, account_id: str, region: str, name: str) -> ClusterFixture:
        return self.clusters.get((account_id, region, name)) or placeholder_cluster(account_id, region, name)

    def _account_of(self, provider_reference: str | None) -> tuple[str, str]:
        provider_id = (provider_reference or "").rsplit("::", 1)[-1]
        return self.provider_accounts.get(provider_id, ("123456789012", "us-east-1"))

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]  # the monitor takes a dict
        account_id, provider_region = self._account_of(args.provider)
        handler = _CALLS.get(args.token)
        if handler is None:
            raise NotImplementedError(f"no offline answer for the lookup {args.token}")
        return handler(self, account_id, provider_region, args.args)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider"
            accounts = args.inputs.get("allowedAccountIds") or []
            # Provider configuration reaches the engine JSON-encoded.
            accounts = json.loads(accounts) if isinstance(accounts, str) else accounts
            if accounts:
                self.provider_accounts[provider_id] = (accounts[0], args.inputs.get("region", "us-east-1"))
            return provider_id, dict(args.inputs)
        account_id, region = self._account_of(args.provider)
        outputs = dict(args.inputs)
        outputs.update(_computed_outputs(args.typ, args.inputs, account_id, region))
        return args.resource_id or f"{args.name}-id", outputs


def _computed_outputs(typ: str, inputs: Mapping[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """The attributes AWS would compute on create that the program reads back."""
    partition = partition_of(region)
    name = inputs.get("name", "")
    if typ == "aws:iam/role:Role":
        return {"arn": role_arn(partition, account_id, name), "uniqueId": f"AROA{PLACEHOLDER}"}
    if typ == "aws:iam/policy:Policy":
        return {"arn": f"arn:{partition}:iam::{account_id}:policy/{name}"}
    return {}


def _get_cluster(mocks: FleetMocks, account_id: str, provider_region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    region = args.get("region") or provider_region
    name = args["name"]
    facts = mocks.cluster(account_id, region, name)
    return {
        "name": name,
        "id": name,
        "arn": f"arn:{partition_of(region)}:eks:{region}:{account_id}:cluster/{name}",
        "endpoint": facts.endpoint,
        "certificateAuthorities": [{"data": facts.certificate_authority}],
        "identities": [{"oidcs": [{"issuer": facts.oidc_issuer}]}],
        "accessConfigs": [{"authenticationMode": facts.authentication_mode}],
        "region": region,
    }


def _get_oidc_provider(
    _mocks: FleetMocks, account_id: str, provider_region: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    host = str(args["url"]).removeprefix("https://")
    partition = partition_of(provider_region)
    return {"arn": f"arn:{partition}:iam::{account_id}:oidc-provider/{host}", "url": host}


_CALLS: dict[str, Callable[[FleetMocks, str, str, Mapping[str, Any]], dict[str, Any]]] = {
    "aws:eks/getCluster:getCluster": _get_cluster,
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": _get_oidc_provider,
}


class RecordingMonitor(MockMonitor):
    """The mock monitor, keeping every registration with its parent, provider and options."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, read=False)
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, read=True)
        return response

    def _record(self, request: Any, urn: str, read: bool) -> None:
        registered = self.resources[urn]
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=read or bool(request.custom),
                provider=request.provider,
                inputs=_plain(registered.state if read else _inputs_of(request)),
                outputs=_plain(registered.state),
                id=registered.id or "",
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
                protect=bool(getattr(request, "protect", False)),
                read=read,
                dependencies=sorted(getattr(request, "dependencies", [])),
            )
        )


def _inputs_of(request: Any) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(request.object))


def _plain(value: Any) -> Any:
    """Unwrap secrets so records compare and serialise as plain data."""
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value.get("value"))
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


@dataclass
class IamRole:
    """One role as registered: its trust policy and its permission policies by name."""

    arn: str
    account_id: str
    trust: dict[str, Any]
    inline: dict[str, Any] = field(default_factory=dict)
    managed: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    @property
    def permissions(self) -> list[dict[str, Any]]:
        return [
            statement
            for document in [*self.inline.values(), *self.managed.values()]
            for statement in document["Statement"]
        ]


@dataclass
class ProgramRun:
    """Everything one run of the program registered, plus its stack outputs and warnings."""

    registrations: list[Registration]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Registration]:
        return [registration for registration in self.registrations if registration.type == typ]

    def named(self, name: str, typ: str | None = None) -> Registration:
        matches = [r for r in self.registrations if r.name == name and (typ is None or r.type == typ)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    @functools.cached_property
    def _by_urn(self) -> dict[str, Registration]:
        return {registration.urn: registration for registration in self.registrations}

    def by_urn(self, urn: str) -> Registration | None:
        return self._by_urn.get(urn)

    def parent_of(self, registration: Registration) -> Registration | None:
        return self.by_urn(registration.parent)

    def provider_of(self, registration: Registration) -> Registration | None:
        """The provider resource a registration goes through (its reference is `<urn>::<id>`)."""
        return self.by_urn(registration.provider.rsplit("::", 1)[0]) if registration.provider else None

    def account_of(self, registration: Registration) -> str | None:
        """The AWS account a registration goes to, from its provider's allowed account."""
        provider = self.provider_of(registration)
        if provider is None or provider.type != "pulumi:providers:aws":
            return None
        return str(json.loads(provider.inputs["allowedAccountIds"])[0])

    def children_of(self, registration: Registration) -> list[Registration]:
        return [child for child in self.registrations if child.parent == registration.urn]

    @functools.cached_property
    def iam_roles(self) -> list[IamRole]:
        """Every role with the documents exactly as registered (policies matched by account and role name)."""
        roles: dict[tuple[str | None, str], IamRole] = {}
        for role in self.of_type("aws:iam/role:Role"):
            arn = role.outputs["arn"]
            roles[(arn.split(":")[4], role.inputs["name"])] = IamRole(
                arn=arn, account_id=arn.split(":")[4], trust=json.loads(role.inputs["assumeRolePolicy"])
            )
        for policy in self.of_type("aws:iam/rolePolicy:RolePolicy"):
            inline = roles[(self.account_of(policy), policy.inputs["role"])].inline
            inline[policy.inputs["name"]] = json.loads(policy.inputs["policy"])
        managed = {policy.outputs["arn"]: policy for policy in self.of_type("aws:iam/policy:Policy")}
        for attachment in self.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            policy = managed[attachment.inputs["policyArn"]]
            attached = roles[(self.account_of(attachment), attachment.inputs["role"])].managed
            attached[policy.inputs["name"]] = json.loads(policy.inputs["policy"])
        return list(roles.values())


def config_values(stack_config: Mapping[str, Any]) -> dict[str, str]:
    """Pulumi passes structured config values to the program as JSON strings."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in stack_config.items()}


def run_program(
    stack_config: Mapping[str, Any],
    stack: str = "example",
    mocks: FleetMocks | None = None,
    monitor: RecordingMonitor | None = None,
    program: Path = PROGRAM,
) -> ProgramRun:
    """Run `program` under mocks with `stack_config` (full keys, e.g. `argocd-fleet:hub`) and record it.

    Errors of the program propagate; pass your own `monitor` to see what was registered before one.
    """
    monitor = monitor or RecordingMonitor(mocks or FleetMocks())
    warnings: list[str] = []
    logger = logging.getLogger(f"argocd-fleet.offline.{id(monitor)}")
    logger.propagate = False
    logger.addHandler(_ListHandler(warnings))

    # A loop of its own (set before the runtime creates its first futures): a failed run must not
    # leave tasks behind that surface in the next one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.ROOT.set(None)
    runtime_settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, logger=logger)
    pulumi.runtime.set_all_config(config_values(stack_config))
    outputs: dict[str, Any] = {}

    def body() -> None:
        runpy.run_path(str(program), run_name="__main__")
        root = runtime_settings.get_root_resource()
        exported = getattr(root, "outputs", {})
        pulumi.Output.all(**exported).apply(outputs.update)

    try:
        loop.run_until_complete(run_pulumi_func(body))
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
    return ProgramRun(registrations=monitor.registrations, outputs=_plain(outputs), warnings=warnings)


class _ListHandler(logging.Handler):
    """Collects the warnings the program logs (`pulumi.log.warn`) for the caller to show or assert."""

    def __init__(self, sink: list[str]):
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: Any) -> None:
        self.sink.append(record.getMessage())
