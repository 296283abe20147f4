#!/usr/bin/env bash
# Argo CD CMP "generate" step for helmfile: assume the spoke account's SSM read role, then render.
#
# Inputs (Application plugin.env entries reach us with the ARGOCD_ENV_ prefix):
#   ARGOCD_ENV_REPO_SERVER_IAM_ROLE_ARN  required  role to assume in the spoke account
#   ARGOCD_ENV_HELMFILE_ENV              required  helmfile --environment
#   ARGOCD_ENV_AWS_REGION                optional  spoke region (SSM parameters are regional)
#   ARGOCD_APP_NAME                      optional  set by Argo CD; becomes the STS session name
#   "$@"                                 extra helmfile arguments
#
# On ANY failure: non-zero exit, the reason on stderr and NOTHING on stdout. An empty or partial
# manifest stream would let Argo CD (with auto-prune) delete what the Application owns.
# Credentials live only in this process's memory and environment: never on disk, in argv or output.
# Tested for real in tests/test_helmfile_generate_script.py.

# Tracing would print the credentials below, so switch it off before anything else.
set +xv
set -euo pipefail
# Files helmfile writes (rendered values hold the spoke's secrets) stay private to this user.
umask 077

readonly PROG=helmfile-generate
# STS caps chained sessions (IRSA / Pod Identity, then AssumeRole) at one hour; one render needs
# far less, so hand out the shortest lifetime STS allows.
readonly SESSION_SECONDS=900
readonly SESSION_NAME_MAX=64
readonly ROLE_ARN_RE='^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/([A-Za-z0-9+=,.@_-]+/)*([A-Za-z0-9+=,.@_-]{1,64})$'
readonly HELMFILE_ENV_RE='^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'
readonly REGION_RE='^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$'

fail() { # fail STATUS MESSAGE...: report on stderr and exit; stdout stays empty
  local status="$1"
  shift
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit "$status"
}

die() { fail 1 "$@"; }

matches() { # matches VALUE REGEX, in the C locale so that [a-z] means ASCII whatever the pod's locale
  local LC_ALL=C
  # The right-hand side stays unquoted: quoted, bash would match it as a literal string.
  [[ "$1" =~ $2 ]]
}

require() { # require NAME REGEX WHAT: the variable NAME must be set and match REGEX
  local name="$1" regex="$2" what="$3" shown
  if [[ -z "${!name+set}" ]]; then
    die "$name is not set; set ${name#ARGOCD_ENV_} in the Application's plugin.env"
  fi
  if [[ -z "${!name}" ]]; then
    die "$name is empty; set ${name#ARGOCD_ENV_} in the Application's plugin.env"
  fi
  if ! matches "${!name}" "$regex"; then
    printf -v shown '%q' "${!name}"
    die "$name is not $what: $shown"
  fi
}

session_name() { # argocd-<app name> with characters STS refuses replaced, cut to the STS limit
  local LC_ALL=C app="${ARGOCD_APP_NAME:-}" name
  if [[ -z "$app" ]]; then
    printf '%s' argocd-repo-server
    return
  fi
  name="argocd-${app//[^A-Za-z0-9+=,.@_-]/-}"
  printf '%s' "${name:0:SESSION_NAME_MAX}"
}

aws_json() { # the aws CLI, JSON on stdout; fail fast instead of hanging until Argo CD's timeout
  # An empty AWS_PAGER keeps CLI v2 from piping output through a pager (v1 ignores it).
  AWS_PAGER='' aws "$@" --output json --cli-connect-timeout 10 --cli-read-timeout 30
}

json_field() { # json_field JSON FILTER: the filter's value, empty when absent or null (no here-strings:
  # bash may back them with temporary files, and this JSON holds credentials)
  printf '%s' "$1" | jq -r "$2 // empty"
}

# --- Inputs -----------------------------------------------------------------------------------

require ARGOCD_ENV_REPO_SERVER_IAM_ROLE_ARN "$ROLE_ARN_RE" "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
role_arn="$ARGOCD_ENV_REPO_SERVER_IAM_ROLE_ARN"
# Capture the ARN's parts now: the next regex match overwrites BASH_REMATCH.
partition="${BASH_REMATCH[1]}"
account="${BASH_REMATCH[2]}"
role_name="${BASH_REMATCH[4]}"

require ARGOCD_ENV_HELMFILE_ENV "$HELMFILE_ENV_RE" "a helmfile environment name"
helmfile_env="$ARGOCD_ENV_HELMFILE_ENV"

