"""Probes of the binding objects that never call into libnvinfer (issue 17), run in a subprocess.

``python binding_probes.py real`` imports ``tensorrt`` (the real binding wheel against stub
libraries, set up by test_diff_bindings.py); ``python binding_probes.py sim <label>`` uses
``trt_exec.sim.simulated_tensorrt(label)``. Either prints one JSON object: probe -> the result's
type name and value, or the exception class. Same probes, same description, so the two outputs
compare key by key.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

PROBES: dict[str, str] = {
    "version": "trt.__version__",
    "dims_eq_dims": "trt.Dims([1, 2]) == trt.Dims([1, 2])",
    "dims_eq_tuple": "trt.Dims([1, 2]) == (1, 2)",
    "dims_eq_list": "trt.Dims([1, 2]) == [1, 2]",
    "dims_ne_tuple": "trt.Dims([1, 2]) != (1, 3)",
    "tuple_eq_dims": "(1, 2) == trt.Dims([1, 2])",
    "dims_list": "list(trt.Dims([1, 2]))",
    "dims_len": "len(trt.Dims([3, 4, 5]))",
    "dims_len_empty": "len(trt.Dims())",
    "dims_neg_index": "trt.Dims([1, 2])[-1]",
    "dims_out_of_range": "trt.Dims([1, 2])[2]",
    "dims_setitem": "(lambda d: (d.__setitem__(0, 7), tuple(d))[1])(trt.Dims([1, 2]))",
    "dims_str": "str(trt.Dims([1, 2]))",
    "dims_max": "trt.Dims.MAX_DIMS",
    "dims_too_many": "trt.Dims([1] * 9)",
    "dims_isinstance_tuple": "isinstance(trt.Dims([1]), tuple)",
    "dims_hash": "hash(trt.Dims([1]))",
    "dims2": "tuple(trt.Dims2(1, 2))",
    "dims2_seq": "tuple(trt.Dims2([1, 2]))",
    "dims2_bad": "trt.Dims2(1, 2, 3)",
    "dims3": "tuple(trt.Dims3(1, 2, 3))",
    "dims4": "tuple(trt.Dims4(1, 2, 3, 4))",
    "dimshw": "tuple(trt.DimsHW(1, 2))",
    "dims2_is_dims": "isinstance(trt.Dims2(1, 2), trt.Dims)",
    "volume": "trt.volume(trt.Dims([2, 3]))",
    "volume_empty": "trt.volume(trt.Dims())",
    "logger_min": "trt.Logger().min_severity",
    "logger_min_error": "trt.Logger(trt.Logger.ERROR).min_severity",
    "logger_is_ilogger": "isinstance(trt.Logger(), trt.ILogger)",
    "ilogger_no_init": "(lambda C: C())(type('L', (trt.ILogger,), {'__init__': lambda s: None}))",
    "ilogger_ok": (
        "(lambda C: type(C()).__name__)(type('L', (trt.ILogger,), "
        "{'__init__': lambda s: trt.ILogger.__init__(s), 'log': lambda s, sev, m: None}))"
    ),
    "allocator_no_init": (
        "(lambda C: C())(type('A', (trt.IOutputAllocator,), {'__init__': lambda s: None}))"
    ),
    "allocator_ok": (
        "(lambda C: type(C()).__name__)(type('A', (trt.IOutputAllocator,), "
        "{'__init__': lambda s: trt.IOutputAllocator.__init__(s)}))"
    ),
    "permutation": "tuple(trt.Permutation([1, 0]))",
    "permutation_len": "len(trt.Permutation([1, 0]))",
    "permutation_index": "trt.Permutation([1, 0])[1]",
    "weights_empty": "(lambda w: (w.size, w.nbytes, str(w.dtype)))(trt.Weights())",
    "weights_array": (
        "(lambda w: (w.size, w.nbytes, str(w.dtype), len(w)))(trt.Weights(np.ones(3, np.float32)))"
    ),
    # 8.6.1 and 10.0.1 read back zeros here (KNOWN in test_diff_bindings.py).
    "weights_numpy": "(lambda a: trt.Weights(a).numpy().tolist())(np.arange(3, dtype=np.int32))",
}


def _datatype_probes(trt: Any) -> dict[str, str]:
    out = {}
    for name in sorted(trt.DataType.__members__):
        out[f"DataType.{name}.value"] = f"int(trt.DataType.{name})"
        out[f"DataType.{name}.itemsize"] = f"trt.DataType.{name}.itemsize"
        out[f"nptype({name})"] = f"trt.nptype(trt.DataType.{name}).__name__"
    return out


def describe(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return [type(v).__name__, v]
    if isinstance(v, (tuple, list)):
        return [type(v).__name__, [describe(x) for x in v]]
    if hasattr(v, "name") and hasattr(v, "value"):
        return ["enum", str(v.name)]
    return [type(v).__name__.rsplit(".", 1)[-1], None]


def main() -> None:
    if sys.argv[1] == "real":
        import tensorrt as trt
    else:
        from trt_exec.sim import simulated_tensorrt

        trt = simulated_tensorrt(sys.argv[2])
    out: dict[str, Any] = {}
    for key, expr in {**PROBES, **_datatype_probes(trt)}.items():
        try:
            out[key] = describe(eval(expr, {"trt": trt, "np": np}))
        except Exception as exc:
            out[key] = ["raise", type(exc).__name__]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
