"""How the program scales: resources, time and IAM document sizes for fleets of 1 to 1,000 spokes.

    .venv/bin/python benchmarks/plan_scale.py [--sizes 1,10,100,1000] [--shapes spread,packed]

For each size and shape it builds a synthetic fleet configuration, runs the real program under
Pulumi's mocks (as the offline plan does) and prints one table row:

- resources registered, wall time, time per spoke;
- floor: the same number of bare resources (`pulumi.CustomResource` with the same type tokens and
  the same resolved inputs, but no SDK class, component, parent, provider, Output or lookup),
  registered under the same mocks in the same process right after; ratio = time / floor;
- the largest IAM document of each kind as a percentage of its AWS limit.

Shapes: `spread` puts every spoke in its own account (the hub policies list N accounts), `packed`
puts the spokes in 10 accounts. Targets checked at the end: ratio <= 2.0 at N = 1,000; time per
spoke at N = 1,000 within 1.5x of N = 10; no document above 90 % of its limit. Wall times depend
on the machine; compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components import policies
from components.offline import FleetMocks, ProgramRun, run_program

SHAPES = {"spread": None, "packed": 10}
LIMITS = {
    "trust": policies.TRUST_POLICY_LIMIT,
    "inline": policies.INLINE_POLICIES_LIMIT,
    "managed": policies.MANAGED_POLICY_LIMIT,
    "attached": policies.MANAGED_POLICIES_PER_ROLE,
}
BARE_PROGRAM = """
import json

import pulumi

records = json.load(open({records!r}))
for index, (typ, name, inputs) in enumerate(records):
    if typ.startswith("pulumi:providers:"):
        pulumi.ProviderResource(typ.rsplit(":", 1)[1], f"{{index}}-{{name}}", inputs)
    else:
        pulumi.CustomResource(typ, f"{{index}}-{{name}}", inputs)
"""
# The same SDK classes as the program, given the same (already resolved) inputs: what registering
# these resources costs by itself, without configuration, components, parents, providers, Outputs,
# dependencies or lookups.
TYPED_PROGRAM = """
import json

from benchmarks.floor import register_typed

for index, (typ, name, inputs) in enumerate(json.load(open({records!r}))):
    register_typed(typ, f"{{index}}-{{name}}", inputs)
