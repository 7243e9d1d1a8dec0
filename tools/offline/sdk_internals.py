"""The few Pulumi SDK internals the offline evaluator and its tests use, in one place.

The program itself runs through the SDK's public `pulumi.runtime.test` (see
evaluate.py). What no public API offers:

- `sync_await` / `ensure_event_loop`: the recording monitor answers the
  engine's RegisterResource calls synchronously, as the SDK's own
  `pulumi.runtime.mocks.MockMonitor` does with these same two functions, and
  tests read an Output's value outside a program run;
- `py_properties`: the policy tests walk a provider SDK's typed args and
  output classes property by property.

tests/foundation/test_sdk_internals.py checks each still exists and behaves,
so an SDK upgrade that moves one fails there, by name, not somewhere deep.
"""

from __future__ import annotations

from pulumi._types import _py_properties as py_properties
from pulumi.runtime.sync_await import _ensure_event_loop as ensure_event_loop
from pulumi.runtime.sync_await import _sync_await as sync_await

__all__ = ["ensure_event_loop", "py_properties", "sync_await"]
