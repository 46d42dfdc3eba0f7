"""Regenerate trt_exec/sim/_enum_data.py from the committed API manifests.

Run from the repository root: ``python tests/sim/make_enum_data.py``. ``test_manifests.py`` fails
when the generated file and the manifests disagree.
"""

from __future__ import annotations

import json
import pathlib
import pprint

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "tests" / "data" / "manifests"
TARGET = ROOT / "trt_exec" / "sim" / "_enum_data.py"
LABELS = {
    "tensorrt-8.6.1": "8.6.1",
    "tensorrt-10.0.1": "10.0.1",
    "tensorrt-10.16.1": "10.16.1",
    "tensorrt-11.4.0": "11.4.0",
    "tensorrt_rtx-1.7.1": "rtx-1.7.1",
}


def extract(manifest: dict) -> tuple[dict, dict]:
    enums = {}
    for name, cls in manifest["classes"].items():
        if cls["kind"] != "enum":
            continue
        members = sorted(
            ((k, a["value"]) for k, a in cls["attributes"].items() if a["kind"] == "enum_member"),
            key=lambda kv: (kv[1], kv[0]),
        )
        enums[name] = members
    constants = {
        k: (c["enum"], c["value"])
        for k, c in manifest.get("constants", {}).items()
        if c.get("kind") == "enum_member" and c.get("enum") == "DataType"
    }
    return enums, constants


def generate() -> str:
    data = {}
    for stem, label in LABELS.items():
        manifest = json.loads((MANIFESTS / f"{stem}.json").read_text())
        data[label] = extract(manifest)
    body = pprint.pformat(data, width=99, compact=True)
    return (
        '"""Enum members and DataType constants of each release, generated from the API manifests\n'
        '(tests/data/manifests) by tests/sim/make_enum_data.py. Do not edit by hand."""\n\n'
        "# label -> ({enum name: [(member, value), ...]}, {constant: (enum, value)})\n"
        f"DATA = {body}\n"
    )


if __name__ == "__main__":
    TARGET.write_text(generate())
    print(f"wrote {TARGET}")
