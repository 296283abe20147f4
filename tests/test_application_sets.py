"""ApplicationSets: the manifests, their validation, and their Go templates evaluated by Go's text/template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_fleet_config
from components.helmfile_plugin import GENERATE_SCRIPT
from components.offline import ProgramRun, Registration
from tests.conftest import PROD_ACCOUNT, RunFleet, fleet_config, raw_config

GO_PROGRAM = Path(__file__).resolve().parent / "support" / "gotemplate" / "main.go"
APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
Render = Callable[[dict[str, str], dict[str, Any]], dict[str, str]]


def application_sets(run: ProgramRun) -> dict[str, Registration]:
    return {a.inputs["metadata"]["name"]: a for a in run.of_type(APPLICATION_SET)}


def test_platform_application_set(fleet_run: ProgramRun) -> None:
    spec = application_sets(fleet_run)["platform"].inputs["spec"]
    assert spec["goTemplate"] is True
    assert spec["goTemplateOptions"] == ["missingkey=error"]
    assert spec["generators"] == [
        {"clusters": {"selector": {"matchLabels": {"env": "prod", "argocd-fleet.io/stack": "test"}}}}
    ]
    template = spec["template"]["spec"]
    assert template["source"]["repoURL"] == "https://github.com/example/deploy.git"
    assert template["source"]["path"] == "helmfile/platform"
    assert template["source"]["targetRevision"] == "main"
    assert template["source"]["plugin"]["name"] == "helmfile"
    assert [env["name"] for env in template["source"]["plugin"]["env"]] == [
        "REPO_SERVER_IAM_ROLE_ARN",
        "HELMFILE_ENV",
        "AWS_REGION",
    ]
    assert template["destination"] == {"name": "{{ .name }}", "namespace": "platform"}
    assert template["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True, "allowEmpty": False}
    assert template["project"] == "default"


def test_manual_sync_is_the_default(fleet_run: ProgramRun) -> None:
    spec = application_sets(fleet_run)["observability"].inputs["spec"]
    assert "automated" not in spec["template"]["spec"]["syncPolicy"]
    assert spec["template"]["spec"]["source"]["targetRevision"] == "HEAD"
    assert spec["generators"][0]["clusters"]["selector"]["matchLabels"] == {"argocd-fleet.io/stack": "test"}


def test_application_sets_live_on_the_hub(fleet_run: ProgramRun) -> None:
    for registration in application_sets(fleet_run).values():
        assert registration.inputs["metadata"]["namespace"] == "argocd"
        provider = fleet_run.provider_of(registration)
        assert provider is not None and provider.name == "fleet-k8s-hub"


# --- validation -------------------------------------------------------------------------------


def problems(edit: Callable[[dict[str, Any]], None]) -> list[str]:
    raw = raw_config(fleet_config())
    edit(raw)
    with pytest.raises(ConfigError) as caught:
        parse_fleet_config(raw, "test")
    return caught.value.problems


def first_set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["applicationSets"][0].update(changes)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            first_set(repoURL="github.com/example/deploy"),
            "applicationSets[0].repoURL: 'github.com/example/deploy' is not a Git repository URL",
        ),
        (first_set(repoURL="https://"), "applicationSets[0].repoURL"),
        (first_set(path="/abs/path"), "applicationSets[0].path: '/abs/path' must be a path inside the repository"),
        (first_set(path="../other"), "applicationSets[0].path"),
        (first_set(syncPolicy="auto"), "applicationSets[0].syncPolicy: Input should be 'automated' or 'manual'"),
        (first_set(selector={"env": "prod!"}), "applicationSets[0].selector.env: label value"),
        (first_set(namespace="Platform"), "applicationSets[0].namespace"),
        (first_set(targetRevision=""), "applicationSets[0].targetRevision: must not be empty"),
        (first_set(repoUrl="https://x/y.git"), 'applicationSets[0].repoUrl: unknown key; did you mean "repoURL"?'),
        (lambda raw: raw["applicationSets"][0].pop("namespace"), "applicationSets[0].namespace: required"),
        (
            lambda raw: raw["applicationSets"][1].update(name="platform"),
            'applicationSets[1].name: ApplicationSet name "platform" is already used',
        ),
        (
            first_set(name="a-very-long-application-set-name-for-the-platform-team"),
            "applicationSets[0].name: the Application for spoke",
        ),
        (lambda raw: raw["plugin"].pop("image"), "plugin.image: required"),
        (lambda raw: raw["plugin"].update(image="Not An Image"), "plugin.image"),
        (lambda raw: raw["plugin"].update(execTimeout="90"), "plugin.execTimeout"),
        (lambda raw: raw.pop("plugin"), "plugin: required"),
    ],
)
def test_application_set_and_plugin_validation(edit: Callable[[dict[str, Any]], None], expected: str) -> None:
    found = problems(edit)
    assert any(problem.startswith(expected) for problem in found), found


def test_a_selector_that_matches_no_spoke_is_a_warning(run_fleet: RunFleet) -> None:
    config = fleet_config()
    config["argocd-fleet:applicationSets"][0]["selector"] = {"env": "qa"}
    run = run_fleet(config)
    assert run.warnings == [
        "applicationSets[0].selector: matches no spoke of this stack "
        "(platform generates no Application until a spoke carries these labels)"
    ]
    assert run_fleet(fleet_config()).warnings == []


def test_selectors_can_use_fleet_labels() -> None:
    raw = raw_config(fleet_config())
    raw["applicationSets"][0]["selector"] = {"argocd-fleet.io/account": "stg"}
    fleet = parse_fleet_config(raw, "test")
    assert [spoke.name for spoke in fleet.selected_spokes(fleet.application_sets[0], "test")] == ["stg-app"]
    assert fleet.warnings("test") == []


# --- Go templates, evaluated by Go's own text/template --------------------------------------------


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Render]:
    go = shutil.which("go")
    if go is None:
        pytest.fail("Go is needed to evaluate Argo CD's templates (Debian: apt-get install golang-go)")
    workdir = tmp_path_factory.mktemp("gotemplate")
    binary = workdir / "gotemplate"
    environment = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "GOCACHE": str(workdir / "cache"),
        "GOPATH": str(workdir / "gopath"),
    }
    subprocess.run([go, "build", "-o", str(binary), str(GO_PROGRAM)], env=environment, check=True)

    def run(templates: dict[str, str], data: dict[str, Any]) -> dict[str, str]:
        request = {"options": ["missingkey=error"], "templates": templates, "data": data}
        result = subprocess.run([str(binary)], input=json.dumps(request), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ValueError(result.stderr.strip())
        rendered: dict[str, str] = json.loads(result.stdout)
        return rendered

    yield run


def generator_parameters(secret: Registration) -> dict[str, Any]:
    """What Argo CD's cluster generator hands a goTemplate for one cluster Secret."""
    data, metadata = secret.inputs["stringData"], secret.inputs["metadata"]
    return {
        "name": data["name"],
        "nameNormalized": data["name"],
        "server": data["server"],
        "project": "",
        "metadata": {"labels": metadata["labels"], "annotations": metadata["annotations"]},
        "values": {},
    }


