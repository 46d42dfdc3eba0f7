"""``--input`` for ``trt-exec run`` and ``bench``: parsing the specs, producing the arrays and
describing them.

Forms (one per ``--input``, repeatable)::

    name=file.npy            the array in a .npy file
    name=file.npz            the array called ``name`` in a .npz file
    file.npz                 every array of a .npz file, by its key
    name=random[:4x16]       uniform data of the engine's dtype
    name=zeros[:4x16]
    name=ones[:4x16]

NAME is matched against the engine's input names first (the longest that ``SPEC`` starts with,
followed by ``=``), so every name is addressable as written, spaces and ``=`` included:
``--input 'a=b=zeros'`` for an input named ``a=b`` (quote it for the shell). The shape and dtype
of a file's array are checked against the engine (the input's dtype, a shape inside a profile)
from its header, before the data is read; an .npz archive reads only the members asked for.

A generator without a shape uses the input's ``opt`` shape in the chosen profile (or its static
shape). Inputs not named by any ``--input`` are generated as ``random``. Errors are
:class:`~trt_exec.errors.ConfigurationError` (bad syntax, unreadable file, wrong dtype) or
:class:`~trt_exec.errors.BindingError` (a name the engine does not have).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BindingError, ConfigurationError
from ..spec import Shape, TensorSpec, check_shape, choose_profile
from .files import HeaderCheck, NpzReader, open_regular, read_npy
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


def parse_input(text: str, names: Sequence[str] = ()) -> InputSpec:
    """Parse one ``--input`` value (syntax only). ``names`` are the engine's input names: when
    ``text`` starts with one of them and ``=``, that is the name (the longest such), so names
    containing ``=`` or spaces are given as written: ``--input 'a=b=random:2x2'`` for input
    ``a=b``."""
    option = f"--input {text!r}"
    exact = [n for n in names if text.startswith(n + "=")]
    if exact:
        name = max(exact, key=len)
        source = text[len(name) + 1 :]
    elif "=" not in text:
        if text.endswith(".npz"):
            return InputSpec(text, None, "npz", path=text)
        raise ConfigurationError(f"{option} is not NAME=SOURCE; {_SYNTAX}")
    else:
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
    if source.endswith((".npy", ".npz")) or os.path.lexists(source):
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


def load_array_file(
    path: str, option: str, names: Sequence[str] | None = None
) -> np.ndarray | dict[str, np.ndarray]:
    """The array of a .npy file, or a .npz file's arrays by name (only ``names`` when given);
    ``option`` prefixes errors. Headers are checked before any data is read
    (:mod:`trt_exec.cli.files`)."""
    if _is_zip(path, option):
        with NpzReader(path, option) as npz:
            return npz.read_all(names)
    return read_npy(path, option)


def _is_zip(path: str, option: str) -> bool:
    with open_regular(path, option) as f:
        try:
            return f.read(4) == b"PK\x03\x04"
        except OSError as exc:
            raise ConfigurationError(
                f"{option}: file {path!r} cannot be read ({exc.strerror or exc})"
            ) from None


def _fits(spec: TensorSpec, num_profiles: int, text: str) -> HeaderCheck:
    """A header check: the declared dtype and shape must be the input's, within some profile -
    checked before the array is read or generated, so a huge declared shape costs nothing."""

    def check(shape: tuple[int, ...], dtype: np.dtype) -> None:
        _check_dtype(spec, dtype, text)
        checked = check_shape(spec, shape)
        if spec.profile_shapes:
            choose_profile({spec.name: spec}, {spec.name: checked}, num_profiles)

    return check


def _check_dtype(spec: TensorSpec, dtype: np.dtype, text: str) -> None:
    want = spec.dtype
    if dtype == want:
        return
    if dtype.newbyteorder("=") == want.newbyteorder("="):
        order = {">": "big-endian", "<": "little-endian"}
        raise ConfigurationError(
            f"--input {text!r}: the array is {dtype.name} in {order.get(dtype.byteorder, 'native')}"
            f" byte order ({dtype.str!r}) but the engine's input {spec.name!r} is {want.name} in "
            f"this machine's byte order ({want.str!r}); save it with arr.astype({want.str!r})"
        )
    raise ConfigurationError(
        f"--input {text!r}: the array is {dtype.name} but the engine's input {spec.name!r} "
        f"is {want.name}; save it as {want.name} (e.g. arr.astype({want.name!r}))"
    )


def _default_shape(spec: TensorSpec, profile: int) -> Shape:
    if spec.profile_shapes:
        return spec.profile_shapes[min(profile, len(spec.profile_shapes) - 1)].opt
    return tuple(max(d, 1) for d in spec.shape)


def _profile_for(inputs: Mapping[str, TensorSpec], given: Mapping[str, np.ndarray]) -> int:
    """The profile that fits the arrays given so far (0 when none is given or none fits: the
    executor then reports the shapes that do not fit)."""
    if not given:
        return 0
    subset = {n: inputs[n] for n in given}
    num_profiles = max((len(s.profile_shapes) for s in inputs.values()), default=1) or 1
    try:
        return choose_profile(subset, {n: tuple(a.shape) for n, a in given.items()}, num_profiles)
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

    num_profiles = max((len(sp.profile_shapes) for sp in inputs.values()), default=1) or 1

    def put(name: str, arr: np.ndarray, source: str, text: str) -> None:
        if name not in inputs:
            raise BindingError(
                f"--input {text!r}: the engine has no input {name!r}; its inputs are {allowed!r}"
            )
        if name in arrays:
            raise ConfigurationError(
                f"--input {text!r}: input {name!r} is given twice (also by {sources[name]})"
            )
        _check_dtype(inputs[name], arr.dtype, text)
        # Not np.ascontiguousarray: it turns a 0-d array into shape (1,).
        arrays[name] = arr if arr.flags.c_contiguous else np.array(arr, order="C")
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
            with NpzReader(s.path, option) as npz:
                for key in npz.names:
                    if key not in inputs:
                        raise BindingError(
                            f"{option}: {s.path!r} has array {key!r}, but the engine has no "
                            f"input {key!r}; its inputs are {allowed!r}"
                        )
                for key in npz.names:
                    check = _fits(inputs[key], num_profiles, s.text)
                    put(key, npz.read(key, check), f"{s.path}[{key}]", s.text)
        elif s.kind == "file":
            assert s.path is not None and s.name is not None
            check = _fits(inputs[s.name], num_profiles, s.text)
            if _is_zip(s.path, option):
                with NpzReader(s.path, option) as npz:
                    if s.name not in npz.names:
                        raise ConfigurationError(
                            f"{option}: {s.path!r} has no array named {s.name!r}; it has "
                            f"{sorted(npz.names)!r}"
                        )
                    loaded = npz.read(s.name, check)
            else:
                loaded = read_npy(s.path, option, check)
            put(s.name, loaded, s.path, s.text)
        elif s.shape is not None:
            assert s.name is not None
            spec = inputs[s.name]
            _fits(spec, num_profiles, s.text)(s.shape, spec.dtype)
            put(s.name, generate(s.kind, s.shape, spec.dtype, rng), s.kind, s.text)
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
            arrays[name] = generate("random", _default_shape(spec, k), spec.dtype, rng)
            sources[name] = f"random (not given; opt of profile {k})"
    return {name: arrays[name] for name in inputs}, {name: sources[name] for name in inputs}


def prepare_inputs(
    ex: BaseExecutor, texts: Sequence[str], *, profile: int | None, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    """The arrays for ``--input`` values ``texts``, where each came from, and the profile the
    executor will run them in."""
    specs = [parse_input(text, list(ex.inputs)) for text in texts]
    arrays, sources = resolve_inputs(specs, ex.inputs, profile=profile, seed=seed)
    shapes = {name: check_shape(ex.inputs[name], a.shape) for name, a in arrays.items()}
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
