"""Read the committed TensorRT API manifests (tests/data/manifests/*.json). Stdlib only.

Releases are named as in tools/trt_api_manifest.py: "8.6.1", "10.0.1", "10.16.1", "11.4.0" and
"rtx-1.7.1".  Typical use from tests::

    sys.path.insert(0, str(REPO / "tools"))
    from manifest_lib import load_manifest, has_attribute, attribute_params

    m = load_manifest("10.0.1")
    has_attribute(m, "ICudaEngine", "num_bindings")            # False
    attribute_params(m, "IExecutionContext", "set_input_shape") # [["self", "name", "shape"], ...]
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "manifests"


def manifest_path(release: str, manifest_dir: Path | str | None = None) -> Path:
    d = Path(manifest_dir) if manifest_dir is not None else MANIFEST_DIR
    if release.startswith("rtx-"):
        return d / f"tensorrt_rtx-{release[len('rtx-') :]}.json"
    return d / f"tensorrt-{release}.json"


def available_releases(manifest_dir: Path | str | None = None) -> list[str]:
    d = Path(manifest_dir) if manifest_dir is not None else MANIFEST_DIR
    out = []
    for p in sorted(d.glob("*.json")):
        stem = p.stem
        if stem.startswith("tensorrt_rtx-"):
            out.append("rtx-" + stem[len("tensorrt_rtx-") :])
        elif stem.startswith("tensorrt-"):
            out.append(stem[len("tensorrt-") :])
    return out


@cache
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_manifest(release: str, manifest_dir: Path | str | None = None) -> dict:
    """The parsed manifest for a release (cached; treat it as read-only)."""
    return _load(str(manifest_path(release, manifest_dir)))


def get_attribute(manifest: dict, cls: str, attr: str) -> dict | None:
    """The attribute entry, following "inherited_from" to the class that defines it."""

    def attrs(name: str) -> dict:
        return manifest["classes"].get(name, {}).get("attributes", {})

    entry = attrs(cls).get(attr)
    hops = 0
    while entry is not None and "inherited_from" in entry and hops < 32:
        entry = attrs(entry["inherited_from"]).get(attr)
        hops += 1
    return entry


def has_attribute(manifest: dict, cls: str, attr: str) -> bool:
    return attr in manifest["classes"].get(cls, {}).get("attributes", {})


def enum_members(manifest: dict, enum: str) -> dict[str, int]:
    attrs = manifest["classes"][enum]["attributes"]
    return {
        n: a["value"] for n, a in attrs.items() if a["kind"] == "enum_member" and "enum" not in a
    }


def _split_top_level(s: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside (), [], {} and <> (pybind11 default reprs use <...>) and quotes."""
    parts, depth, cur, quote = [], 0, [], None
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>" and depth > 0:
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


def signature_params(signature: str) -> list[tuple[str, bool]]:
    """``(name, has_default)`` for each parameter of one signature line, e.g.
    "f(self: X, n: int = 0) -> bool" -> [("self", False), ("n", True)]."""
    start = signature.index("(")
    depth = 0
    for i in range(start, len(signature)):
        if signature[i] == "(":
            depth += 1
        elif signature[i] == ")":
            depth -= 1
            if depth == 0:
                break
    inner = signature[start + 1 : i]
    params = []
    for part in _split_top_level(inner):
        head = part.strip()
        name = head.split(":", 1)[0].split("=", 1)[0].strip()
        if name and name not in ("*", "/"):
            params.append((name, "=" in head))
    return params


def parse_params(signature: str) -> list[str]:
    """Parameter names of one signature line, e.g.
    "set_input_shape(self: X, name: str, shape: Dims) -> bool" -> ["self", "name", "shape"]."""
    return [name for name, _ in signature_params(signature)]


def attribute_params(manifest: dict, cls: str, attr: str) -> list[list[str]]:
    """Parameter names for each overload of a method/staticmethod (self included)."""
    entry = get_attribute(manifest, cls, attr)
    if entry is None:
        raise KeyError(f"{cls}.{attr} not in manifest {manifest.get('release')}")
    overloads = entry.get("overloads") or ([entry["signature"]] if entry.get("signature") else [])
    return [parse_params(sig) for sig in overloads]


def function_params(manifest: dict, name: str) -> list[list[str]]:
    entry = manifest["functions"][name]
    return [parse_params(sig) for sig in entry.get("overloads", [])]