"""


def fleet_config(spokes: int, accounts: int | None) -> dict[str, Any]:
    """A synthetic fleet: half the spokes on aws-auth, half on access entries, two regions, one ApplicationSet."""
    account_count = spokes if accounts is None else min(accounts, spokes)
    return {
        "argocd-fleet:hub": {"accountId": "100000000000", "region": "ap-northeast-1", "clusterName": "hub"},
        "argocd-fleet:accounts": [
            {
                "name": f"account-{index}",
                "accountId": f"{200000000000 + index}",
                "provisionerRoleArn": f"arn:aws:iam::{200000000000 + index}:role/pulumi-provisioner",
                "ssmParameterPaths": [f"/team-{index}/", "/shared/"],
            }
            for index in range(account_count)
        ],
        "argocd-fleet:spokes": [
            {
                "name": f"spoke-{index}",
                "account": f"account-{index % account_count}",
                "region": ("ap-northeast-1", "us-west-2")[index % 2],
                "clusterName": f"cluster-{index}",
                "clusterAccess": ("aws-auth", "access-entry")[index % 2],
                "labels": {"env": "prod", "tier": f"tier-{index % 3}"},
            }
            for index in range(spokes)
        ],
        "argocd-fleet:plugin": {"image": "ghcr.io/example/argocd-helmfile-cmp:1.0.0"},
        "argocd-fleet:applicationSets": [
            {
                "name": "platform",
                "repoURL": "https://github.com/example/deploy.git",
                "path": "helmfile/platform",
                "selector": {"env": "prod"},
                "namespace": "platform",
            }
        ],
    }


def largest_documents(run: ProgramRun) -> dict[str, float]:
    """Largest document of each kind as a percentage of its limit (from what the program registered)."""
    roles = run.iam_roles
    sizes = {
        "trust": max(policies.size(role.trust) for role in roles),
        "inline": max(sum(policies.size(d) for d in role.inline.values()) for role in roles),
        "managed": max((policies.size(d) for role in roles for d in role.managed.values()), default=0),
        "attached": max(len(role.managed) for role in roles),
    }
    return {kind: 100 * size / LIMITS[kind] for kind, size in sizes.items()}


def floor_seconds(run: ProgramRun, template: str) -> float:
    """Register the same number of resources, with the same types and inputs, under the same mocks."""
    records = [
        (r.type, r.name, {k: v for k, v in r.inputs.items() if not k.startswith("__")}) for r in run.registrations
    ]
    with tempfile.TemporaryDirectory() as directory:
        data, program = Path(directory, "records.json"), Path(directory, "floor.py")
        data.write_text(json.dumps(records))
        program.write_text(template.format(records=str(data)))
        gc.collect()
        started = time.perf_counter()
        floor = run_program({}, stack="bench", mocks=FleetMocks(), program=program)
        elapsed = time.perf_counter() - started
    assert len(floor.registrations) == len(records), (len(floor.registrations), len(records))
    return elapsed


@dataclass
class Row:
    shape: str
    spokes: int
    resources: int
    seconds: float
    floor: float
    bare: float
    documents: dict[str, float]

    @property
    def per_spoke_ms(self) -> float:
        return 1000 * self.seconds / self.spokes

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor


def measure(shape: str, spokes: int) -> Row:
    config = fleet_config(spokes, SHAPES[shape])
    gc.collect()
    started = time.perf_counter()
    run = run_program(config, stack="bench", mocks=FleetMocks())
    seconds = time.perf_counter() - started
    floor, bare = floor_seconds(run, TYPED_PROGRAM), floor_seconds(run, BARE_PROGRAM)
    return Row(shape, spokes, len(run.registrations), seconds, floor, bare, largest_documents(run))


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor()
    )
    return (
        f"{model or 'unknown CPU'}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def _cpuinfo() -> list[str]:
    path = Path("/proc/cpuinfo")
    return path.read_text().splitlines() if path.exists() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    shapes = args.shapes.split(",")

    measure(shapes[0], 1)  # warm up: imports and first-run caches are not the program's cost
    print(f"machine: {machine()}")
    header = (
        f"{'shape':<7} {'spokes':>6} {'resources':>9} {'time s':>7} {'ms/spoke':>8} {'floor s':>7} {'ratio':>5}"
        f" {'bare s':>6} {'ratio':>5}"
        f" {'trust%':>6} {'inline%':>7} {'managed%':>8} {'attached%':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for shape in shapes:
        for spokes in sizes:
            row = measure(shape, spokes)
            rows.append(row)
            d = row.documents
            print(
                f"{row.shape:<7} {row.spokes:>6} {row.resources:>9} {row.seconds:>7.2f} {row.per_spoke_ms:>8.1f}"
                f" {row.floor:>7.2f} {row.ratio:>5.2f} {row.bare:>6.2f} {row.seconds / row.bare:>5.2f}"
                f" {d['trust']:>6.1f} {d['inline']:>7.1f}"
                f" {d['managed']:>8.1f} {d['attached']:>9.1f}",
                flush=True,
            )
    return 0 if report_targets(rows) else 1


def report_targets(rows: list[Row]) -> bool:
    checks = []
    for shape in sorted({row.shape for row in rows}):
        by_size = {row.spokes: row for row in rows if row.shape == shape}
        if 1000 in by_size:
            checks.append((f"{shape}: ratio at N=1000", by_size[1000].ratio, 2.0))
        if 1000 in by_size and 10 in by_size:
            growth = by_size[1000].per_spoke_ms / by_size[10].per_spoke_ms
            checks.append((f"{shape}: time per spoke N=1000 / N=10", growth, 1.5))
    checks.append(("largest IAM document, % of its limit", max(max(r.documents.values()) for r in rows), 90.0))
    for label, value, target in checks:
        print(f"{label} = {value:.2f} (target <= {target:g}): {'ok' if value <= target else 'MISSED'}")
    return all(value <= target for _, value, target in checks)


if __name__ == "__main__":
    sys.exit(main())
