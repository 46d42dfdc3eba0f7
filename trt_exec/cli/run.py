"""``trt-exec run``: run an engine once on ``--input`` data, optionally saving the inputs and
outputs, and comparing the outputs with a reference (exit status 1 on a mismatch).

The ``--json`` output is :data:`~.schemas.RUN_SCHEMA`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from typing import Any, TextIO

import numpy as np

from ..errors import BindingError, ConfigurationError
from .exitcodes import EXIT_FAILED, EXIT_OK
from .files import HeaderCheck, NpzReader, check_output_path, open_regular, write_npz
from .inputs import explain_generated, inputs_info, inputs_lines, prepare_inputs
from .opened import OpenedEngine
from .options import Subcommands, non_negative_float
from .render import print_json, printable, table
from .schemas import RUN_SCHEMA_ID

__all__ = ["add_parser", "command"]


def add_parser(commands: Subcommands) -> None:
    p = commands.add(
        "run",
        "run an engine once, optionally saving or comparing the outputs",
        [commands.engine, commands.inputs],
        command,
    )
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument("--save", metavar="OUT.npz", help="write the outputs to a .npz file")
    p.add_argument("--save-inputs", metavar="IN.npz", help="write the inputs used to a .npz file")
    p.add_argument(
        "--compare",
        metavar="REF.npz",
        help="compare the outputs with a reference .npz; exit 1 on a mismatch",
    )
    p.add_argument(
        "--rtol",
        type=non_negative_float,
        default=1e-5,
        help="relative tolerance for --compare (default 1e-5)",
    )
    p.add_argument(
        "--atol",
        type=non_negative_float,
        default=1e-8,
        help="absolute tolerance for --compare (default 1e-8)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.run/1)")


def command(args: argparse.Namespace, out: TextIO) -> int:
    # Checked before the engine runs: a path that cannot be written wastes no run.
    save = _npz_path(args.save, "--save") if args.save is not None else None
    save_inputs = (
        _npz_path(args.save_inputs, "--save-inputs") if args.save_inputs is not None else None
    )
    ref_names = _reference_names(args.compare) if args.compare is not None else None
    opened = OpenedEngine(args.engine, args.tensorrt, args.backend)
    reference = None
    with opened.ex as ex:
        arrays, sources, profile = prepare_inputs(
            ex, args.input, profile=args.profile, seed=args.seed
        )
        if ref_names is not None:
            extra = [n for n in ref_names if n not in ex.outputs]
            if extra:
                raise BindingError(
                    f"--compare {args.compare!r}: {extra!r} are not outputs of the engine; its "
                    f"outputs are {list(ex.outputs)!r}"
                )
        if save_inputs is not None:
            write_npz(save_inputs, arrays, "--save-inputs")
        with explain_generated(arrays, sources):
            outputs = ex.infer(arrays, profile=args.profile)
    if args.compare is not None:
        reference = _load_reference(args.compare, outputs)
    if save is not None:
        write_npz(save, outputs, "--save")
    saved = save
    result: dict[str, Any] = {
        "schema": RUN_SCHEMA_ID,
        "engine": opened.engine_info(),
        "tensorrt": opened.tensorrt,
        "backend": opened.backend,
        "profile": profile,
        "inputs": inputs_info(arrays, sources),
        "outputs": {
            n: {"shape": list(a.shape), "dtype": a.dtype.name, **_stats(a)}
            for n, a in outputs.items()
        },
        "saved": saved,
        "compare": None,
    }
    match = True
    if reference is not None:
        result["compare"] = _compare(outputs, reference, args.compare, args.rtol, args.atol)
        match = result["compare"]["match"]
    if args.json:
        for r in (result["compare"] or {}).get("outputs", {}).values():
            r.pop("detail", None)
        print_json(result, out)
    else:
        lines = opened.header() + _render(result, pinned=args.profile is not None)
        print("\n".join(lines), file=out)
    return EXIT_OK if match else EXIT_FAILED


def _reference_names(path: str) -> list[str]:
    """The array names of the --compare archive, read from its directory (no data yet)."""
    option = f"--compare {path!r}"
    with open_regular(path, option) as f:
        if f.read(4) != b"PK\x03\x04":
            raise ConfigurationError(
                f"{option}: a reference must be a .npz with one array per output name"
            )
    with NpzReader(path, "--compare") as npz:
        return npz.names


class _OtherShape(Exception):
    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        super().__init__(shape)
        self.shape, self.dtype = shape, dtype


def _load_reference(path: str, outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference arrays; each must be of a dtype comparable with its output's (real numbers
    or booleans: a complex reference would lose its imaginary part). A reference whose header
    declares another shape than its output's is not read (however large it says it is): a
    zero-strided stand-in of that shape reports the mismatch."""

    def comparable(name: str) -> HeaderCheck:
        def check(shape: tuple[int, ...], dtype: np.dtype) -> None:
            if dtype.kind not in "biuf":
                raise ConfigurationError(
                    f"--compare {path!r}: reference {name!r} is {dtype.name}, which cannot be "
                    f"compared with output {name!r} ({outputs[name].dtype.name}); save a real "
                    "(integer, float or bool) reference"
                )
            if shape != outputs[name].shape:
                raise _OtherShape(shape, dtype)

        return check

    loaded: dict[str, np.ndarray] = {}
    with NpzReader(path, "--compare") as npz:
        for n in npz.names:
            try:
                loaded[n] = npz.read(n, comparable(n))
            except _OtherShape as other:
                one = np.zeros(1, other.dtype)
                loaded[n] = np.lib.stride_tricks.as_strided(
                    one, shape=other.shape, strides=(0,) * len(other.shape), writeable=False
                )
    return loaded


