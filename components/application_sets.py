"""ApplicationSets (cluster generator) that hand each Application its SSM role and helmfile environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import ApplicationSetConfig
from components.names import HELMFILE_ENV_ANNOTATION, REGION_ANNOTATION, SSM_ROLE_ANNOTATION, STACK_LABEL


def annotation(key: str) -> str:
    """A Go template reading one annotation of the cluster Secret (ARNs cannot be label values)."""
    return f'{{{{ index .metadata.annotations "{key}" }}}}'


CLUSTER_NAME = "{{ .name }}"
# The variables the generate script reads (as ARGOCD_ENV_<name>); the names of the original setup,
# so existing Applications keep working.
PLUGIN_ENV = {
    "REPO_SERVER_IAM_ROLE_ARN": annotation(SSM_ROLE_ANNOTATION),
    "HELMFILE_ENV": annotation(HELMFILE_ENV_ANNOTATION),
    "AWS_REGION": annotation(REGION_ANNOTATION),
}


def application_set_manifest(
    application_set: ApplicationSetConfig, namespace: str, stack: str, plugin_reference: str
) -> dict[str, Any]:
    """The ApplicationSet object: one Application per selected cluster Secret of this stack."""
    sync_policy: dict[str, Any] = {"syncOptions": ["CreateNamespace=true"]}
    if application_set.sync_policy == "automated":
        # allowEmpty stays false: Argo CD refuses to prune everything on an empty render.
        sync_policy["automated"] = {"prune": True, "selfHeal": True, "allowEmpty": False}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": application_set.name, "namespace": namespace},
        "spec": {
            "goTemplate": True,
            # A typo in a field name fails the generation instead of rendering "<no value>".
            "goTemplateOptions": ["missingkey=error"],
            "generators": [
                {"clusters": {"selector": {"matchLabels": {**application_set.selector, STACK_LABEL: stack}}}}
            ],
            "template": {
                "metadata": {"name": f"{application_set.name}-{CLUSTER_NAME}"},
                "spec": {
                    "project": application_set.project,
                    "source": {
                        "repoURL": application_set.repo_url,
                        "path": application_set.path,
                        "targetRevision": application_set.target_revision,
                        "plugin": {
                            "name": plugin_reference,
                            "env": [{"name": key, "value": value} for key, value in PLUGIN_ENV.items()],
                        },
                    },
                    "destination": {"name": CLUSTER_NAME, "namespace": application_set.namespace},
                    "syncPolicy": sync_policy,
                },
            },
        },
    }


@dataclass
class ApplicationSetsArgs:
    application_sets: list[ApplicationSetConfig]
    namespace: str
    stack: str
    plugin_reference: str
    # What the ApplicationSets wait for (sandbox: the Argo CD release that installs their CRD).
    hub_ready: list[pulumi.Resource] = field(default_factory=list)


class ApplicationSets(pulumi.ComponentResource):
    """Every configured ApplicationSet, in the hub namespace (through the hub's Kubernetes provider)."""

    def __init__(self, name: str, args: ApplicationSetsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("argocd-fleet:application_sets:ApplicationSets", name, None, opts)
        for application_set in args.application_sets:
            manifest = application_set_manifest(application_set, args.namespace, args.stack, args.plugin_reference)
            k8s.apiextensions.CustomResource(
                f"{name}-{application_set.name}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.hub_ready),
            )
        self.register_outputs({})
