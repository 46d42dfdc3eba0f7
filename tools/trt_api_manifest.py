#!/usr/bin/env python3
"""Build JSON API manifests from the real TensorRT Python bindings.

The TensorRT binding wheels on PyPI (``tensorrt-bindings``, ``tensorrt-cu12-bindings``,
``tensorrt-cu13-bindings``) hold only the pybind11 extension.  The shared libraries it links
against (libnvinfer.so.N, ...) come from ``*-libs`` packages that download from NVIDIA's own index,
which is not always reachable.  Module initialisation calls none of those libraries, so this tool:

1. downloads the binding wheel (``pip download --no-deps --only-binary=:all:``) into a cache;
2. unpacks it, lists the extension's DT_NEEDED libraries (``readelf -d``) and its undefined dynamic
   symbols (``nm -D --undefined-only``);
3. for every needed library that cannot be loaded on this system, builds a stub with gcc that
   exports every undefined (non-weak) symbol that the loadable system libraries and the Python
   interpreter do not provide.  Each stub function returns 0.  Every stub exports the whole set;
   the dynamic linker binds each symbol to the first stub that defines it, which is all the
   import needs;
4. imports the module in a subprocess (``LD_LIBRARY_PATH`` = the stub dir) and writes down every
   class, enum, attribute, pybind11 signature and enum value.

Import trick: the wheel's ``tensorrt_bindings/__init__.py`` first tries ``import tensorrt_libs``.
The subprocess sets ``sys.modules["tensorrt_libs"] = None`` so that import fails with ImportError
(which the wheel catches) even where a real ``tensorrt_libs`` is installed.  It then imports a
``tensorrt`` shim package written into a temp dir whose body is the same two lines as the
``tensorrt`` meta package on PyPI (``from tensorrt_bindings import *`` and ``__version__``), so the
manifest shows the namespace a user's ``import tensorrt`` gives.

TensorRT-RTX is installed for real (``pip install --target``; the ``-libs`` wheel is on PyPI) and
imported without stubs; ``--rtx-mode stub`` instead treats its 1.2 MB binding wheel like the
TensorRT ones (same manifest for 1.7.1, without the ~96 MB download).

Usage::

    python tools/trt_api_manifest.py --release 10.0.1 --out tests/data/manifests/
    python tools/trt_api_manifest.py --all --out tests/data/manifests/

Stdlib only (plus pip, readelf/nm from binutils and gcc as subprocesses).
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MANIFEST_FORMAT = 1

# release -> how to get it.
RELEASES: dict[str, dict[str, str]] = {
    "8.6.1": {"kind": "bindings", "dist": "tensorrt-bindings", "version": "8.6.1"},
    "10.0.1": {"kind": "bindings", "dist": "tensorrt-cu12-bindings", "version": "10.0.1"},
    "10.16.1": {"kind": "bindings", "dist": "tensorrt-cu12-bindings", "version": "10.16.1.11"},
    "11.4.0": {"kind": "bindings", "dist": "tensorrt-cu13-bindings", "version": "11.4.0.106"},
    "rtx-1.7.1": {"kind": "rtx", "dist": "tensorrt-rtx-cu13", "version": "1.7.1.116"},
}

DEFAULT_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "trt_exec_manifests"
)

# Dunder attributes worth recording (constructors and protocols); all other _names are skipped.
KEEP_DUNDERS = {
    "__init__",
    "__call__",
    "__len__",
    "__getitem__",
    "__setitem__",
    "__iter__",
    "__contains__",
    "__enter__",
    "__exit__",
}
# Attributes every pybind11 enum has; not recorded per enum.
PYBIND_ENUM_BUILTINS = {"name", "value"}


def manifest_filename(release: str) -> str:
    if release.startswith("rtx-"):
        return f"tensorrt_rtx-{release[len('rtx-') :]}.json"
    return f"tensorrt-{release}.json"


def log(msg: str) -> None:
    print(f"[trt_api_manifest] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


# ----------------------------------------------------------------------------------- download


def download_wheel(dist: str, version: str, cache: Path, python: str) -> Path:
    """pip download one binary wheel for `python`'s tags; reuse the cached file when offline."""
    wheel_dir = cache / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    norm = re.sub(r"[-_.]+", "_", dist).lower()
    cmd = [
        python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-d", str(wheel_dir), f"{dist}=={version}",
    ]  # fmt: skip
    try:
        out = run(cmd).stdout
    except subprocess.CalledProcessError as exc:
        cached = sorted(glob.glob(str(wheel_dir / f"{norm}-{version}-*.whl")))
        if len(cached) == 1:
            log(f"pip download failed, using cached {cached[0]}")
            return Path(cached[0])
        raise RuntimeError(f"pip download {dist}=={version} failed:\n{exc.stderr}") from exc
    for line in out.splitlines():
        m = re.search(r"(?:Saved|File was already downloaded)\s+(\S+\.whl)", line)
        if m:
            return Path(m.group(1)).resolve()
    cached = sorted(glob.glob(str(wheel_dir / f"{norm}-{version}-*.whl")))
    if len(cached) == 1:
        return Path(cached[0])
    raise RuntimeError(f"could not find the downloaded wheel in pip output:\n{out}")


