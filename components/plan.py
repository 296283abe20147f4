"""Offline plan: what `pulumi up` would create for a stack, with no cloud, no cluster and no Pulumi CLI.

    python -m components.plan --stack example --out build/example [--fixture facts.yaml]

Runs the real program under Pulumi's mocks with `stacks/Pulumi.<stack>.yaml`, prints a tree of
every resource grouped by account and cluster, and writes IAM documents, Kubernetes objects, the
generate script, a Mermaid trust diagram and a Markdown summary to the output folder. The same
input always gives byte-identical output, so two plans can be diffed. Cloud facts (cluster
endpoints, CA data, OIDC issuers, existing aws-auth entries) are placeholders marked PLACEHOLDER
unless a fixture file gives them. Invalid configuration: the errors on stderr, exit status 2, and
the output folder untouched.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.aws_auth import edited_map_roles, entry_of, with_role
from components.config import ConfigError
from components.helmfile_plugin import GENERATE_SCRIPT
from components.offline import (
    PLACEHOLDER,
    PROJECT_ROOT,
    ClusterFixture,
    FleetMocks,
    IamRole,
    ProgramRun,
    Registration,
    placeholder_cluster,
    run_program,
)

STACKS = PROJECT_ROOT / "stacks"
AWS_AUTH_TYPE = "pulumi-python:dynamic/aws_auth:AwsAuthRoleMapping"
ROLE_TYPE = "aws:iam/role:Role"


# --- inputs ------------------------------------------------------------------------------------


def stack_config(stack: str) -> dict[str, Any]:
    """The `argocd-fleet:*` keys of `stacks/Pulumi.<stack>.yaml`."""
    path = STACKS / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACKS.glob("Pulumi.*.yaml"))
        raise SystemExit(f"no stack file {path.relative_to(PROJECT_ROOT)} (stacks: {', '.join(known)})")
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    return {key: value for key, value in config.items() if key.startswith("argocd-fleet:")}


@dataclass
class Facts:
    """Cloud facts the plan cannot look up: from a fixture file, else placeholders."""

    clusters: dict[tuple[str, str, str], ClusterFixture] = field(default_factory=dict)
    aws_auth: dict[tuple[str, str], str] = field(default_factory=dict)  # (region, cluster) -> mapRoles

    @classmethod
    def load(cls, path: Path | None) -> Facts:
        facts = cls()
        if path is None:
            return facts
        for entry in (yaml.safe_load(path.read_text()) or {}).get("clusters", []):
            key = (str(entry["accountId"]), entry["region"], entry["name"])
            default = placeholder_cluster(*key)
            facts.clusters[key] = ClusterFixture(
                endpoint=entry.get("endpoint", default.endpoint),
                certificate_authority=entry.get("caData", default.certificate_authority),
                oidc_issuer=entry.get("oidcIssuer", default.oidc_issuer),
                authentication_mode=entry.get("authenticationMode", default.authentication_mode),
            )
            if "awsAuthMapRoles" in entry:
                facts.aws_auth[(entry["region"], entry["name"])] = entry["awsAuthMapRoles"]
        return facts

    def existing_map_roles(self, account_id: str, region: str, cluster: str) -> str:
        found = self.aws_auth.get((region, cluster))
        if found is not None:
            return found
        return yaml.safe_dump(
            [
                {
                    "rolearn": f"arn:aws:iam::{account_id}:role/{PLACEHOLDER}-node-role-of-{cluster}",
                    "username": "system:node:{{EC2PrivateDNSName}}",
                    "groups": ["system:bootstrappers", "system:nodes"],
                }
            ],
            sort_keys=False,
        )


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class Plan:
    stack: str
    run: ProgramRun
    facts: Facts

    @functools.cached_property
    def resources(self) -> list[Registration]:
        return sorted(self.run.registrations, key=lambda r: r.urn)

    def cluster_of(self, registration: Registration) -> str | None:
        if registration.type == AWS_AUTH_TYPE:
            return str(registration.inputs["clusterName"])
        provider = self.run.provider_of(registration)
        if provider is not None and provider.type == "pulumi:providers:kubernetes":
            return str(provider.inputs["clusterIdentifier"]).rsplit("/", 1)[1]
        return None

    @functools.cached_property
    def account_names(self) -> dict[str, str]:
        """Account ID -> the provider's short name (hub, prod, ...)."""
        return {
            str(json.loads(p.inputs["allowedAccountIds"])[0]): p.name.removeprefix("fleet-aws-")
            for p in self.run.of_type("pulumi:providers:aws")
        }

    @functools.cached_property
    def roles(self) -> list[IamRole]:
        """Every role, hub first, then by account name."""
        return sorted(self.run.iam_roles, key=lambda role: (self.account(role) != "hub", self.account(role), role.arn))

    def account(self, role: IamRole) -> str:
        """The account's name in the configuration (hub, prod, ...), as folders and labels show it."""
        return self.account_names.get(role.account_id, role.account_id)


