#!/usr/bin/env bash
# Materialize on a laptop cluster, from a fresh checkout, in one command:
#
#   scripts/local-up.sh           # check, then bring it up
#   scripts/local-up.sh --check   # only check what this machine is missing
#
# Cluster: the context named by KUBE_CONTEXT (in $KUBECONFIG if set, else
# ~/.kube/config); with neither set, a kind cluster named "materialize",
# created when missing (needs kind and a running docker).
# Stack: your own, `user-local` (LOCAL_STACK to choose another `user-*`
# name), made from the example stacks/Pulumi.local.yaml on the first run.
# Its file, stacks/Pulumi.user-*.yaml, holds your license key (encrypted)
# and your context, and git ignores it: nothing of yours lands in a commit.
# License key: MATERIALIZE_LICENSE_KEY, or asked for once.
# State: a file backend in .pulumi-state/ of this checkout (git-ignored).
# Holds the stack to the policy pack in policy/ (README, Policy pack).
# A second run installs nothing that has not changed. See docs/local.md.
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"
stack="${LOCAL_STACK:-user-local}"
kind_cluster=materialize
min_cpus=4
min_memory_gib=13 # what the cluster must get of a 16 GiB machine (docs/local.md)

fail() {
  echo "local-up: $*" >&2
  exit 1
}

check_only=false
case "${1:-}" in
  "") ;;
  --check) check_only=true ;;
  *) fail "unknown argument $1; usage: scripts/local-up.sh [--check]" ;;
esac

# Every problem is collected first and named in one message, before anything
# is installed or created.
problems=()
missing() {
  command -v "$1" >/dev/null 2>&1 && return 1
  problems+=("$1 is not installed: see $2")
}

case "$stack" in
  user-*) ;;
  *) problems+=("LOCAL_STACK=$stack: your own stack's name starts with user- (git ignores stacks/Pulumi.user-*.yaml)") ;;
esac
if ! missing python3 https://www.python.org/downloads/; then
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    problems+=("python3 is $(python3 -c 'import platform; print(platform.python_version())'); 3.11 or newer is needed")
fi
missing pulumi https://www.pulumi.com/docs/iac/download-install/ || true

kubeconfig="${KUBECONFIG:-}"
context="${KUBE_CONTEXT:-}"
case "$kubeconfig" in
  *:*) problems+=("KUBECONFIG lists several files; point it at one, or merge them first") ;;
esac
if [ -n "$kubeconfig" ] && [ -z "$context" ]; then
  # The kubeconfig's current context can change under a later `pulumi up`.
  problems+=("KUBECONFIG is set: also set KUBE_CONTEXT to the context to install into (kubectl config get-contexts)")
fi
if [ -z "$context" ]; then
  missing kind https://kind.sigs.k8s.io/docs/user/quick-start/#installation || true
  if ! missing docker https://docs.docker.com/get-started/get-docker/; then
    if resources="$(docker info --format '{{.NCPU}} {{.MemTotal}}' 2>/dev/null)"; then
      read -r cpus memory <<<"$resources"
      [ "${cpus:-0}" -ge "$min_cpus" ] ||
        problems+=("docker has $cpus CPUs; Materialize's local stack needs $min_cpus (raise them in your Docker settings)")
      memory_gib=$((${memory:-0} / 1024 / 1024 / 1024))
      [ "$memory_gib" -ge "$min_memory_gib" ] ||
        problems+=("docker has ${memory_gib} GiB of memory; at least ${min_memory_gib} GiB are needed (raise it in your Docker settings)")
    else
      problems+=("docker is installed but not running (or this user may not use it)")
    fi
  fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
  {
    echo "local-up: this machine is not ready:"
    printf '  - %s\n' "${problems[@]}"
  } >&2
  exit 1
fi
if $check_only; then
  echo "local-up: ready (stack $stack)"
  exit 0
fi

# Install a requirements file into a venv once per content: a second run with
# the same pins installs nothing.
install_requirements() {
  local venv="$1" requirements="$2" stamp digest
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  stamp="$venv/.installed-requirements.sha256"
  digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" >"$stamp"
  fi
}
install_requirements venv requirements.txt
# The policy pack's own virtualenv (policy/PulumiPolicy.yaml names it); the
# CLI does not make it for a pack given by path.
install_requirements policy/venv policy/requirements.txt

if [ -z "$context" ]; then
  if ! kind get clusters 2>/dev/null | grep -qx "$kind_cluster"; then
    kind create cluster --name "$kind_cluster"
  fi
  context="kind-$kind_cluster"
fi

# An empty passphrase, unless you give one, and only for this stack: its
# state stays in this checkout and its secrets are credentials of a laptop
# cluster. Any shared stack needs a real passphrase or a managed backend.
if [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
fi

stack_file="stacks/Pulumi.$stack.yaml"
if [ ! -f "$stack_file" ]; then
  # Your stack starts as the example; from now on it is yours to change.
  cp stacks/Pulumi.local.yaml "$stack_file"
  echo "local-up: created $stack_file from the example stacks/Pulumi.local.yaml (git ignores it)"
fi

mkdir -p .pulumi-state
pulumi login "file://$repo/.pulumi-state"
pulumi stack select --create "$stack"

pulumi config set --stack "$stack" kubeContext "$context"
if [ -n "$kubeconfig" ]; then
  pulumi config set --stack "$stack" kubeconfig "$kubeconfig"
fi

if ! pulumi config get --stack "$stack" licenseKey >/dev/null 2>&1; then
  key="${MATERIALIZE_LICENSE_KEY:-}"
  if [ -z "$key" ]; then
    [ -t 0 ] || fail "no license key: set MATERIALIZE_LICENSE_KEY or run this in a terminal"
    read -r -s -p "Materialize license key: " key
    echo
  fi
  [ -n "$key" ] || fail "the license key is empty"
  # On stdin, so the key never shows in the process list.
  printf '%s' "$key" | pulumi config set --stack "$stack" --secret licenseKey
  unset key
fi

pulumi up --yes --stack "$stack" --policy-pack policy
