"""JSON Schema export of every event contract, kept in the repo and checked for drift by a test."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.events import ALL_EVENTS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render() -> dict[str, str]:
    """File name → JSON Schema text, one file per event type (the type string names the file)."""
    out = {}
    for event in ALL_EVENTS:
        schema = event.model_json_schema()
        schema["$id"] = f"urn:childsafe:{event.TYPE}"
        schema["title"] = event.TYPE
        out[f"{event.TYPE}.json"] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return out


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
