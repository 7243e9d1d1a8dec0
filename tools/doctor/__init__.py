"""Preflight checks for bring-your-own installs: `python -m tools.doctor --help`.

Checks that the Postgres metadata store, the blob store and the Kubernetes
cluster named in a stack's config are usable by Materialize, before
`pulumi up` runs. See docs/doctor.md.
"""
