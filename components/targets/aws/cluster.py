"""The EKS control plane and what it must have before any node joins.

- access entries (API authentication mode): the principal that runs pulumi,
  and any configured admins, get the cluster-admin access policy; no aws-auth
  ConfigMap, no implicit creator rights;
- the public endpoint only for an allowlist, the private one always on;
- Kubernetes Secrets envelope-encrypted with a KMS key of its own;
- control-plane logs (all five types by default) in a log group created
  first, so it has a retention, and kept at destroy (see _log_group);
- standard support only by default: extended support bills extra, silently;
- deletion protection with `protectData`;
- the OIDC provider IRSA roles trust;
- the add-ons nodes need to become Ready (VPC CNI with its own IRSA role,
  kube-proxy); CoreDNS needs nodes to run on and comes later (addons.py);
- the explicit Kubernetes provider, from an exec-based kubeconfig.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.settings.aws import AwsSettings
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import STS_AUDIENCE, document, irsa_trust_policy, service_trust_policy
from components.targets.aws.kubeconfig import exec_kubeconfig
from components.targets.aws.log_groups import kept_log_group

CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VPC_CNI_SERVICE_ACCOUNT = ("kube-system", "aws-node")


@dataclass(frozen=True)
class ClusterArgs:
    context: AwsContext
    settings: AwsSettings
    cluster_name: str
    subnet_ids: Sequence[pulumi.Input[str]]
    # The principal running pulumi (an IAM role or user ARN, never an STS session).
    deployer_arn: str
    protect: bool
    # Turn on the VPC CNI's network-policy agent: without it EKS accepts
    # NetworkPolicies and enforces none of them.
    enforce_network_policies: bool = False
    # The customer-managed key of the log groups (logEncryption: kms), else None.
    logs_key_arn: pulumi.Input[str] | None = None


class Cluster(pulumi.ComponentResource):
    eks: aws.eks.Cluster
    name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    # The admins' access entries and policy associations.
    access: list[pulumi.Resource]
    # Add-ons nodes need to turn Ready; node groups wait for them.
    node_prerequisites: list[pulumi.Resource]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:Cluster", name, None, opts)
        context, settings, cluster_name = args.context, args.settings, args.cluster_name
        options = context.options(self)

        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes Secrets in EKS cluster {cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=context.tagged(f"{cluster_name}-secrets"),
            opts=options,
        )
        aws.kms.Alias(
            f"{name}-secrets-key", name=f"alias/{cluster_name}-eks-secrets", target_key_id=key.key_id, opts=options
        )

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=service_trust_policy("eks.amazonaws.com"),
            description=f"EKS control plane of {cluster_name}",
            tags=context.tagged(f"{cluster_name}-control-plane"),
            opts=options,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-role-cluster-policy",
            role=role.name,
            policy_arn=context.managed_policy("AmazonEKSClusterPolicy"),
            opts=options,
        )
        key_use = aws.iam.RolePolicy(
            f"{name}-role-secrets-key",
            role=role.id,
            policy=key.arn.apply(
                lambda arn: document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                            "Resource": arn,
                        }
                    ]
                )
            ),
            opts=options,
        )
        logs = self._log_group(name, args)

        self.eks = aws.eks.Cluster(
            f"{name}-eks",
            name=cluster_name,
            version=settings.kubernetes_version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=settings.api_public_access,
                public_access_cidrs=list(settings.api_allowed_cidrs) if settings.api_public_access else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # Admins are explicit access entries below, visible and revocable.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn), resources=["secrets"]
            ),
            enabled_cluster_log_types=list(settings.cluster_log_types),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=settings.kubernetes_support),
            deletion_protection=args.protect,
            # The add-ons below are EKS-managed from the start, never self-managed copies.
            bootstrap_self_managed_addons=False,
            tags=context.tagged(cluster_name),
            opts=context.options(self, depends_on=[cluster_policy, key_use, logs]),
        )
        self.name = self.eks.name
        self.security_group_id = self.eks.vpc_config.cluster_security_group_id

        admins = [args.deployer_arn, *(arn for arn in settings.admin_principal_arns if arn != args.deployer_arn)]
        self.access = []
        for arn in dict.fromkeys(admins):
            # Named after the principal, so adding or removing one leaves the others alone.
            suffix = hashlib.sha256(arn.encode()).hexdigest()[:8]
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{suffix}",
                cluster_name=self.eks.name,
                principal_arn=arn,
                type="STANDARD",
                tags=context.tagged(f"{cluster_name}-admin"),
                opts=options,
            )
            self.access.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{suffix}",
                    cluster_name=self.eks.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=CLUSTER_ADMIN_POLICY.format(partition=context.partition),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=options,
                )
            )

        self.oidc_issuer_url = self.eks.identities.apply(_oidc_issuer)
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.oidc_issuer_url,
            client_id_lists=[STS_AUDIENCE],
            tags=context.tagged(f"{cluster_name}-irsa"),
            opts=options,
        )
        self.oidc_provider_arn = oidc.arn

        self.node_prerequisites = self._network_addons(name, args)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.eks.name, self.eks.endpoint, self.eks.certificate_authority.data).apply(
                lambda parts: exec_kubeconfig(parts[0], context.region, parts[1], parts[2])
            )
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            # The cluster's name: a changed endpoint or kubeconfig updates the
            # provider instead of replacing every Kubernetes object.
            cluster_identifier=cluster_name,
            enable_server_side_apply=True,
            # Until an access entry exists, pulumi's own principal is refused.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.access),
        )
        self.register_outputs({"name": self.name, "oidcProviderArn": self.oidc_provider_arn})

    def _log_group(self, name: str, args: ClusterArgs) -> aws.cloudwatch.LogGroup:
        """The group EKS writes the control-plane logs to, made first so it has our retention and tags.

        EKS itself creates `/aws/eks/<cluster>/cluster` when it logs into a
        group that is gone, and keeps logging while the cluster is deleted, so
        deleting the group at destroy leaves one without retention behind and
        the next stack of that name fails with ResourceAlreadyExists
        (terraform-aws-modules/terraform-aws-eks#2486, #2763). So the group is
        always kept at destroy (its retention still ages the logs out) and
        adopted by the next `up` that finds it (log_groups.py).
        """
        return kept_log_group(
            f"{name}-logs",
            context=args.context,
            parent=self,
            group_name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_days=args.settings.log_retention_days,
            tag_name=f"{args.cluster_name}-control-plane-logs",
            kms_key_arn=args.logs_key_arn,
        )

    def _network_addons(self, name: str, args: ClusterArgs) -> list[pulumi.Resource]:
        # The CNI's permissions go to its own service account, not to every pod's node role.
        cni_role, cni_policy = self.service_account_role(
            f"{name}-vpc-cni",
            args,
            VPC_CNI_SERVICE_ACCOUNT,
            managed_policy="AmazonEKS_CNI_Policy",
            purpose="vpc-cni",
            description=f"VPC CNI of EKS cluster {args.cluster_name}",
        )
        vpc_cni = self.addon(
            name,
            args,
            "vpc-cni",
            role_arn=cni_role.arn,
            depends_on=[cni_policy],
            configuration=vpc_cni_configuration(args.enforce_network_policies),
        )
        kube_proxy = self.addon(name, args, "kube-proxy")
        return [vpc_cni, kube_proxy]

    def service_account_role(
        self,
        name: str,
        args: ClusterArgs,
        service_account: tuple[str, str],
        *,
        managed_policy: str,
        purpose: str,
        description: str,
        parent: pulumi.Resource | None = None,
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """An IRSA role only `service_account` (namespace, name) of this cluster may assume, with
        one AWS managed policy (a name under `arn:<partition>:iam::aws:policy/`) attached."""
        context = args.context
        owner = parent or self
        namespace, account = service_account
        role = aws.iam.Role(
            name,
            assume_role_policy=irsa_trust_policy(self.oidc_provider_arn, self.oidc_issuer_url, namespace, account),
            description=description,
            tags=context.tagged(f"{args.cluster_name}-{purpose}"),
            opts=context.options(owner),
        )
        attachment = aws.iam.RolePolicyAttachment(
            name,
            role=role.name,
            policy_arn=context.managed_policy(managed_policy),
            opts=context.options(owner),
        )
        return role, attachment

    def addon(
        self,
        name: str,
        args: ClusterArgs,
        addon: str,
        *,
        role_arn: pulumi.Input[str] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        parent: pulumi.Resource | None = None,
        configuration: str | None = None,
    ) -> aws.eks.Addon:
        """An EKS-managed add-on at the version EKS names the default for this Kubernetes version."""
        context = args.context
        owner = parent or self
        version = aws.eks.get_addon_version_output(
            addon_name=addon,
            kubernetes_version=args.settings.kubernetes_version,
            most_recent=False,
            opts=pulumi.InvokeOutputOptions(provider=context.provider, parent=owner),
        ).version
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.eks.name,
            addon_name=addon,
            addon_version=version,
            service_account_role_arn=role_arn,
            configuration_values=configuration,
            # Take over anything already there on creation; keep local edits on updates.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=context.tagged(f"{args.cluster_name}-{addon}"),
            opts=context.options(owner, depends_on=depends_on),
        )


def vpc_cni_configuration(enforce_network_policies: bool) -> str:
    """The vpc-cni add-on's configuration values: its network-policy agent on or off.

    The add-on's schema takes the flag as a string
    (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html).
    """
    return json.dumps({"enableNetworkPolicy": "true" if enforce_network_policies else "false"})


def _oidc_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The cluster's OIDC issuer URL, which IRSA's trust policies and provider need.

    The SDK types the identity's oidcs and issuer as optional; EKS always reports
    one issuer for a created cluster, so a missing one is a provider failure worth
    stopping on rather than an empty URL in every trust policy.
    """
    for identity in identities:
        for oidc in identity.oidcs or []:
            if oidc.issuer:
                return oidc.issuer
    raise pulumi.RunError("the EKS cluster reported no OIDC issuer, which IRSA roles need")
