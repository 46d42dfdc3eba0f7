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
shape). Inputs not named by any ``--input`` are generated as ``random``; their dynamic
dimensions follow the inputs given (same position, inside its bounds): ``--input
x=random:12x4`` generates ``y`` at 12x4 too. If the shapes still do not fit, the error says
which inputs were generated, at what shape, and the ``--input`` to pass. Errors are
:class:`~trt_exec.errors.ConfigurationError` (bad syntax, unreadable file, wrong dtype) or
:class:`~trt_exec.errors.BindingError` (a name the engine does not have).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BindingError, ConfigurationError, ShapeError
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
    "explain_generated",
    "generated_inputs_hint",
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
        # A shape tensor's profiles bound its values, which the header does not hold.
        if spec.profile_shapes and spec.profile_values is None:
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


def _fitted_shape(
    spec: TensorSpec, k: int, given: Mapping[str, np.ndarray], inputs: Mapping[str, TensorSpec]
) -> tuple[Shape, list[str]]:
    """The shape to generate ``spec`` at in profile ``k``: its opt shape, except that each
    dynamic dimension takes the value the given inputs have at the same position (where that
    input's dimension is dynamic too and the value is inside this input's bounds). Dimensions
    that must agree (a batch, a sequence length) then agree; the names followed come second."""
    shape = list(_default_shape(spec, k))
    bounds = (
        spec.profile_shapes[min(k, len(spec.profile_shapes) - 1)] if spec.profile_shapes else None
    )
    followed: list[str] = []
    for i, d in enumerate(spec.shape):
        if d != -1:
            continue
        for name, arr in given.items():
            other = inputs[name].shape
            if len(other) != len(spec.shape) or other[i] != -1 or arr.ndim != len(spec.shape):
                continue
            v = int(arr.shape[i])
            if bounds is None or bounds.min[i] <= v <= bounds.max[i]:
                shape[i] = v
                if name not in followed:
                    followed.append(name)
            break
    return tuple(shape), followed


def _shape_origin(k: int, followed: Sequence[str]) -> str:
    if not followed:
        return f"opt of profile {k}"
    return f"profile {k}, dynamic dims as {', '.join(followed)}"


def _generated(arrays: Mapping[str, np.ndarray], sources: Mapping[str, str]) -> list[str]:
    """The inputs trt-exec sized itself (not given, or a generator without a shape)."""
    return [n for n in arrays if "not given" in sources[n] or "profile" in sources[n]]


def generated_inputs_hint(arrays: Mapping[str, np.ndarray], sources: Mapping[str, str]) -> str:
    """For an error with generated inputs: which were generated at what shape, and the
    ``--input`` to pass to choose their shape instead ("" when none was generated unsized)."""
    generated = _generated(arrays, sources)
    if not generated:
        return ""
    listed = "; ".join(f"{n} at {list(arrays[n].shape)}, {sources[n]}" for n in generated)
    example = " ".join(
        f"--input {n}=random:{'x'.join(str(d) for d in arrays[n].shape) or '1'}" for n in generated
    )
    return (
        f"Inputs trt-exec generated: {listed}. Give their shapes so that all inputs fit one "
        f"profile together: {example}, with the dimensions changed to those you need"
    )


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
    given = dict(arrays)  # the shapes that generated inputs follow
    for s in pending:
        assert s.name is not None
        spec = inputs[s.name]
        shape, followed = _fitted_shape(spec, k, given, inputs)
        put(
            s.name,
            generate(s.kind, shape, spec.dtype, rng),
            f"{s.kind} ({_shape_origin(k, followed)})",
            s.text,
        )
    for name, spec in inputs.items():
        if name not in arrays:
            if spec.profile_values:
                arrays[name] = _default_array(spec, k, rng)
                sources[name] = f"opt values of profile {k} (not given; a shape tensor)"
            else:
                shape, followed = _fitted_shape(spec, k, given, inputs)
                arrays[name] = generate("random", shape, spec.dtype, rng)
                sources[name] = f"random (not given; {_shape_origin(k, followed)})"
    return {name: arrays[name] for name in inputs}, {name: sources[name] for name in inputs}


def prepare_inputs(
    ex: BaseExecutor, texts: Sequence[str], *, profile: int | None, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    """The arrays for ``--input`` values ``texts``, where each came from, and the profile the
    executor will run them in."""
    specs = [parse_input(text, list(ex.inputs)) for text in texts]
    arrays, sources = resolve_inputs(specs, ex.inputs, profile=profile, seed=seed)
    with explain_generated(arrays, sources):
        shapes = {
            name: _key(spec, arrays[name])
            if spec.profile_values is not None
            else check_shape(spec, arrays[name].shape)
            for name, spec in ex.inputs.items()
        }
        # The executor makes the same choice per call; done here first so it can be reported.
        chosen = choose_profile(ex.inputs, shapes, ex.num_profiles, profile)
    return arrays, sources, chosen


@contextmanager
def explain_generated(
    arrays: Mapping[str, np.ndarray], sources: Mapping[str, str]
) -> Iterator[None]:
    """A ShapeError raised in the block gets :func:`generated_inputs_hint` appended."""
    try:
        yield
    except ShapeError as exc:
        hint = generated_inputs_hint(arrays, sources)
        blamed = re.match(r"input '([^']*)'", exc.message)
        if not hint or (blamed and blamed.group(1) not in _generated(arrays, sources)):
            raise  # no generated input, or a given input alone does not fit
        raise ShapeError(f"{exc.message}. {hint}", tensorrt_log=exc.tensorrt_log) from exc


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
