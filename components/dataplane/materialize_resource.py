"""The `Materialize` custom resource, with its status as an output.

pulumi-kubernetes' generic CustomResource only exposes what was sent; this
one also declares `status`, so what the operator wrote (the resource id, the
last completed rollout) is readable once the resource is ready. Nothing the
program creates waits on it: the Services select pods by label (exposure.py).
"""

from __future__ import annotations

from typing import Any

import pulumi

KIND = "Materialize"
GROUP = "materialize.cloud"


def type_token(crd_version: str) -> str:
    return f"kubernetes:{GROUP}/{crd_version}:{KIND}"


class MaterializeResource(pulumi.CustomResource):
    status: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        name: str,
        crd_version: str,
        metadata: pulumi.Input[dict[str, Any]],
        spec: pulumi.Input[dict[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "apiVersion": f"{GROUP}/{crd_version}",
            "kind": KIND,
            "metadata": metadata,
            "spec": spec,
            "status": None,
        }
        super().__init__(type_token(crd_version), name, props, opts)
