#!/usr/bin/env bash
# Materialize on a laptop cluster, from a fresh checkout, in one command:
#
#   scripts/local-up.sh
#
# Cluster: the context named by KUBE_CONTEXT (in $KUBECONFIG if set, else
# ~/.kube/config); with neither set, a kind cluster named "materialize",
# created when missing (needs kind and a running docker).
# License key: MATERIALIZE_LICENSE_KEY, or asked for once.
# State: a file backend in .pulumi-state/ of this checkout (git-ignored).
# Holds the stack to the policy pack in policy/ (README, Policy pack).
# Needs: python3, the pulumi CLI. See docs/local.md.
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"
stack=local
kind_cluster=materialize

fail() {
  echo "local-up: $*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is required but not installed; see $2"
}

need python3 https://www.python.org/downloads/
need pulumi https://www.pulumi.com/docs/iac/download-install/

[ -x venv/bin/python ] || python3 -m venv venv
venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
# The policy pack's own virtualenv (policy/PulumiPolicy.yaml names it); the
# CLI does not make it for a pack given by path.
[ -x policy/venv/bin/python ] || python3 -m venv policy/venv
policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt

kubeconfig="${KUBECONFIG:-}"
context="${KUBE_CONTEXT:-}"
case "$kubeconfig" in
  *:*) fail "KUBECONFIG lists several files; point it at one, or merge them first" ;;
esac
if [ -n "$kubeconfig" ] && [ -z "$context" ]; then
  # The kubeconfig's current context can change under a later `pulumi up`.
  fail "KUBECONFIG is set: also set KUBE_CONTEXT to the context to install into (kubectl config get-contexts)"
fi
if [ -z "$context" ]; then
  need kind https://kind.sigs.k8s.io/docs/user/quick-start/#installation
  need docker https://docs.docker.com/get-started/get-docker/
  docker info >/dev/null 2>&1 || fail "docker is installed but not running (or this user may not use it)"
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
