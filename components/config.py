"""The stack configuration, parsed once into typed models.

Everything under the `argocd-fleet:` namespace is validated before a single resource is
registered, and every problem is reported together, each prefixed with its key path
(`spokes[2].account: no account named "stg"`), so a user fixes a config in one round.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from components import policies
from components.names import (
    ACCOUNT_LABEL,
    CLUSTER_SECRET_TYPE_LABEL,
    IAM_ROLE_NAME_LIMIT,
    LABEL_PREFIX,
    REGION_LABEL,
    STACK_LABEL,
    FleetNames,
)

NAMESPACE = "argocd-fleet"

_ACCOUNT_ID = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
_ROLE_ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})")
_KMS_KEY_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):kms:([a-z0-9-]+):(\d{12}):key/([0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
_EKS_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_SSM_PATH = re.compile(r"/[A-Za-z0-9_./-]*")
_HELMFILE_ENV = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_ROLE_NAME_PREFIX = re.compile(r"[A-Za-z0-9][\w+=,.@-]*")
_IMAGE = re.compile(
    r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?"
)
_PLUGIN_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,30}")
_DURATION = re.compile(r"[1-9][0-9]*(s|m)")
_KUBERNETES_VERSION = re.compile(r"1\.[0-9]{2}")
_REPO_URL = re.compile(r"(https?|ssh)://[^\s/?#]+[^\s]*|[\w.-]+@[\w.-]+:[^\s]+")
# Argo CD labels every resource it deploys with the Application name: it must fit a label value.
APPLICATION_NAME_LIMIT = 63


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; `problems` holds one line per problem, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({count}):\n{lines}")


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# --- value checks: each raises ValueError with a message that says what is wrong -------------


def _matches(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


def _account_id_as_string(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value} must be a string of 12 digits: quote it in YAML (a bare number loses leading zeros)")
    return value


def _account_id(value: str) -> str:
    return _matches(_ACCOUNT_ID, value, "a 12-digit AWS account ID")


def _region(value: str) -> str:
    return _matches(_REGION, value, "an AWS region such as ap-northeast-1")


def _role_arn(value: str) -> str:
    return _matches(_ROLE_ARN, value, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)")


def _kms_key_arn(value: str) -> str:
    if ":alias/" in value:
        raise ValueError(f"{value!r} is an alias ARN; IAM matches kms:Decrypt on the key ARN (…:key/<key id>)")
    return _matches(_KMS_KEY_ARN, value, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)")


def _eks_cluster_name(value: str) -> str:
    return _matches(_EKS_CLUSTER_NAME, value, "a valid EKS cluster name")


def _dns_label(value: str) -> str:
    if len(value) > 63:
        raise ValueError(f"{value!r} is longer than 63 characters")
    return _matches(_DNS_LABEL, value, "a DNS-1123 label (lowercase letters, digits and '-')")


def _dns_subdomain(value: str) -> str:
    if len(value) > 253:
        raise ValueError(f"{value!r} is longer than 253 characters")
    return _matches(_DNS_SUBDOMAIN, value, "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")


def label_key_problem(key: str) -> str | None:
    """Why Kubernetes would reject `key` as a label key, or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"label key {key!r} has an invalid prefix (must be a DNS subdomain)"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"label key {key!r} is invalid (name part: at most 63 characters, alphanumeric, '-', '_' or '.', "
            "starting and ending alphanumeric)"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return (
            f"label value {value!r} is invalid (at most 63 characters, alphanumeric, '-', '_' or '.', "
            "starting and ending alphanumeric)"
        )
    return None


def _label_key(value: str) -> str:
    problem = label_key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _label_value(value: str) -> str:
    problem = label_value_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _user_label_key(value: str) -> str:
    _label_key(value)
    if value == CLUSTER_SECRET_TYPE_LABEL or value.startswith(LABEL_PREFIX):
        raise ValueError(f"label key {value!r} is reserved: the fleet sets it itself")
    return value


def _ssm_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} must start with '/' (an SSM parameter path such as /prod/)")
    if "//" in value or not _SSM_PATH.fullmatch(value):
        raise ValueError(f"{value!r} is not an SSM parameter path (letters, digits, '_', '.', '-' and single '/')")
    return value


def _helmfile_environment(value: str) -> str:
    return _matches(_HELMFILE_ENV, value, "a helmfile environment name (letters, digits, '_', '.', '-'; 63 at most)")


def _role_name_prefix(value: str) -> str:
    return _matches(_ROLE_NAME_PREFIX, value, "usable at the start of an IAM role name")


