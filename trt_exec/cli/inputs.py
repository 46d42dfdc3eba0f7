"""``--input`` for ``trt-exec run`` and ``bench``: parsing the specs, producing the arrays and
describing them.

Forms (one per ``--input``, repeatable)::

    name=file.npy            the array in a .npy file
    name=file.npz            the array called ``name`` in a .npz file
    file.npz                 every array of a .npz file, by its key
    name=random[:4x16]       uniform data of the engine's dtype
    name=zeros[:4x16]
    name=ones[:4x16]

A generator without a shape uses the input's ``opt`` shape in the chosen profile (or its static
shape). Inputs not named by any ``--input`` are generated as ``random``. Errors are
:class:`~trt_exec.errors.ConfigurationError` (bad syntax, unreadable file, wrong dtype) or
:class:`~trt_exec.errors.BindingError` (a name the engine does not have).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BindingError, ConfigurationError
from ..spec import Shape, TensorSpec, check_shape, choose_profile
from .render import table

if TYPE_CHECKING:
    from ..executor import BaseExecutor

__all__ = [
    "InputSpec",
    "parse_input",
    "parse_shape",
    "resolve_inputs",
    "prepare_inputs",
    "inputs_info",
    "inputs_lines",
    "load_array_file",
    "GENERATORS",
]

GENERATORS = ("random", "zeros", "ones")
_SYNTAX = "use NAME=FILE.npy, NAME=random|zeros|ones[:4x16], or FILE.npz"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One parsed ``--input``: ``name`` is None for a whole .npz file."""

    text: str
    name: str | None
    kind: str  # "file", "npz", or a generator name
    path: str | None = None
    shape: Shape | None = None


def parse_shape(text: str, *, option: str) -> Shape:
    """``"4x16"`` or ``"4,16"`` -> ``(4, 16)``."""
    parts = re.split(r"[x,]", text.strip())
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigurationError(
            f"{option}: shape {text!r} is not dimensions separated by 'x' (e.g. 4x16)"
        ) from None
    if any(d < 0 for d in dims):
        raise ConfigurationError(f"{option}: shape {text!r} has a negative dimension")
    return dims


def parse_input(text: str) -> InputSpec:
    """Parse one ``--input`` value (syntax only; the engine is not needed)."""
    option = f"--input {text!r}"
    if "=" not in text:
        if text.endswith(".npz"):
            return InputSpec(text, None, "npz", path=text)
        raise ConfigurationError(f"{option} is not NAME=SOURCE; {_SYNTAX}")
    name, _, source = text.partition("=")
    name = name.strip()
    if not name:
        raise ConfigurationError(f"{option} has an empty tensor name; {_SYNTAX}")
    if not source:
        raise ConfigurationError(f"{option} has nothing after '='; {_SYNTAX}")
    gen, sep, shape_text = source.partition(":")
    if gen in GENERATORS:
        shape = parse_shape(shape_text, option=option) if sep else None
        return InputSpec(text, name, gen, shape=shape)
    if source.endswith((".npy", ".npz")) or os.path.exists(source):
        return InputSpec(text, name, "file", path=source)
    if sep and os.sep not in gen:
        raise ConfigurationError(
            f"{option}: unknown generator {gen!r}; use one of {', '.join(GENERATORS)} "
            "(e.g. random:4x16), or a .npy/.npz file"
        )
    raise ConfigurationError(
        f"{option}: {source!r} is neither a generator ({', '.join(GENERATORS)}) nor a .npy/.npz "
        "file; " + _SYNTAX
    )


def load_array_file(path: str, option: str) -> np.ndarray | dict[str, np.ndarray]:
    """The array of a .npy file, or a .npz file's arrays by name; ``option`` prefixes errors."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigurationError(f"{option}: file {path!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigurationError(
            f"{option}: {path!r} is a directory, not a .npy/.npz file"
        ) from None
    except PermissionError:
        raise ConfigurationError(
            f"{option}: file {path!r} is not readable (permission denied)"
        ) from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigurationError(
            f"{option}: {path!r} is not a readable .npy/.npz file ({exc})"
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            return {k: loaded[k] for k in loaded.files}
    return np.asarray(loaded)


def _default_shape(spec: TensorSpec, profile: int) -> Shape:
    if spec.profile_shapes:
        return spec.profile_shapes[min(profile, len(spec.profile_shapes) - 1)].opt
    return tuple(max(d, 1) for d in spec.shape)


def _default_array(spec: TensorSpec, profile: int, rng: np.random.Generator) -> np.ndarray:
    """A shape tensor's opt *values* of ``profile``; random data of the opt shape otherwise."""
    if spec.profile_values:
        opt = spec.profile_values[min(profile, len(spec.profile_values) - 1)].opt
        return np.array(opt, spec.dtype).reshape(spec.shape)
    return generate("random", _default_shape(spec, profile), spec.dtype, rng)


def _key(spec: TensorSpec, arr: np.ndarray) -> tuple[int, ...]:
    """What chooses the profile: a shape tensor's values, any other array's shape."""
    if spec.profile_values is not None:
        return tuple(int(v) for v in arr.reshape(-1).tolist())
    return tuple(arr.shape)


