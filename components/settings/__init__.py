"""The one validated settings model for a whole stack.

Every value a stack can set is declared in this package (and in Pulumi.yaml,
kept in step by a test): `model.Settings` with its parts (`instance`,
`placement`) and one module per target's own settings, imported only on a
stack of that target (`target_sections`). `loading` turns raw
Pulumi config into `Settings` or into one clean error, before any resource is
registered.
"""

from components.persist_url import INSTANCE_PLACEHOLDER
from components.settings.base import CLOUD_TARGETS, PROJECT, StrictModel
from components.settings.instance import Exposure, InstanceSettings, Resources
from components.settings.loading import SECRET_KEYS, load_settings, pulumi_config_type, read_pulumi_config
from components.settings.model import CertManagerSettings, Settings
from components.settings.placement import NodePlacement, Placement, Toleration

__all__ = [
    "CLOUD_TARGETS",
    "INSTANCE_PLACEHOLDER",
    "PROJECT",
    "SECRET_KEYS",
    "CertManagerSettings",
    "Exposure",
    "InstanceSettings",
    "NodePlacement",
    "Placement",
    "Resources",
    "Settings",
    "StrictModel",
    "Toleration",
    "load_settings",
    "pulumi_config_type",
    "read_pulumi_config",
]