def templated_strings(node: Any, path: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in templated_strings(value, f"{path}.{key}").items()}
    if isinstance(node, list):
        return {k: v for index, item in enumerate(node) for k, v in templated_strings(item, f"{path}[{index}]").items()}
    return {path: node} if isinstance(node, str) and "{{" in node else {}


def test_templates_give_the_script_exactly_what_it_needs(fleet_run: ProgramRun, render: Render) -> None:
    template = application_sets(fleet_run)["platform"].inputs["spec"]["template"]
    templates = templated_strings(template)
    assert set(templates) == {
        ".metadata.name",
        ".spec.source.plugin.env[0].value",
        ".spec.source.plugin.env[1].value",
        ".spec.source.plugin.env[2].value",
        ".spec.destination.name",
    }
    for spoke, region in [("prod-app", "ap-northeast-1"), ("prod-batch", "us-west-2")]:
        secret = fleet_run.named(f"fleet-{spoke}-cluster-secret", "kubernetes:core/v1:Secret")
        rendered = render(templates, generator_parameters(secret))
        assert rendered == {
            ".metadata.name": f"platform-{spoke}",
            ".spec.source.plugin.env[0].value": f"arn:aws:iam::{PROD_ACCOUNT}:role/argocd-fleet-test-ssm-read",
            ".spec.source.plugin.env[1].value": spoke,
            ".spec.source.plugin.env[2].value": region,
            ".spec.destination.name": spoke,
        }


def test_a_field_typo_fails_the_generation(render: Render) -> None:
    with pytest.raises(ValueError, match="map has no entry for key"):
        render({"name": "{{ .nmae }}"}, {"name": "prod-app"})


def test_a_secret_without_the_role_annotation_fails_the_render(
    fleet_run: ProgramRun, render: Render, tmp_path: Path
) -> None:
    """`index` yields no error for a missing key, so the generate script is what stops the render."""
    template = application_sets(fleet_run)["platform"].inputs["spec"]["template"]
    secret = fleet_run.named("fleet-prod-app-cluster-secret", "kubernetes:core/v1:Secret")
    parameters = generator_parameters(secret)
    del parameters["metadata"]["annotations"]["argocd-fleet.io/ssm-role-arn"]
    plugin_env = {entry["name"]: entry["value"] for entry in template["spec"]["source"]["plugin"]["env"]}
    rendered = render(plugin_env, parameters)
    result = subprocess.run(
        ["bash", str(GENERATE_SCRIPT)],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            **{f"ARGOCD_ENV_{name}": value for name, value in rendered.items()},
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "ARGOCD_ENV_REPO_SERVER_IAM_ROLE_ARN" in result.stderr