# --- the tree ------------------------------------------------------------------------------------


def tree(plan: Plan) -> str:
    """What `pulumi up` would create, grouped by account and cluster, in the spirit of `pulumi preview`."""
    names = plan.account_names
    groups: dict[str, list[Registration]] = defaultdict(list)
    for resource in plan.resources:
        account, cluster = plan.run.account_of(resource), plan.cluster_of(resource)
        if cluster is not None:
            groups[f"cluster {cluster}"].append(resource)
        elif account is not None:
            groups[f"account {names[account]} ({account})"].append(resource)
        elif resource.type.startswith("pulumi:providers:"):
            groups["providers"].append(resource)
        else:
            groups["components"].append(resource)
    width_type = max(len(r.type) for r in plan.resources)
    width_name = max(len(r.name) for r in plan.resources)
    lines = [
        f"Plan for stack {plan.stack}: `pulumi up` would create {len(plan.resources)} resources.",
        f"Cloud facts marked {PLACEHOLDER} are placeholders (no AWS account was contacted).",
        "",
    ]
    order = sorted(groups, key=_group_order(plan))
    for group in order:
        lines.append(group)
        for resource in sorted(groups[group], key=lambda r: (_parent_name(plan, r), r.type, r.name)):
            parent = plan.run.parent_of(resource)
            lines.append(
                f"  + {resource.type:<{width_type}}  {resource.name:<{width_name}}"
                f"  parent: {parent.name if parent else '(stack)'}"
            )
        lines.append("")
    counts: dict[str, int] = defaultdict(int)
    for resource in plan.resources:
        counts[_kind(resource)] += 1
    summary = ", ".join(f"{counts[kind]} {kind}" for kind in sorted(counts))
    lines.append(f"Resources: {len(plan.resources)} to create ({summary})")
    return "\n".join(lines) + "\n"


def _group_order(plan: Plan) -> Callable[[str], tuple[int, bool, str]]:
    """Components, providers, then accounts and clusters, each with the hub first."""
    hub = plan.run.named("fleet-k8s-hub", "pulumi:providers:kubernetes")
    hub_cluster = str(hub.inputs["clusterIdentifier"]).rsplit("/", 1)[1]
    ranks = {"components": 0, "providers": 1, "account": 2, "cluster": 3}

    def order(group: str) -> tuple[int, bool, str]:
        kind, _, rest = group.partition(" ")
        return ranks[kind], not (rest.startswith("hub (") or rest == hub_cluster), rest

    return order


def _parent_name(plan: Plan, resource: Registration) -> str:
    parent = plan.run.parent_of(resource)
    return parent.name if parent else ""


def _kind(resource: Registration) -> str:
    if resource.type.startswith("pulumi:providers:"):
        return "providers"
    if not resource.custom:
        return "components"
    if resource.type.startswith("kubernetes:") or resource.type == AWS_AUTH_TYPE:
        return "Kubernetes"
    return "AWS"


# --- the files -------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower()


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (aws-auth entries, the generate script) as readable literal blocks."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _represent_text)


def _yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False)


