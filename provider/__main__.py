"""Entry point of the component provider plugin (see PulumiPlugin.yaml beside it).

The language host runs `python <this directory> <engine address> [flags]`, so
the import path starts here; the components are the checkout's own, one
directory up, which keeps the plugin and the components of one tag together.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.component_provider import serve

if __name__ == "__main__":
    serve()
