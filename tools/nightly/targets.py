"""The nightly's targets: THE one list a target adds itself to.

Each entry names its example stack (stacks/Pulumi.<example>.yaml, the
configuration customers copy), what the machine must provide before a run
can start (credentials, CLIs its kubeconfig calls), and the CI overrides
applied on top of the example: the smallest sizes that still exercise the
same code paths, and a resource-name prefix unique to the run where the
target names resources from a fixed prefix. The overrides common to every
target (protectData off, tags marking the run, the license key) are applied
by `ci_config` for all of them.

The nightly workflow builds its job matrix from this list
(`python -m tools.nightly targets`), so adding a target here adds its job.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tools.nightly.naming import short_name_prefix
from tools.stack_files import ROOT, read_stack_config

LICENSE_KEY_ENV = "MATERIALIZE_LICENSE_KEY"
# Comma-separated CIDRs that may reach the clusters' API servers during a run.
API_CIDRS_ENV = "NIGHTLY_API_ALLOWED_CIDRS"
GCP_PROJECT_ENV = "NIGHTLY_GCP_PROJECT"

Which = Callable[[str], str | None]


@dataclass(frozen=True)
class Requirement:
    """Something the machine must provide before a target's run starts; checked without side effects."""

    what: str
    # Satisfied when any one of these environment variables is set and not empty.
    env_any: tuple[str, ...] = ()
    # Commands that must all be on PATH (auth plugins the kubeconfig calls, the Pulumi CLI).
    commands: tuple[str, ...] = ()
    # A context that must exist in ~/.kube/config (the program never reads $KUBECONFIG implicitly).
    kube_context: str | None = None

    def unmet(self, environ: Mapping[str, str], which: Which, home: Path) -> str | None:
        if self.env_any and not any(environ.get(name) for name in self.env_any):
            return f"{self.what}: set {' or '.join(self.env_any)}"
        missing = [command for command in self.commands if which(command) is None]
        if missing:
            return f"{self.what}: {', '.join(missing)} not on PATH"
        if self.kube_context is not None and self.kube_context not in _kube_contexts(home / ".kube" / "config"):
            return f"{self.what}: no context {self.kube_context!r} in ~/.kube/config"
        return None


def _kube_contexts(path: Path) -> set[str]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return set()
    return {entry["name"] for entry in document.get("contexts") or [] if isinstance(entry, dict) and entry.get("name")}


# Every target needs these.
COMMON_REQUIREMENTS = (
    Requirement("the Pulumi CLI", commands=("pulumi",)),
    Requirement("a Materialize license key", env_any=(LICENSE_KEY_ENV,)),
)

