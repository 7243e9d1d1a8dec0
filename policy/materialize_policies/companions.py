"""Finding the resources that configure another one, for stack policies.

Some promises are kept by a second resource: an S3 bucket is encrypted by a
BucketServerSideEncryptionConfiguration, an RDS instance forces TLS through
its parameter group. A stack policy sees every resource and links them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .fields import Field


def of_type(resources: Iterable[PolicyResource], token: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == token]


def refers_to(resource: PolicyResource, reference: Field, target: PolicyResource, target_key: Field | None) -> bool:
    """Whether `resource`'s `reference` property names `target`.

    The engine records which resources each input property was computed
    from, which links them even while names are unknown. A reference given
    as a plain string has no such record: then the values are compared.
    """
    if any(dependency.urn == target.urn for dependency in resource.property_dependencies.get(reference.path, [])):
        return True
    if target_key is None:
        return False
    try:
        value = reference.get(resource.props)
        return value is not None and value == target_key.get(target.props)
    except UnknownValueError:
        # Not known during preview: no evidence either way, so no link.
        return False


def companions(
    target: PolicyResource,
    resources: Iterable[PolicyResource],
    reference: Field,
    target_key: Field | None = None,
) -> list[PolicyResource]:
    """The resources of `reference`'s type that refer to `target` through it."""
    return [r for r in of_type(resources, reference.token) if refers_to(r, reference, target, target_key)]


def require_for_each(
    args: StackValidationArgs,
    target_token: str,
    reference: Field,
    target_key: Field | None,
    satisfies: Callable[[PolicyResource, PolicyResource], bool],
    promise: str,
    report_violation: ReportViolation,
) -> None:
    """Report every resource of `target_token` that no resource referring to it keeps the promise for.

    `satisfies(target, companion)` judges one resource that refers to the target.
    """
    kind = reference.token.rsplit(":", 1)[-1]
    for target in of_type(args.resources, target_token):
        found = companions(target, args.resources, reference, target_key)
        if any(satisfies(target, companion) for companion in found):
            continue
        why = (
            f"none of its {len(found)} {kind} resource(s) provides it"
            if found
            else f"no {kind} in this stack refers to it"
        )
        report_violation(f"{target.name} lacks {promise}: {why}.", target.urn)
