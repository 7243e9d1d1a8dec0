"""Settings of the local target (in-cluster Postgres and object store)."""

from __future__ import annotations

from pydantic import (
    Field,
)

from components.settings.base import Quantity, StrictModel


class LocalSettings(StrictModel):
    """The local target's in-cluster Postgres and object store."""

    storage_class: str | None = Field(
        default=None,
        alias="storageClass",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="StorageClass of the Postgres and object-store volumes; default the cluster's default class.",
    )
    postgres_storage: Quantity = Field(
        default="10Gi", alias="postgresStorage", description="Size of the Postgres volume."
    )
    object_store_storage: Quantity = Field(
        default="20Gi", alias="objectStoreStorage", description="Size of the object-store (persist) volume."
    )