def install_rtx(dist: str, version: str, cache: Path, python: str) -> Path:
    """pip install --target a private dir (not the active environment); reused when complete."""
    target = cache / f"{dist}-{version}-target"
    marker = target / ".complete"
    if marker.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    log(f"pip install --target {target} {dist}=={version} (~100 MB download)")
    run([
        python, "-m", "pip", "install", "--disable-pip-version-check", "--no-cache-dir",
        "--target", str(target), f"{dist}=={version}",
    ])  # fmt: skip
    marker.write_text("ok\n")
    return target


# -------------------------------------------------------------------------------------- stubs


def needed_libs(so: Path) -> list[str]:
    out = run(["readelf", "-d", str(so)]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def undefined_symbols(so: Path) -> list[str]:
    """Strong undefined dynamic symbols, version suffix removed (weak ones need no definition)."""
    out = run(["nm", "-D", "--undefined-only", str(so)]).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[-2] != "U":
            continue
        syms.add(parts[-1].split("@")[0])
    return sorted(syms)


def _loadable(soname: str) -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(soname)
    except OSError:
        return None


def plan_stubs(so: Path) -> tuple[list[str], list[str]]:
    """Return (missing sonames, symbols the stubs must export)."""
    needed = needed_libs(so)
    handles = [ctypes.CDLL(None)]  # the interpreter itself: libpython (or static python), libc...
    missing = []
    for soname in needed:
        h = _loadable(soname)
        if h is None:
            missing.append(soname)
        else:
            handles.append(h)
    if not missing:
        return [], []
    stub_syms = []
    for sym in undefined_symbols(so):
        if not any(hasattr(h, sym) for h in handles):
            stub_syms.append(sym)
    return missing, stub_syms


def build_stubs(missing: list[str], symbols: list[str], stub_dir: Path) -> None:
    stub_dir.mkdir(parents=True, exist_ok=True)
    src = stub_dir / "trt_stub.c"
    lines = ["/* generated by tools/trt_api_manifest.py: every function returns 0 */"]
    for i, sym in enumerate(symbols):
        # asm labels let any symbol name (including C++ mangled ones) be exported as-is.
        lines.append(f'long trt_stub_{i}(void) __asm__("{sym}");')
        lines.append(f"long trt_stub_{i}(void) {{ return 0; }}")
    src.write_text("\n".join(lines) + "\n")
    for soname in missing:
        run([
            "gcc", "-shared", "-nostdlib", "-fPIC", f"-Wl,-soname,{soname}",
            "-o", str(stub_dir / soname), str(src),
        ])  # fmt: skip


# ------------------------------------------------------------------------------ introspection
# This part runs inside the subprocess (``--introspect``); it must not rely on anything above
# except the stdlib.

_ADDR_RE = re.compile(r" at 0x[0-9a-fA-F]+")


def _clean(text: str) -> str:
    return _ADDR_RE.sub(" at 0x...", text)


def _doc_lines(obj) -> list[str]:
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return []
    return doc.splitlines()


def _signatures(func, name: str) -> tuple[str | None, list[str]]:
    """(first doc line, every overload signature) from a pybind11 function's __doc__."""
    import inspect
    import types

    if isinstance(func, types.FunctionType):  # pure-Python helper added by __init__.py
        try:
            sig = f"{name}{inspect.signature(func)}"
        except (TypeError, ValueError):
            return None, []
        return _clean(sig), [_clean(sig)]
    lines = _doc_lines(func)
    if not lines:
        return None, []
    first = _clean(lines[0].strip())
    fname = getattr(func, "__name__", name)
    if len(lines) > 1 and "Overloaded function." in "\n".join(lines[1:3]):
        pat = re.compile(r"^\d+\. (" + re.escape(fname) + r"\(.*)$")
        overloads = [_clean(m.group(1).strip()) for m in map(pat.match, lines) if m]
        return first, overloads
    return first, [first]


_DEF_RE = re.compile(r"^\s*def\s+([A-Za-z_]\w*\s*\(.*?\))\s*(?:->.*)?:\s*$")


def _doc_defs(cls) -> list[str]:
    """`name(params)` of each `def` line in the class's own docstring (sorted, unique)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return []
    found = {re.sub(r"\s+", " ", m.group(1)) for m in map(_DEF_RE.match, doc.splitlines()) if m}
    return sorted(found)


def _buffer_checker():
    """Return f(cls) -> bool telling whether instances support the buffer protocol
    (PyTypeObject.tp_as_buffer->bf_getbuffer set), or None where the layout check fails.
    tp_as_buffer is the 21st pointer-sized field of PyTypeObject on CPython 3.x release builds."""
    import ctypes

    ptr = ctypes.sizeof(ctypes.c_void_p)
    offset = 20 * ptr

    def has_buffer(cls) -> bool:
        procs = ctypes.c_void_p.from_address(id(cls) + offset).value
        if not procs:
            return False
        return bool(ctypes.c_void_p.from_address(procs).value)  # bf_getbuffer

    try:
        ok = (
            has_buffer(bytes)
            and has_buffer(bytearray)
            and has_buffer(memoryview)
            and not has_buffer(int)
            and not has_buffer(str)
            and not has_buffer(dict)
        )
    except (ValueError, OSError):
        ok = False
    return has_buffer if ok else None


def _is_deprecated(*objs) -> bool:
    return any("deprecated" in "\n".join(_doc_lines(o)).lower() for o in objs if o is not None)


def introspect(modname: str, neutralise: list[str]) -> dict:
    import importlib
    import types

    for name in neutralise:
        sys.modules[name] = None  # makes `import name` raise ImportError
    mod = importlib.import_module(modname)

    ext_mod = None
    for v in vars(mod).values():
        if isinstance(v, types.ModuleType) and hasattr(v, "ICudaEngine") and hasattr(v, "__file__"):
            if str(v.__file__).endswith((".so", ".pyd")):
                ext_mod = v
    tops = {modname.split(".")[0]}
    if ext_mod is not None:
        tops.add(ext_mod.__name__.split(".")[0])

    def ours(obj) -> bool:
        return str(getattr(obj, "__module__", "")).split(".")[0] in tops

    def is_enum(cls) -> bool:
        return isinstance(cls.__dict__.get("__members__"), (dict, property)) or (
            isinstance(getattr(cls, "__members__", None), dict) and hasattr(cls, "__entries")
        )

    classes: dict[str, dict] = {}
    type_names: dict[int, str] = {}
    has_buffer = _buffer_checker()

    def enum_member(val) -> dict | None:
        t = type(val)
        if isinstance(t, type) and ours(t) and is_enum(t) and id(t) in type_names:
            return {"kind": "enum_member", "enum": type_names[id(t)], "value": int(val)}
        return None

    def value_entry(val) -> dict:
        if isinstance(val, bool):
            return {"kind": "constant", "type": "bool", "value": val}
        if isinstance(val, (int, float, str)):
            return {"kind": "constant", "type": type(val).__name__, "value": val}
        return {"kind": "constant", "type": type(val).__name__}

    def callable_entry(kind: str, func, name: str, doc_objs=()) -> dict:
        sig, overloads = _signatures(func, name)
        entry = {"kind": kind, "signature": sig, "overloads": overloads}
        if isinstance(func, types.FunctionType):
            entry["python"] = True
        if _is_deprecated(func, *doc_objs):
            entry["deprecated"] = True
        return entry

    def register(qualname: str, cls) -> None:
        """First pass: name every reachable class, so enum members can refer to their enum."""
        if id(cls) in type_names:
            return
        type_names[id(cls)] = qualname
        for n, v in sorted(vars(cls).items()):
            if isinstance(v, type) and ours(v) and v.__qualname__ == f"{cls.__qualname__}.{n}":
                register(f"{qualname}.{n}", v)

    def describe(qualname: str, cls) -> None:
        enum = is_enum(cls)
        entry: dict = {"kind": "enum" if enum else "class", "attributes": {}}
        bases = [type_names.get(id(b), b.__qualname__) for b in cls.__bases__ if ours(b)]
        if bases:
            entry["bases"] = bases
        attrs = entry["attributes"]
        if enum:
            for n, member in cls.__members__.items():
                attrs[n] = {"kind": "enum_member", "value": int(member)}
        for n, raw in sorted(vars(cls).items()):
            if n in attrs or (n.startswith("_") and n not in KEEP_DUNDERS):
                continue
            if enum and n in PYBIND_ENUM_BUILTINS:
                continue
            attrs[n] = describe_attr(qualname, cls, n, raw)
        # inherited attributes from our own base classes: recorded by name and origin only.
        for base in cls.__mro__[1:]:
            if not ours(base):
                continue
            for n in vars(base):
                if n in attrs or (n.startswith("_") and n not in KEEP_DUNDERS):
                    continue
                if n == "__init__":
                    continue
                inner = describe_attr(
                    type_names.get(id(base), base.__qualname__), base, n, vars(base)[n]
                )
                attrs[n] = {
                    "kind": inner["kind"],
                    "inherited_from": type_names.get(id(base), base.__qualname__),
                }
        if _is_deprecated(cls):
            entry["deprecated"] = True
        # Callback interfaces (IOutputAllocator, IGpuAllocator, ...) in 10.x bind no methods; the
        # methods a Python subclass must define appear only in the class docstring's example.
        if has_buffer is not None and not enum and has_buffer(cls):
            entry["buffer_protocol"] = True
        defs = _doc_defs(cls)
        if defs:
            entry["doc_defs"] = defs
        classes[qualname] = entry

    def describe_attr(qualname: str, cls, n: str, raw) -> dict:
        if isinstance(raw, property):
            fget = raw.fget
            e: dict = {"kind": "property", "settable": raw.fset is not None}
            if fget is not None:
                sig, _ = _signatures(fget, n)
                e["signature"] = sig
                if isinstance(fget, types.FunctionType):
                    e["python"] = True
            if _is_deprecated(raw, fget):
                e["deprecated"] = True
            return e
        if isinstance(raw, staticmethod):
            return callable_entry("staticmethod", raw.__func__, n)
        if isinstance(raw, classmethod):
            return callable_entry("classmethod", raw.__func__, n)
        if type(raw).__name__ == "instancemethod":
            return callable_entry("method", raw.__func__, n)
        if isinstance(raw, (types.FunctionType, types.BuiltinFunctionType)):
            return callable_entry("method", raw, n)
        if isinstance(raw, type):
            target = type_names.get(id(raw), raw.__qualname__)
            e = {"kind": "enum" if is_enum(raw) else "class"}
            if target != f"{qualname}.{n}":
                e["alias_of"] = target
            return e
        em = enum_member(raw)
        if em is not None:
            return em
        if callable(raw):
            return callable_entry("method", raw, n)
        return value_entry(raw)

    public = {n: v for n, v in vars(mod).items() if not n.startswith("_")}
    for n, v in sorted(public.items()):
        if isinstance(v, type) and ours(v) and v.__qualname__ == n:
            register(n, v)
    by_name = {}
    for n, v in sorted(public.items()):
        if isinstance(v, type) and ours(v) and v.__qualname__ == n:
            by_name[n] = v

    def walk(qualname: str, cls) -> None:
        describe(qualname, cls)
        for n, v in sorted(vars(cls).items()):
            if isinstance(v, type) and type_names.get(id(v)) == f"{qualname}.{n}":
                walk(f"{qualname}.{n}", v)

    for n, v in by_name.items():
        walk(n, v)

    functions: dict[str, dict] = {}
    constants: dict[str, dict] = {}
    submodules: list[str] = []
    for n, v in sorted(public.items()):
        if n in by_name:
            continue
        if isinstance(v, types.ModuleType):
            if ours(v) or v.__name__.split(".")[0] in tops:
                submodules.append(n)
            continue
        if isinstance(v, type):
            if ours(v):
                constants[n] = {"kind": "class", "alias_of": type_names.get(id(v), v.__qualname__)}
            continue
        em = enum_member(v)
        if em is not None:
            constants[n] = em
            continue
        if callable(v):
            functions[n] = callable_entry("function", v, n)
            continue
        constants[n] = value_entry(v)

    return {
        "module": modname,
        "extension": ext_mod.__name__ if ext_mod is not None else None,
        "version": str(getattr(mod, "__version__", "")),
        "classes": classes,
        "functions": functions,
        "constants": constants,
        "submodules": submodules,
    }


# ------------------------------------------------------------------------------------ driver


def _run_introspect(
    python: str,
    modname: str,
    path_entries: list[str],
    neutralise: list[str],
    env_extra: dict[str, str],
    workdir: Path,
) -> dict:
    out_json = workdir / "introspect.json"
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--introspect",
        modname,
        "--introspect-out",
        str(out_json),
    ]
    for name in neutralise:
        cmd += ["--neutralise", name]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONPATH"] = os.pathsep.join(path_entries)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    env.update(env_extra)
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, cwd=str(workdir))
    if proc.returncode != 0:
        raise RuntimeError(
            f"introspection of {modname} failed (rc={proc.returncode}):\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return json.loads(out_json.read_text())


def _wheel_filename_from_dist_info(target: Path, dist: str) -> str:
    """Rebuild the installed wheel's file name from <name>-<ver>.dist-info/WHEEL tags."""
    norm = re.sub(r"[-_.]+", "_", dist).lower()
    infos = sorted(target.glob(f"{norm}-*.dist-info"))
    if not infos:
        return ""
    info = infos[0]
    name_ver = info.name[: -len(".dist-info")]
    tags = [
        ln.split(":", 1)[1].strip()
        for ln in (info / "WHEEL").read_text().splitlines()
        if ln.startswith("Tag:")
    ]
    return f"{name_ver}-{tags[0]}.whl" if tags else f"{name_ver}.whl"


def _introspect_stubbed(wheel: Path, tmp: Path, python: str, release: str) -> tuple[dict, dict]:
    """Import a binding wheel against generated stub libraries; return (data, stubs info)."""
    unpacked = tmp / "wheel"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    exts = sorted(unpacked.glob("*/tensorrt*.so"))
    if len(exts) != 1:
        raise RuntimeError(f"expected one extension .so in {wheel.name}, found {exts}")
    ext = exts[0]
    pkg = ext.parent.name  # tensorrt_bindings / tensorrt_rtx_bindings
    top = pkg[: -len("_bindings")] if pkg.endswith("_bindings") else pkg
    missing, symbols = plan_stubs(ext)
    stub_dir = tmp / "stubs"
    build_stubs(missing, symbols, stub_dir)
    log(f"{release}: stubbed {missing} with {len(symbols)} symbols")
    shim = tmp / "shim" / top
    shim.mkdir(parents=True)
    # Same body as the `tensorrt` / `tensorrt_rtx` meta package's __init__.py on PyPI.
    (shim / "__init__.py").write_text(f"from {pkg} import *\nfrom {pkg} import __version__\n")
    ld = os.pathsep.join(filter(None, [str(stub_dir), os.environ.get("LD_LIBRARY_PATH")]))
    data = _run_introspect(
        python,
        top,
        [str(tmp / "shim"), str(unpacked)],
        [f"{top}_libs"],
        {"LD_LIBRARY_PATH": ld},
        tmp,
    )
    return data, {"libraries": missing, "symbols": symbols}


def build_manifest(release: str, cache: Path, python: str, rtx_mode: str = "install") -> dict:
    """rtx_mode: "install" imports the real, fully installed tensorrt_rtx (~96 MB download);
    "stub" imports only its 1.2 MB binding wheel against stubs, like the TensorRT releases.
    Both give the same manifest (checked for 1.7.1); RTX manifests never record `stubs`."""
    spec = RELEASES[release]
    dist, version = spec["dist"], spec["version"]
    with tempfile.TemporaryDirectory(prefix="trt_manifest_") as tmp_s:
        tmp = Path(tmp_s)
        if spec["kind"] == "bindings":
            wheel = download_wheel(dist, version, cache, python)
            log(f"{release}: {wheel.name} ({wheel.stat().st_size} bytes)")
            data, stubs = _introspect_stubbed(wheel, tmp, python, release)
            wheel_name = wheel.name
        elif rtx_mode == "stub":
            wheel = download_wheel(f"{dist}-bindings", version, cache, python)
            log(f"{release}: {wheel.name} ({wheel.stat().st_size} bytes), stub mode")
            data, _ = _introspect_stubbed(wheel, tmp, python, release)
            wheel_name = wheel.name
            stubs = None
        else:
            target = install_rtx(dist, version, cache, python)
            data = _run_introspect(python, "tensorrt_rtx", [str(target)], [], {}, tmp)
            wheel_name = _wheel_filename_from_dist_info(target, dist + "-bindings")
            stubs = None
    manifest = {
        "format": MANIFEST_FORMAT,
        "release": release,
        "distribution": f"{dist}=={version}",
        "wheel": wheel_name,
        **data,
    }
    if stubs is not None:
        manifest["stubs"] = stubs
    return manifest


def dump(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def write_manifest(
    release: str, out_dir: Path, cache: Path, python: str, rtx_mode: str = "install"
) -> Path:
    manifest = build_manifest(release, cache, python, rtx_mode)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / manifest_filename(release)
    path.write_text(dump(manifest))
    log(f"wrote {path} ({len(manifest['classes'])} classes)")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--release", action="append", choices=sorted(RELEASES), help="release to build (repeatable)"
    )
    ap.add_argument("--all", action="store_true", help="build every known release")
    ap.add_argument("--out", type=Path, default=Path("tests/data/manifests"))
    ap.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"wheel/install cache (default {DEFAULT_CACHE})",
    )
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that downloads and imports the bindings (must match the "
        "wheel's cp tag; all wheels used here exist for cp311)",
    )
    ap.add_argument(
        "--rtx-mode",
        choices=("install", "stub"),
        default="install",
        help="install: pip install the real tensorrt-rtx-cu13 (~96 MB) and import it; "
        "stub: import only its binding wheel (1.2 MB) against stub libraries",
    )
    ap.add_argument("--introspect", help=argparse.SUPPRESS)
    ap.add_argument("--introspect-out", help=argparse.SUPPRESS)
    ap.add_argument("--neutralise", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.introspect:
        data = introspect(args.introspect, args.neutralise)
        Path(args.introspect_out).write_text(json.dumps(data, sort_keys=True))
        return 0

    releases = sorted(RELEASES) if args.all else (args.release or [])
    if not releases:
        ap.error("give --release R or --all")
    for rel in releases:
        write_manifest(rel, args.out, args.cache_dir, args.python, args.rtx_mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