def _profile_for(inputs: Mapping[str, TensorSpec], given: Mapping[str, np.ndarray]) -> int:
    """The profile that fits the arrays given so far (0 when none is given or none fits: the
    executor then reports the shapes that do not fit)."""
    if not given:
        return 0
    subset = {n: inputs[n] for n in given}
    num_profiles = max((len(s.profile_shapes) for s in inputs.values()), default=1) or 1
    try:
        keys = {n: _key(inputs[n], a) for n, a in given.items()}
        return choose_profile(subset, keys, num_profiles)
    except Exception:  # ShapeError; reported with full bounds when the engine is called
        return 0


def generate(kind: str, shape: Shape, dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    if kind == "zeros":
        return np.zeros(shape, dtype)
    if kind == "ones":
        return np.ones(shape, dtype)
    if dtype.kind == "f":
        return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.random(size=shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 8, size=shape).astype(dtype)
    return rng.integers(-4, 5, size=shape).astype(dtype)


def resolve_inputs(
    specs: Sequence[InputSpec],
    inputs: Mapping[str, TensorSpec],
    *,
    profile: int | None,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The input arrays by engine input name, and where each came from (for display).

    Names are checked against ``inputs`` before any file is read.
    """
    rng = np.random.default_rng(seed)
    allowed = list(inputs)
    arrays: dict[str, np.ndarray] = {}
    sources: dict[str, str] = {}

    def put(name: str, arr: np.ndarray, source: str, text: str) -> None:
        if name not in inputs:
            raise BindingError(
                f"--input {text!r}: the engine has no input {name!r}; its inputs are {allowed!r}"
            )
        if name in arrays:
            raise ConfigurationError(
                f"--input {text!r}: input {name!r} is given twice (also by {sources[name]})"
            )
        want = inputs[name].dtype
        if arr.dtype != want:
            raise ConfigurationError(
                f"--input {text!r}: the array is {arr.dtype.name} but the engine's input {name!r} "
                f"is {want.name}; save it as {want.name} (e.g. arr.astype({want.name!r}))"
            )
        arrays[name] = np.ascontiguousarray(arr)
        sources[name] = source

    for s in specs:
        if s.name is not None and s.name not in inputs:
            raise BindingError(
                f"--input {s.text!r}: the engine has no input {s.name!r}; its inputs are "
                f"{allowed!r}"
            )
    pending: list[InputSpec] = []  # generators without a shape: sized once the profile is known
    for s in specs:
        option = f"--input {s.text!r}"
        if s.kind == "npz":
            assert s.path is not None
            loaded = load_array_file(s.path, option)
            if not isinstance(loaded, dict):
                raise ConfigurationError(
                    f"{option}: {s.path!r} holds one array, not an .npz archive"
                )
            for key, arr in loaded.items():
                put(key, arr, f"{s.path}[{key}]", s.text)
        elif s.kind == "file":
            assert s.path is not None and s.name is not None
            loaded = load_array_file(s.path, option)
            if isinstance(loaded, dict):
                if s.name not in loaded:
                    raise ConfigurationError(
                        f"{option}: {s.path!r} has no array named {s.name!r}; it has "
                        f"{sorted(loaded)!r}"
                    )
                loaded = loaded[s.name]
            put(s.name, loaded, s.path, s.text)
        elif s.shape is not None:
            assert s.name is not None
            put(s.name, generate(s.kind, s.shape, inputs[s.name].dtype, rng), s.kind, s.text)
        else:
            pending.append(s)
    k = profile if profile is not None else _profile_for(inputs, arrays)
    for s in pending:
        assert s.name is not None
        spec = inputs[s.name]
        shape = _default_shape(spec, k)
        put(
            s.name,
            generate(s.kind, shape, spec.dtype, rng),
            f"{s.kind} (opt of profile {k})",
            s.text,
        )
    for name, spec in inputs.items():
        if name not in arrays:
            arrays[name] = _default_array(spec, k, rng)
            sources[name] = (
                f"opt values of profile {k} (not given; a shape tensor)"
                if spec.profile_values
                else f"random (not given; opt of profile {k})"
            )
    return {name: arrays[name] for name in inputs}, {name: sources[name] for name in inputs}


def prepare_inputs(
    ex: BaseExecutor, texts: Sequence[str], *, profile: int | None, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    """The arrays for ``--input`` values ``texts``, where each came from, and the profile the
    executor will run them in."""
    specs = [parse_input(text) for text in texts]
    arrays, sources = resolve_inputs(specs, ex.inputs, profile=profile, seed=seed)
    shapes = {
        name: _key(spec, arrays[name])
        if spec.profile_values is not None
        else check_shape(spec, arrays[name].shape)
        for name, spec in ex.inputs.items()
    }
    # The executor makes the same choice per call; done here first so it can be reported.
    chosen = choose_profile(ex.inputs, shapes, ex.num_profiles, profile)
    return arrays, sources, chosen


def inputs_info(arrays: Mapping[str, np.ndarray], sources: Mapping[str, str]) -> dict[str, Any]:
    """The ``inputs`` object of the run and bench JSON (:data:`~.schemas.INPUTS_SCHEMA`)."""
    return {
        name: {"shape": list(a.shape), "dtype": a.dtype.name, "source": sources[name]}
        for name, a in arrays.items()
    }


def inputs_lines(info: Mapping[str, Any]) -> list[str]:
    """:func:`inputs_info` as table lines: name, dtype, shape, source."""
    rows = [[name, d["dtype"], str(d["shape"]), d["source"]] for name, d in info.items()]
    return table(rows)