def _npz_path(path: str, option: str) -> str:
    """The file written for ``path``: ``.npz`` is appended when missing (as ``np.savez`` does)."""
    check_output_path(path, option)
    return check_output_path(path if path.endswith(".npz") else path + ".npz", option)


def _stats(a: np.ndarray) -> dict[str, float | None]:
    if a.size == 0 or a.dtype.kind not in "biuf":
        return {"min": None, "max": None, "mean": None}
    f = a.astype(np.float64)
    return {"min": float(f.min()), "max": float(f.max()), "mean": float(f.mean())}


def _compare(
    outputs: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    path: str,
    rtol: float,
    atol: float,
) -> dict[str, Any]:
    """The ``compare`` object of :data:`~.schemas.RUN_SCHEMA`; a ``"shape"`` entry also has a
    ``"detail"`` for the text output."""
    per: dict[str, Any] = {}
    for name, got in outputs.items():
        if name not in reference:
            per[name] = {
                "status": "missing",
                "max_abs_err": None,
                "max_rel_err": None,
                "mismatched": None,
                "size": None,
            }
        else:
            per[name] = _compare_one(got, reference[name], rtol, atol)
    compared = [r for r in per.values() if r["status"] != "missing"]
    match = bool(compared) and all(r["status"] == "ok" for r in compared)
    return {"reference": path, "rtol": rtol, "atol": atol, "match": match, "outputs": per}


def _compare_one(got: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> dict[str, Any]:
    if got.shape != ref.shape:
        return {
            "status": "shape",
            "max_abs_err": None,
            "max_rel_err": None,
            "mismatched": None,
            "size": int(got.size),
            "detail": f"shape {list(got.shape)} vs reference {list(ref.shape)}",
        }
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    close = np.isclose(g, r, rtol=rtol, atol=atol, equal_nan=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(g - r)
        both_nan = np.isnan(g) & np.isnan(r)
        diff = np.where(both_nan, 0.0, diff)
        # Relative to a zero reference, an error is infinite (or 0 where they agree), not
        # diff / tiny: the JSON then says null ("no finite relative error") and the text "inf".
        rel = np.where(r == 0, np.where(diff == 0, 0.0, np.inf), diff / np.abs(r))
    bad = int(np.count_nonzero(~close))
    max_rel = float(np.nanmax(rel)) if rel.size and not np.isnan(rel).all() else 0.0
    return {
        "status": "ok" if bad == 0 else "mismatch",
        "max_abs_err": float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0,
        "max_rel_err": max_rel if math.isfinite(max_rel) else None,
        "mismatched": bad,
        "size": int(got.size),
    }


def _render(result: dict[str, Any], *, pinned: bool) -> list[str]:
    """The text output after the header, from the ``run --json`` document."""
    lines = [
        f"profile    {result['profile']}" + ("" if pinned else " (chosen from the input shapes)")
    ]
    lines.append("inputs")
    lines += inputs_lines(result["inputs"])
    lines.append("outputs")
    rows = []
    for name, info in result["outputs"].items():
        row = [name, info["dtype"], str(info["shape"])]
        if info["min"] is not None:
            row.append(f"min {info['min']:.6g}  max {info['max']:.6g}  mean {info['mean']:.6g}")
        else:
            row.append("")
        rows.append(row)
    lines += table(rows)
    if result["saved"]:
        lines.append(f"saved outputs to {printable(result['saved'])}")
    c = result["compare"]
    if c is not None:
        lines.append(
            f"compare with {printable(c['reference'])} (rtol={c['rtol']:g}, atol={c['atol']:g})"
        )
        rows = []
        for name, r in c["outputs"].items():
            if r["status"] == "missing":
                rows.append([name, "not in the reference: not compared", ""])
            elif r["status"] == "shape":
                rows.append([name, r["detail"], "MISMATCH"])
            else:
                rows.append(
                    [
                        name,
                        f"max abs err {r['max_abs_err']:.3g}  max rel err "
                        + (
                            f"{r['max_rel_err']:.3g}"
                            if r["max_rel_err"] is not None
                            else "inf (the reference is 0 where they differ)"
                        ),
                        "ok"
                        if r["status"] == "ok"
                        else f"MISMATCH ({r['mismatched']} of {r['size']} outside tolerance)",
                    ]
                )
        lines += table(rows)
        if not any(r["status"] != "missing" for r in c["outputs"].values()):
            lines.append("compare: FAILED - the reference has none of the engine's outputs")
        else:
            lines.append("compare: all outputs match" if c["match"] else "compare: MISMATCH")
    return lines
