"""Volumes on EKS: the EBS CSI driver add-on and a gp3 default StorageClass.

Anything that claims a PersistentVolume (Prometheus in the monitoring stack)
needs both: EKS ships no EBS CSI driver unless it is installed
(https://docs.aws.amazon.com/eks/latest/userguide/add-ons-aws-ebs-csi-driver.html),
and from Kubernetes 1.30 EKS no longer marks its gp2 class as the cluster
default, so a claim without a class stays Pending
(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-extended.html,
"Kubernetes 1.30").

The driver's controller tolerates only CriticalAddonsOnly and NoExecute taints
(kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/values.yaml at
006340ee8d4382dff0541fa56944b6e00226cc5e, `controller.tolerations`), so the
Materialize nodes' NoSchedule taint keeps it on the system nodes: the add-on
waits for the system node group alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.targets.aws.cluster import Cluster, ClusterArgs
from components.targets.aws.volume_cleanup import CLUSTER_TAG, NAMESPACE_TAG

ADDON = "aws-ebs-csi-driver"
# The controller's service account as the add-on creates it (the chart's
# `controller.serviceAccount.name`, same values.yaml as above); the IRSA role
# trusts it alone.
CONTROLLER_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
# AWS's managed policy for the driver, under service-role/ (the add-on page above).
DRIVER_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
# The controller's tolerations as the add-on ships them (the chart's
# `controller.tolerations`, same values.yaml): none matches a NoSchedule taint
# other than CriticalAddonsOnly, which is what keeps it on the system nodes.
CONTROLLER_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "CriticalAddonsOnly", "operator": "Exists"},
    {"operator": "Exists", "effect": "NoExecute"},
)
STORAGE_CLASS = "gp3"
PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class BlockStorageArgs:
    cluster: Cluster
    cluster_args: ClusterArgs
    # The system node group: the controller runs there (see the module docstring).
    node_group: pulumi.Resource


class BlockStorage(pulumi.ComponentResource):
    addon: aws.eks.Addon
    storage_class: k8s.storage.v1.StorageClass
    # The class's name, for claims that name it.
    class_name: str

    def __init__(self, name: str, args: BlockStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:BlockStorage", name, None, opts)
        cluster, cluster_args = args.cluster, args.cluster_args
        role, policy = cluster.service_account_role(
            f"{name}-ebs-csi",
            cluster_args,
            CONTROLLER_SERVICE_ACCOUNT,
            managed_policy=DRIVER_POLICY,
            purpose="ebs-csi",
            description=f"EBS CSI driver of EKS cluster {cluster_args.cluster_name}",
            parent=self,
        )
        self.addon = cluster.addon(
            name,
            cluster_args,
            ADDON,
            role_arn=role.arn,
            # Without its policy the controller's first CreateVolume is refused.
            depends_on=[args.node_group, policy],
            parent=self,
        )
        self.class_name = STORAGE_CLASS
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            k8s.storage.v1.StorageClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS, annotations={DEFAULT_CLASS_ANNOTATION: "true"}),
                provisioner=PROVISIONER,
                # Parameter names and values: kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md
                # at 038816d93ba53f2bdd7f1af77bd1ae352b588267 (encryption is off unless asked for).
                # The tags let the destroy-time cleanup find monitoring's volumes
                # (volume_cleanup.py); `tagSpecification_*` and the claim-namespace
                # template: docs/tagging.md at 429e202e (the template needs the
                # provisioner's extra-create-metadata, on in the chart's values.yaml,
                # `controller.extraCreateMetadata`, same commit).
                parameters={
                    "type": "gp3",
                    "encrypted": "true",
                    "tagSpecification_1": f"{CLUSTER_TAG}={cluster_args.cluster_name}",
                    "tagSpecification_2": f"{NAMESPACE_TAG}={{{{ .PVCNamespace }}}}",
                },
                # An EBS volume lives in one zone: bind when the pod is scheduled, in its zone.
                volume_binding_mode="WaitForFirstConsumer",
                allow_volume_expansion=True,
                # Delete: what lands here is monitoring data, rebuilt by scraping,
                # never customer data (that is in S3 and RDS); Retain would leave
                # billed volumes behind every released claim.
                reclaim_policy="Delete",
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=cluster.provider,
                depends_on=[self.addon],
                # Gone with the cluster: nothing to clean up one object at a time.
                deleted_with=cluster.eks,
            ),
        )
        self.register_outputs({"storageClass": STORAGE_CLASS})