Overrides = Callable[[str, Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Target:
    name: str
    example_stack: str
    requirements: tuple[Requirement, ...]
    # (stack name, environment) -> config keys deep-merged over the example's.
    overrides: Overrides
    # Merged into every instance of the example.
    instance_overrides: Mapping[str, Any] = field(default_factory=dict)
    # Where the cluster's kubeconfig comes from: the `kubeconfig` stack output
    # (clouds, whose cluster the stack creates) or the stack's own config (local).
    kubeconfig_from: Literal["output", "config"] = "output"
    # False when everything the stack creates lives in a cluster that dies
    # with the CI machine (kind): the sweep may then drop the state alone.
    resources_outlive_runner: bool = True

    def unmet(
        self, environ: Mapping[str, str] | None = None, which: Which = shutil.which, home: Path | None = None
    ) -> list[str]:
        environ = os.environ if environ is None else environ
        home = Path.home() if home is None else home
        checks = (*COMMON_REQUIREMENTS, *self.requirements)
        return [problem for check in checks if (problem := check.unmet(environ, which, home)) is not None]


def _api_cidrs(environ: Mapping[str, str], default: list[str]) -> list[str]:
    given = [cidr.strip() for cidr in environ.get(API_CIDRS_ENV, "").split(",") if cidr.strip()]
    return given or default


# Hosted CI runners' egress addresses are not known ahead of a run, so unless
# NIGHTLY_API_ALLOWED_CIDRS narrows it, the throwaway clusters' API endpoints
# accept any source address; every request still needs the run's cloud identity.
_ANY_ADDRESS = ["0.0.0.0/0"]
# Small but real: one balancerd and one console pod per instance.
_ONE_REPLICA_EACH = {"balancerdReplicas": 1, "consoleReplicas": 1}


def _aws(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        "aws": {
            "apiAllowedCidrs": _api_cidrs(environ, _ANY_ADDRESS),
            # Two zones are the fewest EKS and RDS subnet groups accept; one NAT gateway suffices for a night.
            "zoneCount": 2,
            "natGateways": "single",
            # The smallest Graviton type with local NVMe, so swap is still exercised.
            "materializeInstanceType": "r7gd.xlarge",
            "postgresInstanceClass": "db.t4g.small",
            # An unversioned bucket empties and deletes in one pass at destroy.
            "bucketVersioning": False,
            "logRetentionDays": 1,
            # A throwaway database: no final snapshot, no retained backups (they would outlive the run).
            "keepBackupsOnDelete": False,
        }
    }


def _gcp(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        "gcp": {
            "project": environ.get(GCP_PROJECT_ENV, ""),
            "namePrefix": short_name_prefix(stack),
            "apiAllowedCidrs": _api_cidrs(environ, _ANY_ADDRESS),
            "systemMaxNodes": 2,
            # The smallest Axion shape with a bundled local SSD (swap).
            "materializeMachineType": "c4a-highmem-4-lssd",
            "materializeMaxNodes": 2,
            "postgresTier": "db-custom-1-3840",
        }
    }


def _azure(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        "azure": {
            "namePrefix": short_name_prefix(stack),
            # Empty means any address (see _ANY_ADDRESS for why).
            "apiServerAuthorizedRanges": _api_cidrs(environ, []),
            "systemVmSize": "Standard_D2pds_v6",
            "systemMinNodes": 1,
            "systemMaxNodes": 2,
            # The smallest memory-optimized Cobalt size with a local NVMe disk (swap).
            "materializeVmSize": "Standard_E2pds_v6",
            "materializeMaxNodes": 2,
            "postgresSku": "Standard_B1ms",
            "postgresStorageGb": 32,
        }
    }


def _local(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    # The example is already sized for a 4-CPU, 16 GiB machine.
    return {}


TARGETS: tuple[Target, ...] = (
    Target(
        name="aws",
        example_stack="aws",
        requirements=(
            Requirement("AWS credentials", env_any=("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")),
            # The EKS kubeconfig runs `aws eks get-token`.
            Requirement("the AWS CLI", commands=("aws",)),
        ),
        overrides=_aws,
        instance_overrides=_ONE_REPLICA_EACH,
    ),
    Target(
        name="gcp",
        example_stack="gcp",
        requirements=(
            Requirement(
                "Google Cloud credentials",
                env_any=("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"),
            ),
            Requirement("the GCP project to run in", env_any=(GCP_PROJECT_ENV,)),
            Requirement("gcloud and the GKE auth plugin", commands=("gcloud", "gke-gcloud-auth-plugin")),
        ),
        overrides=_gcp,
        instance_overrides=_ONE_REPLICA_EACH,
    ),
    Target(
        name="azure",
        example_stack="azure",
        requirements=(
            # azure-native reads the subscription from it; the Azure CLI sign-in provides the identity.
            Requirement("the Azure subscription", env_any=("ARM_SUBSCRIPTION_ID",)),
            Requirement("the Azure CLI and kubelogin", commands=("az", "kubelogin")),
        ),
        overrides=_azure,
        instance_overrides=_ONE_REPLICA_EACH,
    ),
    Target(
        name="local",
        example_stack="local",
        requirements=(Requirement("a kind cluster named materialize", kube_context="kind-materialize"),),
        overrides=_local,
        kubeconfig_from="config",
        resources_outlive_runner=False,
    ),
)


def target_named(name: str) -> Target:
    for target in TARGETS:
        if target.name == name:
            return target
    raise KeyError(f"no nightly target {name!r}; targets: {', '.join(t.name for t in TARGETS)}")


def select_targets(names: str | None) -> list[Target]:
    """The targets a comma-separated list names (all of them for None or empty), in list order."""
    if not names or not names.strip():
        return list(TARGETS)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    for name in wanted:
        target_named(name)  # an unknown name is an error, not silently nothing
    return [target for target in TARGETS if target.name in wanted]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`; nested mappings merge, anything else (lists included) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class CiConfig:
    # Keys without the project prefix, values as the program reads them (objects as objects).
    values: dict[str, Any]
    secret_keys: frozenset[str]


def ci_config(
    target: Target, stack: str, run_id: str, environ: Mapping[str, str] | None = None, root: Path = ROOT
) -> CiConfig:
    """The target's example stack with the CI overrides on top: what the run's stack is configured with."""
    environ = os.environ if environ is None else environ
    example = read_stack_config(target.example_stack, root)
    unreadable = sorted(example.encrypted - {"licenseKey"})
    if unreadable:
        # Encrypted with the example author's key; a CI stack cannot decrypt them.
        raise ValueError(f"stacks/Pulumi.{target.example_stack}.yaml: encrypted values: {', '.join(unreadable)}")
    values = deep_merge(example.values, target.overrides(stack, environ))
    instances = values.get("instances") or [{"name": "main"}]
    values["instances"] = [deep_merge(instance, target.instance_overrides) for instance in instances]
    values["protectData"] = False
    # The examples' `environment: production` would mislabel a throwaway stack in cost reports.
    marks = {"environment": "nightly", "nightly-run": run_id, "nightly-stack": stack}
    values["tags"] = {**(values.get("tags") or {}), **marks}
    values["licenseKey"] = environ.get(LICENSE_KEY_ENV, "")
    return CiConfig(values=values, secret_keys=frozenset({"licenseKey"}))