if [[ -n "${ARGOCD_ENV_AWS_REGION+set}" ]]; then
  require ARGOCD_ENV_AWS_REGION "$REGION_RE" "an AWS region"
  # The spoke's region, for STS and for helmfile/vals (SSM parameters are regional).
  export AWS_REGION="$ARGOCD_ENV_AWS_REGION" AWS_DEFAULT_REGION="$ARGOCD_ENV_AWS_REGION"
elif [[ -n "${AWS_REGION:-}" ]]; then
  # The aws CLI v1 reads only AWS_DEFAULT_REGION, Go SDKs prefer AWS_REGION: make them agree.
  export AWS_DEFAULT_REGION="$AWS_REGION"
elif [[ -n "${AWS_DEFAULT_REGION:-}" ]]; then
  export AWS_REGION="$AWS_DEFAULT_REGION"
fi

session="$(session_name)"

# --- Assume the spoke role with the sidecar's own identity (IRSA / Pod Identity) -----------------

if ! response="$(aws_json sts assume-role --role-arn "$role_arn" --role-session-name "$session" \
  --duration-seconds "$SESSION_SECONDS")"; then
  die "sts assume-role of $role_arn failed (see above); not rendering with the repo-server's own identity"
fi
access_key_id="$(json_field "$response" .Credentials.AccessKeyId)" || die "sts assume-role returned unreadable JSON"
secret_access_key="$(json_field "$response" .Credentials.SecretAccessKey)" || die "sts assume-role returned unreadable JSON"
session_token="$(json_field "$response" .Credentials.SessionToken)" || die "sts assume-role returned unreadable JSON"
unset response
[[ -n "$access_key_id" ]] || die "sts assume-role of $role_arn returned no Credentials.AccessKeyId"
[[ -n "$secret_access_key" ]] || die "sts assume-role of $role_arn returned no Credentials.SecretAccessKey"
[[ -n "$session_token" ]] || die "sts assume-role of $role_arn returned no Credentials.SessionToken"

# --- From here on the spoke credentials are the only ones anything can find --------------------

# Drop every other source the aws CLI or the Go SDK (helmfile/vals) could fall back to, above all
# the repo-server's IRSA / Pod Identity: it would silently read the HUB account's parameters of the
# same name. AWS_ENDPOINT_URL* and AWS_STS_REGIONAL_ENDPOINTS stay (VPC endpoints).
unset AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_SESSION_NAME \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
  AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_CREDENTIAL_FILE \
  AWS_SECURITY_TOKEN AWS_ACCESS_KEY AWS_SECRET_KEY \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
# No profile files and no instance metadata (the node's role) either.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID="$access_key_id" AWS_SECRET_ACCESS_KEY="$secret_access_key" AWS_SESSION_TOKEN="$session_token"
unset access_key_id secret_access_key session_token

# Prove who we are before reading a single parameter: the spoke account, as exactly that role.
identity="$(aws_json sts get-caller-identity)" || die "sts get-caller-identity with the assumed credentials failed"
actual_account="$(json_field "$identity" .Account)" || die "sts get-caller-identity returned unreadable JSON"
actual_arn="$(json_field "$identity" .Arn)" || die "sts get-caller-identity returned unreadable JSON"
if [[ "$actual_account" != "$account" ]]; then
  die "assumed credentials belong to account ${actual_account:-<none>}, expected account $account" \
    "(from $role_arn); not rendering"
fi
expected_arn="arn:$partition:sts::$account:assumed-role/$role_name/$session"
if [[ "$actual_arn" != "$expected_arn" ]]; then
  die "assumed identity is ${actual_arn:-<none>}, expected $expected_arn; not rendering"
fi

# --- Render ---------------------------------------------------------------------------------------

# Hold the whole render in memory: a failure half-way must not leave a partial stream on stdout.
status=0
manifests="$(helmfile -q --environment "$helmfile_env" template --include-crds --skip-tests "$@")" || status="$?"
if [[ "$status" != 0 ]]; then
  fail "$status" "helmfile template failed (exit $status); printing nothing so Argo CD applies nothing"
fi

# A render without a single document would make Argo CD prune everything the Application owns.
# grep -c reads all its input (unlike -q, which would SIGPIPE printf and trip pipefail).
content_lines="$(printf '%s\n' "$manifests" | grep -cEv '^[[:space:]]*(#.*)?$|^(---|\.\.\.)[[:space:]]*(#.*)?$' || true)"
if [[ "${content_lines:-0}" == 0 ]]; then
  die "helmfile template rendered no manifests for environment $helmfile_env; refusing an empty render" \
    "(Argo CD would prune everything the Application owns)"
fi

printf '%s\n' "$manifests"
