"""The configuration reference, generated from the settings model.

`python -m tools.config_reference` prints the Markdown tables the README
carries; tests check that the README and Pulumi.yaml agree with the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from components.settings import SECRET_KEYS, InstanceSettings, Settings, pulumi_config_type
from components.settings.target_sections import TARGET_SECTIONS


@dataclass(frozen=True)
class KeyDoc:
    key: str
    pulumi_type: str | None  # None: a structured value Pulumi.yaml cannot type
    default: Any  # PydanticUndefined when required
    description: str
    secret: bool

    @property
    def required(self) -> bool:
        return self.default is PydanticUndefined


def _default(info: FieldInfo) -> Any:
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_defaults=True)
    if isinstance(value, list):
        return [v.model_dump(by_alias=True, exclude_defaults=True) if isinstance(v, BaseModel) else v for v in value]
    return value


def key_docs(model: type[BaseModel] = Settings) -> list[KeyDoc]:
    docs = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        # A target's section is None in the model until its target is selected; then it is validated from {}.
        section = model is Settings and key in TARGET_SECTIONS
        docs.append(
            KeyDoc(
                key=key,
                pulumi_type=pulumi_config_type(info.annotation),
                default={} if section else _default(info) if not info.is_required() else PydanticUndefined,
                description=info.description or "",
                secret=model is Settings and key in SECRET_KEYS,
            )
        )
    return docs


def _cell(value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return ""
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`"


def _text(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    lines = [
        "| key | default | secret | description |",
        "| --- | --- | --- | --- |",
    ]
    for doc in key_docs(Settings):
        lines.append(
            f"| `{doc.key}` | {_cell(doc.default)} | {'yes' if doc.secret else ''} | {_text(doc.description)} |"
        )
    lines += [
        "",
        "Each entry of `instances`:",
        "",
        "| key | default | description |",
        "| --- | --- | --- |",
    ]
    for doc in key_docs(InstanceSettings):
        lines.append(f"| `{doc.key}` | {_cell(doc.default)} | {_text(doc.description)} |")
    return "\n".join(lines) + "\n"


START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def with_reference(readme: str) -> str:
    """The README text with the generated reference between its markers."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{markdown()}{END}{tail}"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] == ["--update-readme"]:
        path = Path(__file__).resolve().parents[1] / "README.md"
        path.write_text(with_reference(path.read_text()))
    else:
        print(markdown(), end="")
