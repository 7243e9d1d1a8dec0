"""One instance's blob access: its own container, its own identity, and a
role on that container alone.

The identity trusts exactly one Kubernetes service account, the one the
operator creates for the instance (named after it, in its namespace), through
the cluster's OIDC issuer; the pod label and service-account annotation in
`BlobAccess` make Azure's workload-identity webhook hand the pods its token.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.contract import BlobAccess, InstanceIdentity
from components.persist_url import azure_persist_url
from components.targets.azure.home import Home
from components.targets.azure.names import STORAGE_BLOB_DATA_CONTRIBUTOR, TOKEN_EXCHANGE_AUDIENCE, instance_container
from components.targets.azure.roles import Grant, assign_role
from components.targets.azure.storage import BlobStorage

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"


def service_account_subject(instance: InstanceIdentity) -> str:
    return f"system:serviceaccount:{instance.namespace}:{instance.name}"


@dataclass(frozen=True)
class InstanceAccessArgs:
    home: Home
    storage: BlobStorage
    instance: InstanceIdentity
    oidc_issuer_url: pulumi.Input[str]


class InstanceBlobAccess(pulumi.ComponentResource):
    access: BlobAccess

    def __init__(self, name: str, args: InstanceAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:azure:InstanceBlobAccess", name, None, opts)
        home, storage, instance = args.home, args.storage, args.instance
        child = pulumi.ResourceOptions(parent=self)
        container_name = instance_container(instance.name)

        container = azure.storage.BlobContainer(
            f"{name}-container",
            container_name=container_name,
            account_name=storage.account_name,
            resource_group_name=home.resource_group,
            public_access=azure.storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=self, protect=storage.protect),
        )
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=home.names.of(f"{instance.name}-identity"),
            resource_group_name=home.resource_group,
            location=home.location,
            tags=home.tagged(),
            opts=child,
        )
        credential = azure.managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            federated_identity_credential_resource_name=f"{instance.namespace}-{instance.name}",
            resource_name_=identity.name,
            resource_group_name=home.resource_group,
            issuer=args.oidc_issuer_url,
            subject=service_account_subject(instance),
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=child,
        )
        role = assign_role(
            f"{name}-role",
            home,
            Grant(
                scope=container.id,
                role=STORAGE_BLOB_DATA_CONTRIBUTOR,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                description=f"Materialize instance {instance.namespace}/{instance.name}: its own persist container",
            ),
            child,
        )
        url = storage.account_name.apply(lambda account: azure_persist_url(account, container_name))
        self.access = BlobAccess(
            # No credentials (and no SAS query): the pods authenticate as the identity.
            persist_url=url,
            service_account_annotations={CLIENT_ID_ANNOTATION: identity.client_id},
            pod_labels={USE_LABEL: "true"},
            ready=(container, credential, role),
        )
        self.register_outputs({"container": container_name, "clientId": identity.client_id})