def _image(value: str) -> str:
    return _matches(_IMAGE, value, "a container image reference such as ghcr.io/example/helmfile-cmp:1.0")


def _plugin_version(value: str) -> str:
    return _matches(_PLUGIN_VERSION, value, "a plugin version such as v1.0")


def _duration(value: str) -> str:
    return _matches(_DURATION, value, "a duration in seconds or minutes such as 180s or 5m")


def _repo_url(value: str) -> str:
    return _matches(_REPO_URL, value, "a Git repository URL (https://…, ssh://… or git@host:org/repo.git)")


def _repo_path(value: str) -> str:
    if value.startswith("/") or ".." in value.split("/") or not value.strip():
        raise ValueError(f"{value!r} must be a path inside the repository (relative, no '..'; '.' for the root)")
    return value


def _kubernetes_version(value: str) -> str:
    return _matches(_KUBERNETES_VERSION, value, "a Kubernetes minor version such as 1.33")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


AccountId = Annotated[str, BeforeValidator(_account_id_as_string), AfterValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
KmsKeyArn = Annotated[str, AfterValidator(_kms_key_arn)]
EksClusterName = Annotated[str, AfterValidator(_eks_cluster_name)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
DnsSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
UserLabelKey = Annotated[str, AfterValidator(_user_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
SsmPath = Annotated[str, AfterValidator(_ssm_path)]
HelmfileEnvironment = Annotated[str, AfterValidator(_helmfile_environment)]
NonEmpty = Annotated[str, AfterValidator(_non_empty)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True, populate_by_name=True)


class ServiceAccounts(_Model):
    """Names of the Argo CD service accounts (the argo-cd Helm chart defaults)."""

    application_controller: DnsSubdomain = "argocd-application-controller"
    application_set_controller: DnsSubdomain = "argocd-applicationset-controller"
    server: DnsSubdomain = "argocd-server"
    repo_server: DnsSubdomain = "argocd-repo-server"

    @property
    def management(self) -> list[str]:
        """The service accounts that act on spoke clusters through the management role."""
        return [self.application_controller, self.application_set_controller, self.server]


class HubConfig(_Model):
    account_id: AccountId
    region: Region
    cluster_name: EksClusterName
    namespace: DnsLabel = "argocd"
    identity: Literal["irsa", "pod-identity"] = "irsa"
    provisioner_role_arn: RoleArn | None = None
    service_accounts: ServiceAccounts = ServiceAccounts()
    role_name_prefix: Annotated[str, AfterValidator(_role_name_prefix)] = "argocd-fleet"

    @property
    def partition(self) -> str:
        return partition_of(self.region)


class AccountConfig(_Model):
    name: DnsLabel
    account_id: AccountId
    provisioner_role_arn: RoleArn | None = None
    ssm_parameter_paths: list[SsmPath] = Field(min_length=1)
    kms_key_arns: list[KmsKeyArn] = []
    # Regions whose Parameter Store the SSM read role may read; default: the regions of the
    # account's spokes.
    ssm_regions: list[Region] | None = Field(default=None, min_length=1)


class SpokeConfig(_Model):
    name: DnsLabel
    account: str
    region: Region
    cluster_name: EksClusterName
    cluster_access: Literal["aws-auth", "access-entry"] = "aws-auth"
    helmfile_environment: HelmfileEnvironment | None = None
    labels: dict[UserLabelKey, LabelValue] = {}
    # access-entry only: scope the deploy role (and Argo CD) to these namespaces.
    namespaces: list[DnsLabel] = []

    @property
    def helmfile_env(self) -> str:
        return self.helmfile_environment or self.name


class PluginConfig(_Model):
    """The helmfile Config Management Plugin (a sidecar of the repo-server)."""

    # Needs bash, the aws CLI, jq, helm and helmfile (0.155.1 or newer).
    image: Annotated[str, AfterValidator(_image)]
    name: DnsLabel = "helmfile"
    # When set, Applications reference the plugin as <name>-<version> (Argo CD's rule).
    version: Annotated[str, AfterValidator(_plugin_version)] | None = None
    helmfile_args: list[NonEmpty] = []
    # The sidecar's ARGOCD_EXEC_TIMEOUT (Argo CD's default: 90s).
    exec_timeout: Annotated[str, AfterValidator(_duration)] | None = None

    @property
    def reference(self) -> str:
        return f"{self.name}-{self.version}" if self.version else self.name


class ApplicationSetConfig(_Model):
    name: DnsLabel
    repo_url: Annotated[str, AfterValidator(_repo_url)] = Field(alias="repoURL")
    path: Annotated[str, AfterValidator(_repo_path)]
    target_revision: NonEmpty = "HEAD"
    project: DnsSubdomain = "default"
    # matchLabels on the cluster Secrets; the stack label is always added.
    selector: dict[LabelKey, LabelValue] = {}
    namespace: DnsLabel
    sync_policy: Literal["automated", "manual"] = "manual"


class SandboxConfig(_Model):
    """Creates the hub and the one spoke EKS cluster (pulumi-eks) and installs Argo CD, to try the whole topology."""

    instance_type: NonEmpty = "t3.medium"
    node_count: int = Field(default=2, ge=1, le=5)
    kubernetes_version: Annotated[str, AfterValidator(_kubernetes_version)] = "1.33"
    # The argo-cd Helm chart (8.x installs Argo CD 3.x; 2.10 or newer is required).
    argocd_chart_version: NonEmpty = "8.5.0"


class FleetConfig(_Model):
    hub: HubConfig
    accounts: list[AccountConfig] = Field(min_length=1)
    spokes: list[SpokeConfig] = Field(min_length=1)
    plugin: PluginConfig
    application_sets: list[ApplicationSetConfig] = []
    sandbox: SandboxConfig | None = None

    def account(self, name: str) -> AccountConfig:
        return next(account for account in self.accounts if account.name == name)

    def spokes_of(self, account: AccountConfig) -> list[SpokeConfig]:
        return [spoke for spoke in self.spokes if spoke.account == account.name]

    def ssm_regions_of(self, account: AccountConfig) -> list[str]:
        """Regions the SSM read role may read, in a stable order."""
        if account.ssm_regions:
            return list(dict.fromkeys(account.ssm_regions))
        return list(dict.fromkeys(spoke.region for spoke in self.spokes_of(account)))

    def names(self, stack: str) -> FleetNames:
        return FleetNames(stack=stack, prefix_base=self.hub.role_name_prefix)

    def role_arn(self, account_id: str, role_name: str) -> str:
        return policies.role_arn(self.hub.partition, account_id, role_name)

    def cluster_labels(self, spoke: SpokeConfig, stack: str) -> dict[str, str]:
        """The labels of a spoke's Argo CD cluster Secret, which ApplicationSet selectors match."""
        return {
            **spoke.labels,
            CLUSTER_SECRET_TYPE_LABEL: "cluster",
            ACCOUNT_LABEL: spoke.account,
            REGION_LABEL: spoke.region,
            STACK_LABEL: stack,
        }

    def selected_spokes(self, application_set: ApplicationSetConfig, stack: str) -> list[SpokeConfig]:
        return [
            spoke
            for spoke in self.spokes
            if application_set.selector.items() <= self.cluster_labels(spoke, stack).items()
        ]

    def warnings(self, stack: str) -> list[str]:
        """Things that are valid but probably not what the user meant."""
        return [
            f"applicationSets[{index}].selector: matches no spoke of this stack "
            f"({application_set.name} generates no Application until a spoke carries these labels)"
            for index, application_set in enumerate(self.application_sets)
            if not self.selected_spokes(application_set, stack)
        ]


# --- parsing ---------------------------------------------------------------------------------

TOP_LEVEL_KEYS = ("hub", "accounts", "spokes", "plugin", "applicationSets", "sandbox")


def parse_fleet_config(raw: Mapping[str, Any], stack: str) -> FleetConfig:
    """Validate `raw` (top-level key -> value) completely; raise ConfigError listing every problem."""
    problems = [f"{key}: unknown key{_suggestion(key, TOP_LEVEL_KEYS)}" for key in raw if key not in TOP_LEVEL_KEYS]
    known = {key: raw[key] for key in TOP_LEVEL_KEYS if key in raw}
    fleet: FleetConfig | None = None
    try:
        fleet = FleetConfig.model_validate(known)
    except ValidationError as error:
        problems += [_describe(item) for item in error.errors()]
    problems += _cross_checks(raw, stack)
    if fleet is not None and not problems:
        problems += _size_checks(fleet, stack)
    if problems or fleet is None:
        raise ConfigError(problems)
    return fleet


def _size_checks(fleet: FleetConfig, stack: str) -> list[str]:
    """IAM quotas the generated documents must respect, checked before anything is created."""
    problems = []
    hub, names = fleet.hub, fleet.names(stack)
    account_ids = [account.account_id for account in fleet.accounts]
    # The hub's assume policies list every account (with sts:TagSession: the longer, Pod Identity form).
    documents = max(
        (
            policies.assume_fleet_roles_policies(hub.partition, role, account_ids, True, sid)
            for role, sid in (
                (names.deploy_role, policies.ASSUME_DEPLOY_SID),
                (names.ssm_read_role, policies.ASSUME_SSM_READ_SID),
            )
        ),
        key=len,
    )
    if len(documents) > policies.MANAGED_POLICIES_PER_ROLE:
        problems.append(
            f"accounts: {len(account_ids)} accounts need {len(documents)} managed policies on each hub role; "
            f"IAM attaches at most {policies.MANAGED_POLICIES_PER_ROLE}: split the fleet into several stacks"
        )
    budget = int(policies.INLINE_POLICIES_LIMIT * policies.HEADROOM)
    for index, account in enumerate(fleet.accounts):
        regions = fleet.ssm_regions_of(account)
        document = policies.ssm_read_policy(
            hub.partition, account.account_id, regions, account.ssm_parameter_paths, account.kms_key_arns
        )
        if policies.size(document) > budget:
            problems.append(
                f"accounts[{index}].ssmParameterPaths: the SSM read policy would be {policies.size(document)} "
                f"characters ({len(account.ssm_parameter_paths)} paths x {len(regions)} regions); keep it under "
                f"{budget} (IAM allows {policies.INLINE_POLICIES_LIMIT}): use fewer, broader paths"
            )
    return problems


def read_fleet_config() -> FleetConfig:
    """Read every `argocd-fleet:*` key of the running stack and parse it."""
    raw: dict[str, Any] = {}
    for full_key in sorted(_project_config_keys()):
        key = full_key.split(":", 1)[1]
        value = pulumi.runtime.config.get_config(full_key)
        try:
            raw[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raw[key] = value
    fleet = parse_fleet_config(raw, pulumi.get_stack())
    for warning in fleet.warnings(pulumi.get_stack()):
        pulumi.log.warn(warning)
    return fleet


def _project_config_keys() -> set[str]:
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    return {key for key in keys if key.startswith(NAMESPACE + ":")}


def _suggestion(key: str, known: Iterable[str], noun: str = "known keys") -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f'; did you mean "{close[0]}"?' if close else f" ({noun}: {', '.join(sorted(known))})"


def _path(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            continue
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f'["{part}"]'
    return text


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        siblings = _sibling_keys(loc)
        message = "unknown key" + _suggestion(str(loc[-1]), siblings) if siblings else "unknown key"
    elif error["type"] == "missing":
        message = "required"
    elif error["type"] == "too_short":
        message = "must not be empty"
    return f"{_path(loc)}: {message}"


def _sibling_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a model accepts at `loc`'s parent, for did-you-mean hints."""
    model: Any = FleetConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if part in (f.alias, name)), None)
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _items(raw: Mapping[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = raw.get(key)
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(items: list[tuple[int, dict[str, Any]]], field: str, section: str, what: str) -> list[str]:
    counts = Counter(item.get(field) for _, item in items if isinstance(item.get(field), str))
    problems = []
    for index, item in items:
        value = item.get(field)
        if isinstance(value, str) and counts[value] > 1:
            first = next(i for i, other in items if other.get(field) == value)
            if index != first:
                problems.append(f'{section}[{index}].{field}: {what} "{value}" is already used by {section}[{first}]')
    return problems


def _provisioner_account_mismatch(path: str, entry: Mapping[str, Any]) -> list[str]:
    arn, account_id = entry.get("provisionerRoleArn"), entry.get("accountId")
    if not isinstance(arn, str) or not isinstance(account_id, str):
        return []
    match = _ROLE_ARN.fullmatch(arn)
    if match is None or match.group(2) == account_id:
        return []
    return [
        f"{path}.provisionerRoleArn: the role is in account {match.group(2)} but accountId is {account_id}; "
        "the provisioner role must live in the account it provisions"
    ]


def _application_set_checks(raw: Mapping[str, Any], spokes: list[tuple[int, dict[str, Any]]]) -> list[str]:
    application_sets = _items(raw, "applicationSets")
    problems = _duplicates(application_sets, "name", "applicationSets", "ApplicationSet name")
    spoke_names = [spoke["name"] for _, spoke in spokes if isinstance(spoke.get("name"), str)]
    for index, application_set in application_sets:
        name = application_set.get("name")
        if not isinstance(name, str) or not spoke_names:
            continue
        longest = max(spoke_names, key=len)
        if len(f"{name}-{longest}") > APPLICATION_NAME_LIMIT:
            problems.append(
                f'applicationSets[{index}].name: the Application for spoke "{longest}" would be named '
                f'"{name}-{longest}", over {APPLICATION_NAME_LIMIT} characters (Argo CD labels resources with it)'
            )
    return problems


def _sandbox_checks(
    raw: Mapping[str, Any], hub: Mapping[str, Any], spokes: list[tuple[int, dict[str, Any]]]
) -> list[str]:
    """The sandbox builds exactly one spoke, in the hub's region, reached through an access entry."""
    if "sandbox" not in raw:
        return []
    if len(spokes) != 1:
        return [f"sandbox: the sandbox creates one spoke cluster, but spokes lists {len(spokes)}"]
    index, spoke = spokes[0]
    problems = []
    if spoke.get("clusterAccess", "aws-auth") != "access-entry":
        problems.append(
            f"spokes[{index}].clusterAccess: sandbox clusters use EKS access entries (authentication mode API); "
            "set clusterAccess: access-entry"
        )
    if spoke.get("region") != hub.get("region"):
        problems.append(f"spokes[{index}].region: the sandbox spoke must be in the hub's region ({hub.get('region')})")
    if spoke.get("clusterName") == hub.get("clusterName"):
        problems.append(f"spokes[{index}].clusterName: the sandbox creates two clusters; give the spoke its own name")
    return problems


def _cross_checks(raw: Mapping[str, Any], stack: str) -> list[str]:
    """Checks that span several entries; run on the raw values so they report even when an entry is invalid."""
    accounts = _items(raw, "accounts")
    spokes = _items(raw, "spokes")
    problems = _duplicates(accounts, "name", "accounts", "account name")
    problems += _duplicates(accounts, "accountId", "accounts", "account ID")
    problems += _duplicates(spokes, "name", "spokes", "spoke name")

    account_ids = {str(item.get("name")): item.get("accountId") for _, item in accounts}
    seen_clusters: dict[tuple[Any, ...], int] = {}
    for index, spoke in spokes:
        reference = spoke.get("account")
        if isinstance(reference, str) and reference in account_ids:
            cluster = (account_ids[reference], spoke.get("region"), spoke.get("clusterName"))
            if cluster in seen_clusters:
                problems.append(
                    f"spokes[{index}].clusterName: EKS cluster {spoke.get('clusterName')!r} in {spoke.get('region')} "
                    f"is already spokes[{seen_clusters[cluster]}]; one cluster is one Argo CD cluster"
                )
            seen_clusters.setdefault(cluster, index)
        elif isinstance(reference, str):
            hint = _suggestion(reference, account_ids, "accounts")
            problems.append(f'spokes[{index}].account: no account named "{reference}"{hint}')
        if spoke.get("namespaces") and spoke.get("clusterAccess", "aws-auth") != "access-entry":
            problems.append(
                f"spokes[{index}].namespaces: namespace scope needs clusterAccess: access-entry "
                "(an aws-auth mapping is cluster-wide)"
            )

    for index, account in accounts:
        if account.get("name") == "hub":
            problems.append(f'accounts[{index}].name: "hub" is reserved for the hub account; choose another name')

    used = {spoke.get("account") for _, spoke in spokes}
    for index, account in accounts:
        if account.get("name") not in used:
            problems.append(
                f'accounts[{index}]: no spoke uses account "{account.get("name")}"; add a spoke for it or remove it'
            )

    hub: Mapping[str, Any] = raw["hub"] if isinstance(raw.get("hub"), dict) else {}
    problems += _application_set_checks(raw, spokes)
    problems += _sandbox_checks(raw, hub, spokes)
    for path, entry in [("hub", hub)] + [(f"accounts[{index}]", account) for index, account in accounts]:
        problems += _provisioner_account_mismatch(path, entry)
    for index, account in accounts:
        # The hub account as a spoke account shares the hub's provider, hence its provisioner role.
        if account.get("accountId") == hub.get("accountId") and account.get("provisionerRoleArn") != hub.get(
            "provisionerRoleArn"
        ):
            problems.append(
                f"accounts[{index}].provisionerRoleArn: this is the hub account, so it must equal "
                "hub.provisionerRoleArn (Pulumi reaches one account through one provider)"
            )
    prefix = hub.get("roleNamePrefix", "argocd-fleet")
    if isinstance(prefix, str):
        longest = max(FleetNames(stack=stack, prefix_base=prefix).all_role_names(), key=len)
        if len(longest) > IAM_ROLE_NAME_LIMIT:
            problems.append(
                f'hub.roleNamePrefix: role name "{longest}" (prefix "{prefix}" + stack "{stack}") is {len(longest)} '
                f"characters; IAM allows {IAM_ROLE_NAME_LIMIT}: shorten the prefix or the stack name"
            )
    return problems
