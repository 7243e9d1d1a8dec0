"""Throwaway real services for tests, started on loopback.

Nothing here imports pytest: the helpers can serve any test runner or a
developer's shell. Fixtures that wrap them live next to the tests that use
them (for example tests/doctor/conftest.py).
"""
