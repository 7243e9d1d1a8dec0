"""Support replica commands (control plane): `python -m tools.support --help`.

`list` shows every internal replica of an instance with its size, billed-as
size, set and expiry; `reconcile` drops the support replicas whose expiry has
passed. Both read everything from the database. See docs/support.md.
"""
