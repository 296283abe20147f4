"""Register one resource with its own SDK class and already-resolved inputs, and nothing else.

The benchmark's floor: the unavoidable cost of registering the program's resources under mocks,
without the program (configuration, components, parents, providers, Outputs, lookups).
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.aws_auth import AwsAuthRoleMapping

# Kubernetes API groups whose SDK module is not the group's first label.
_KUBERNETES_MODULES = {"rbac.authorization.k8s.io": "rbac"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _decoded(value: Any) -> Any:
    """Provider configuration travels JSON-encoded; give the SDK class the values themselves."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _sdk_class(token: str) -> Any:
    package, module, name = token.split(":")
    if package == "pulumi" and module == "providers":
        return importlib.import_module(f"pulumi_{name}").Provider
    group = module.split("/")[0]
    if package == "kubernetes":
        version = module.split("/")[1]
        group = _KUBERNETES_MODULES.get(group, group.split(".")[0])
        return getattr(importlib.import_module(f"pulumi_kubernetes.{group}.{version}"), name)
    return getattr(importlib.import_module(f"pulumi_{package}.{group}"), name)


def register_typed(token: str, name: str, inputs: dict[str, Any]) -> None:
    if token.startswith("argocd-fleet:"):
        component = pulumi.ComponentResource(token, name)
        component.register_outputs({})
        return
    if token == "pulumi-python:dynamic/aws_auth:AwsAuthRoleMapping":
        AwsAuthRoleMapping(name, **{_snake(key): value for key, value in inputs.items()})
        return
    if token == "kubernetes:argoproj.io/v1alpha1:ApplicationSet":
        k8s.apiextensions.CustomResource(
            name,
            api_version=inputs["apiVersion"],
            kind=inputs["kind"],
            metadata=inputs["metadata"],
            spec=inputs["spec"],
        )
        return
    decode = _decoded if token.startswith("pulumi:providers:") else (lambda value: value)
    arguments = {_snake(key): decode(value) for key, value in inputs.items() if key not in ("apiVersion", "kind")}
    _sdk_class(token)(name, **arguments)
