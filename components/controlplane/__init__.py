"""Control plane: functions only an operator of many installs needs.

Temporary unbilled support replicas and replica sets, declared in a support
stack (stacks/Pulumi.support.yaml) and expired by `python -m tools.support
reconcile`. Nothing on the install path imports this package: components/
program.py loads it only when a stack sets `materialize:support`.
"""
