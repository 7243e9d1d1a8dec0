"""The mocks live in tools/offline/mocks.py (the offline plan uses them too).

Add realistic outputs for a new resource type to `_OUTPUTS` there.
"""

from tools.offline.mocks import _OUTPUTS, RealisticMocks, RecordingMonitor, Registered, UnmodelledResource

__all__ = ["_OUTPUTS", "RealisticMocks", "RecordingMonitor", "Registered", "UnmodelledResource"]
