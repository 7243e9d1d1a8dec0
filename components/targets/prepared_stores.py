"""Metadata and blob stores whose per-instance pieces a target made up front.

Targets that create one database (or one container and identity) per instance
while they build hand the data plane a lookup by instance name.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.contract import BlobAccess, InstanceIdentity, MetadataDatabase


class PreparedMetadataStore:
    def __init__(self, target: str, databases: Mapping[str, MetadataDatabase]) -> None:
        self._target = target
        self._databases = dict(databases)

    def database_for(self, instance: InstanceIdentity) -> MetadataDatabase:
        database = self._databases.get(instance.name)
        if database is None:
            raise KeyError(f"the {self._target} target made no database for instance {instance.name!r}")
        return database


class PreparedBlobStore:
    def __init__(self, target: str, access: Mapping[str, BlobAccess]) -> None:
        self._target = target
        self._access = dict(access)

    def access_for(self, instance: InstanceIdentity) -> BlobAccess:
        access = self._access.get(instance.name)
        if access is None:
            raise KeyError(f"the {self._target} target made no blob access for instance {instance.name!r}")
        return access