def _canonical(document: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first, everything else sorted: the engine hands inputs over in any order."""
    head = [key for key in ("apiVersion", "kind", "metadata") if key in document]
    ordered = {key: _sorted(document[key]) for key in head}
    return ordered | {key: _sorted(document[key]) for key in sorted(document) if key not in head}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def kubernetes_objects(plan: Plan) -> dict[str, str]:
    """Path -> YAML of every Kubernetes object, one folder per cluster."""
    files: dict[str, str] = {}
    for resource in plan.resources:
        cluster = plan.cluster_of(resource)
        if cluster is None:
            continue
        if resource.type == AWS_AUTH_TYPE:
            files[f"kubernetes/{cluster}/configmap-aws-auth.after-up.yaml"] = aws_auth_view(plan, resource)
            continue
        document = _canonical({key: value for key, value in resource.inputs.items() if not key.startswith("__")})
        kind = str(document.get("kind") or resource.type.rsplit(":", 1)[1]).lower()
        if resource.type.endswith("Patch"):
            kind += "-patch"
        name = (document.get("metadata") or {}).get("name") or document.get("name") or resource.name
        files[f"kubernetes/{cluster}/{kind}-{_slug(name)}.yaml"] = _yaml(document)
    return files


def aws_auth_view(plan: Plan, mapping: Registration) -> str:
    """aws-auth's mapRoles after `up`: the existing entries (fixture or placeholder) plus the fleet's one."""
    inputs = mapping.inputs
    account_id = inputs["rolearn"].split(":")[4]
    existing = plan.facts.existing_map_roles(account_id, inputs["region"], inputs["clusterName"])
    entry = entry_of(inputs)
    merged = edited_map_roles(existing, lambda entries: with_role(entries, entry)) or existing
    header = (
        f"# aws-auth of {inputs['clusterName']} ({inputs['region']}) after `pulumi up`: the fleet adds or updates\n"
        "# only the entry for its deploy role; every other entry, mapUsers and mapAccounts stay as they are.\n"
        f"# Existing entries marked {PLACEHOLDER} stand in for the cluster's real ones.\n"
    )
    return header + _yaml({"mapRoles": merged})


def iam_files(plan: Plan) -> dict[str, str]:
    return {
        f"iam/{plan.account(role)}/{role.name}.json": _json(
            {
                "role": role.name,
                "arn": role.arn,
                "trust": role.trust,
                "inlinePolicies": role.inline,
                "managedPolicies": role.managed,
            }
        )
        for role in plan.roles
    }


# --- who can assume what ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


def _principals(trust: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(principal node, how) for every statement of a trust policy."""
    for statement in trust["Statement"]:
        principal = statement.get("Principal", {})
        conditions = statement.get("Condition", {}).get("StringEquals", {})
        if "Federated" in principal:
            subjects = next(value for key, value in conditions.items() if key.endswith(":sub"))
            for subject in [subjects] if isinstance(subjects, str) else subjects:
                yield f"sa:{subject.rsplit(':', 1)[1]}", "IRSA"
        elif principal.get("Service") == "pods.eks.amazonaws.com":
            accounts = conditions["aws:RequestTag/kubernetes-service-account"]
            for service_account in [accounts] if isinstance(accounts, str) else accounts:
                yield f"sa:{service_account}", "Pod Identity"
        elif "AWS" in principal:
            yield f"role:{principal['AWS']}", "sts:AssumeRole"


def edges(plan: Plan) -> list[Edge]:
    """Every trust relationship and grant the program created, from the registered documents."""
    found: set[Edge] = set()
    for role in plan.roles:
        for source, how in _principals(role.trust):
            found.add(Edge(source, f"role:{role.arn}", how))
    for mapping in plan.run.of_type(AWS_AUTH_TYPE):
        found.add(Edge(f"role:{mapping.inputs['rolearn']}", f"cluster:{mapping.inputs['clusterName']}", "aws-auth"))
    for entry in plan.run.of_type("aws:eks/accessEntry:AccessEntry"):
        found.add(
            Edge(f"role:{entry.inputs['principalArn']}", f"cluster:{entry.inputs['clusterName']}", "access entry")
        )
    for role in plan.roles:
        for statement in role.permissions:
            if "ssm:GetParameter" in statement.get("Action", []):
                for path in sorted({_ssm_path(arn) for arn in statement["Resource"]}):
                    found.add(Edge(f"role:{role.arn}", f"ssm:{plan.account(role)}:{path}", "reads"))
    return sorted(found, key=lambda edge: (edge.source, edge.target, edge.label))


def _ssm_path(arn: str) -> str:
    return "/" + arn.split(":parameter/", 1)[1].removesuffix("/*").removesuffix("*")


def mermaid(plan: Plan) -> str:
    all_edges = edges(plan)
    nodes = sorted(
        {edge.source for edge in all_edges}
        | {edge.target for edge in all_edges}
        | {f"role:{r.arn}" for r in plan.roles}
    )
    ids = {node: f"n{index}" for index, node in enumerate(nodes)}
    lines = ["flowchart LR"]
    for node in nodes:
        lines.append(f"  {ids[node]}{_shape(node)}")
    for edge in all_edges:
        lines.append(f"  {ids[edge.source]} -->|{edge.label}| {ids[edge.target]}")
    return "\n".join(lines) + "\n"


def _shape(node: str) -> str:
    kind, _, value = node.partition(":")
    if kind == "sa":
        return f'(["hub service account {value}"])'
    if kind == "role":
        account, name = value.split(":")[4], value.rsplit("/", 1)[1]
        return f'["role {name}<br/>{account}"]'
    if kind == "cluster":
        return f'[("cluster {value}")]'
    account, path = value.split(":", 1)
    return f'[/"SSM {path} in {account}"/]'


# --- the summary --------------------------------------------------------------------------------------


def summary(plan: Plan, tree_text: str, diagram: str) -> str:
    lines = [
        f"# argocd-fleet plan: stack `{plan.stack}`",
        "",
        f"Offline plan: the real program under Pulumi's mocks. Values containing `{PLACEHOLDER}` stand in for",
        "facts only AWS knows (cluster endpoints, CA data, OIDC issuers, existing aws-auth entries).",
        "",
        "```",
        tree_text.rstrip().rsplit("\n", 1)[-1],
        "```",
        "",
        "## Who can assume what",
        "",
        "```mermaid",
        diagram.rstrip(),
        "```",
        "",
        "## Roles",
        "",
        "| role | account | trusted by | may |",
        "|---|---|---|---|",
    ]
    for role in plan.roles:
        trusted = "; ".join(f"{how} {source.split(':', 1)[1]}" for source, how in _principals(role.trust))
        may = "; ".join(_describe(statement) for statement in role.permissions) or "nothing (no IAM permissions)"
        lines.append(f"| `{role.name}` | {plan.account(role)} | {trusted} | {may} |")
    warnings = plan.run.warnings
    if warnings:
        lines += ["", "## Warnings", "", *[f"- {warning}" for warning in warnings]]
    return "\n".join(lines) + "\n"


def _describe(statement: dict[str, Any]) -> str:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    text = f"{', '.join(actions)} on {', '.join(f'`{r}`' for r in resources)}"
    for operator, conditions in statement.get("Condition", {}).items():
        for key, value in conditions.items():
            values = value if isinstance(value, list) else [value]
            text += f" when {key} {operator} {', '.join(values)}"
    return text.replace("|", "\\|")


# --- the command -----------------------------------------------------------------------------------------


def render(stack: str, fixture: Path | None = None) -> tuple[str, dict[str, str]]:
    """The printed tree and every output file (path -> content). Raises ConfigError on invalid config."""
    facts = Facts.load(fixture)
    run = run_program(stack_config(stack), stack=stack, mocks=FleetMocks(clusters=facts.clusters))
    plan = Plan(stack=stack, run=run, facts=facts)
    tree_text = tree(plan)
    diagram = mermaid(plan)
    files = {
        "tree.txt": tree_text,
        "trust.mmd": diagram,
        "summary.md": summary(plan, tree_text, diagram),
        "outputs.json": _json(_sorted(run.outputs)),
        "plugin/helmfile-generate.sh": GENERATE_SCRIPT.read_text(),
        **iam_files(plan),
        **kubernetes_objects(plan),
    }
    return tree_text, dict(sorted(files.items()))


def write(out: Path, files: Mapping[str, str]) -> None:
    """Replace `out` with exactly `files` (built beside it first, so a failure leaves it as it was)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    for relative, content in files.items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name: reads stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<stack>)")
    parser.add_argument("--fixture", type=Path, help="YAML file with real cluster facts instead of placeholders")
    args = parser.parse_args(argv)
    try:
        tree_text, files = render(args.stack, args.fixture)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write(args.out or PROJECT_ROOT / "build" / args.stack, files)
    sys.stdout.write(tree_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
