"""Materialize on AWS: a new VPC over three zones, EKS (a system and a Materialize
node group), RDS Postgres, one S3 bucket and one IAM role per instance.

The settings are the repository's example AWS stack (stacks/Pulumi.aws.yaml);
change them here. Every key is described in the package's README
("Configuration reference") and docs/aws.md; a bad one is refused before
anything is created. Databases and buckets are protected from deletion.
"""

import pulumi

from materialize_pulumi import checked_install

config = pulumi.Config()


async def main() -> dict[str, object]:
    # Awaited so the upgrade guard (no downgrade, no skipped major version, no
    # changed environment id) runs before anything is created.
    install = await checked_install(
        "materialize",
        {
            "target": "aws",
            "region": config.get("region") or "us-east-1",
            # Read as a plain string because the install validates it before creating
            # anything; it stays a Pulumi secret inside the component.
            "license_key": config.require("licenseKey"),
            "tags": {"project": "materialize", "environment": "production"},
            "aws": {
                "kubernetesVersion": "1.35",
                # Who may reach the EKS API's public endpoint: narrow this to where pulumi
                # and kubectl run from. Every request still needs an IAM identity.
                "apiAllowedCidrs": ["0.0.0.0/0"],
                "natGateways": "perZone",
                "systemInstanceType": "m7g.large",
                "systemNodeCount": 2,
                "materializeInstanceType": "r7gd.2xlarge",
                "materializeNodeCount": 1,
                "postgresVersion": "17",
                "postgresInstanceClass": "db.m7g.large",
                "bucketVersioning": True,
            },
            "instances": [
                {
                    "name": "main",
                    # Reachable inside the VPC only; add your VPN's or peered networks' ranges.
                    "exposure": {"type": "internal", "allowedCidrs": ["10.0.0.0/16"]},
                }
            ],
        },
    )
    # The stack outputs the guard reads on the next update.
    return install.outputs


pulumi.run(main)
