"""The nightly verification: every target from nothing to a real query and back to nothing.

    python -m tools.nightly run --targets aws,gcp,azure
    python -m tools.nightly sweep --older-than 6h

Per target, in its own `ci-<target>-<run id>` stack: `up` with the policy pack,
wait for every Materialize instance, a SQL probe through balancerd, a support
replica made and expired by the control plane's code, a
`preview` that must show no changes, then `destroy` and stack removal no
matter what happened before. Targets run in parallel and never affect one
another. See docs/nightly.md.
"""
