"""The JSON documents ``trt-exec ... --json`` prints, one versioned schema per command.

A schema here is a tiny type description: a dict is an object with exactly those keys (or, keyed
by ``str``, a mapping of names to that value), a one-element list is an array of that item, a
tuple is "any of these", and a type is a leaf. ``None`` in a tuple means the value may be JSON
null. Each document carries its schema id (``"schema": "trt-exec.inspect/1"``, ...); a change
that breaks a reader of it gets a new id.

The documents are strict JSON (RFC 8259), which has no NaN or infinity: a non-finite number is
written as one of the strings of :data:`NON_FINITE` (``"NaN"``, ``"Infinity"``, ``"-Infinity"``,
the spellings JavaScript and Python's ``float()`` read back), so a value typed ``float`` may also
be one of those strings where the schema says so.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NON_FINITE",
    "INSPECT_SCHEMA",
    "RUN_SCHEMA",
    "BENCH_SCHEMA",
    "DOCTOR_SCHEMA",
    "INSPECT_SCHEMA_ID",
    "RUN_SCHEMA_ID",
    "BENCH_SCHEMA_ID",
    "DOCTOR_SCHEMA_ID",
    "ENGINE_SCHEMA",
    "TENSORRT_SCHEMA",
    "BACKEND_SCHEMA",
    "PROFILE_SCHEMA",
    "INPUTS_SCHEMA",
]

#: How a non-finite float is written in the JSON documents.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}

INSPECT_SCHEMA_ID = "trt-exec.inspect/1"
RUN_SCHEMA_ID = "trt-exec.run/1"
BENCH_SCHEMA_ID = "trt-exec.bench/1"
DOCTOR_SCHEMA_ID = "trt-exec.doctor/1"

# --- pieces shared by inspect, run and bench -----------------------------------------------------
ENGINE_SCHEMA: dict[str, Any] = {"path": str, "size_bytes": int}
TENSORRT_SCHEMA: dict[str, Any] = {
    "module": str,  # "tensorrt", "tensorrt_rtx", ...
    "version": str,  # the module's __version__
    "simulated": bool,  # True for trt_exec.sim's simulated TensorRT
    "selected_by": str,  # "argument" (--tensorrt), "environment" (TRT_EXEC_TENSORRT), "discovery"
}
BACKEND_SCHEMA: dict[str, Any] = {
    "name": str,  # "v2" or "v3"
    "source": str,  # "argument" (--backend), "environment" (TRT_EXEC_BACKEND), "version"
    "reason": str,  # one sentence
}
PROFILE_SCHEMA: dict[str, Any] = {"min": [int], "opt": [int], "max": [int]}
#: The inputs a run or bench used: name -> shape, dtype, where the data came from.
INPUTS_SCHEMA: dict[Any, Any] = {str: {"shape": [int], "dtype": str, "source": str}}

#: ``trt-exec inspect --json`` (``"schema": "trt-exec.inspect/1"``).
INSPECT_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.inspect/1"
    "engine": ENGINE_SCHEMA,
    "tensorrt": TENSORRT_SCHEMA,
    "backend": BACKEND_SCHEMA,
    "num_profiles": int,
    "io": [
        {
            "name": str,
            "mode": str,  # "input" or "output"
            "dtype": str,  # numpy dtype name, e.g. "float32"
            "shape": [int],  # -1 for a dynamic dimension
            "location": str,  # "device" or "host"
            "shape_tensor": bool,
            "profiles": [PROFILE_SCHEMA],  # one per profile for inputs; [] for outputs
            # A shape-tensor input's (min, opt, max) values per profile; null for the others.
            "profile_values": ([PROFILE_SCHEMA], None),
        }
    ],
    "device_memory": {
        "bytes": (int, None),  # the execution context's device memory; null when unknown
        "api": (str, None),  # where the size came from: "Executor.device_memory_size"
        "per_profile": ([int], None),  # per optimization profile; null when not known
    },
    # The V2 (bindings API) layout: IO tensors x profiles. null for the V3 backend.
    "bindings": (
        [{"index": int, "name": str, "tensor": str, "profile": int, "mode": str}],
        None,
    ),
}

#: ``trt-exec run --json`` (``"schema": "trt-exec.run/1"``).
RUN_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.run/1"
    "engine": ENGINE_SCHEMA,
    "tensorrt": TENSORRT_SCHEMA,
    "backend": BACKEND_SCHEMA,
    "profile": int,
    "inputs": INPUTS_SCHEMA,
    "outputs": {
        str: {
            "shape": [int],
            "dtype": str,
            "min": (float, str, None),  # NON_FINITE strings for NaN and infinities
            "max": (float, str, None),
            "mean": (float, str, None),
        }
    },
    "saved": (str, None),  # the --save path, or null
    "compare": (
        {
            "reference": str,
            "rtol": float,
            "atol": float,
            "match": bool,
            # per output: largest absolute / relative error, elements outside tolerance
            "outputs": {
                str: {
                    "status": str,  # "ok", "mismatch", "shape", "missing"
                    "max_abs_err": (float, str, None),  # NON_FINITE strings too
                    "max_rel_err": (float, str, None),
                    "mismatched": (int, None),
                    "size": (int, None),
                }
            },
        },
        None,
    ),
}

#: ``trt-exec bench --json`` (``"schema": "trt-exec.bench/1"``); latencies in milliseconds.
BENCH_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.bench/1"
    "engine": ENGINE_SCHEMA,
    "tensorrt": TENSORRT_SCHEMA,
    "backend": BACKEND_SCHEMA,
    "data_path": str,  # "host" (simulator CPU mode: not GPU latency) or "cuda"
    "profile": int,  # the optimization profile the inputs ran in
    "inputs": INPUTS_SCHEMA,
    "cuda_graphs": (
        {str: int},  # the executor's graph-cache counters (graphs, hits, misses, ...)
        None,  # null when --cuda-graph was not given
    ),
    "timer": str,  # "time.perf_counter_ns, one synchronous infer() per sample"
    "warmup": int,  # untimed calls before measuring
    "iterations": int,  # timed calls
    "duration_s": float,  # wall-clock of the timed phase
    "latency_ms": {
        "min": float,
        "mean": float,
        "stdev": float,
        "p50": float,
        "p90": float,
        "p99": float,
        "max": float,
    },
    "throughput_per_s": float,  # timed calls / duration_s
    "plot": (str, None),  # the --plot PNG path, or null
}

#: ``trt-exec doctor --json`` (``"schema": "trt-exec.doctor/1"``).
DOCTOR_SCHEMA: dict[str, Any] = {
    "schema": str,
    "python": {"version": str, "executable": str, "platform": str},
    "packages": {str: (str, None)},  # distribution name -> version, null when not installed
    "environment": {str: (str, None)},  # TRT_EXEC_TENSORRT, TRT_EXEC_BACKEND
    "tensorrt": [
        {
            "module": str,  # tensorrt, tensorrt_rtx, tensorrt_lean, tensorrt_dispatch
            "installed": bool,
            "distributions": [str],  # e.g. "tensorrt-cu12-bindings 10.16.1"
            "version": (str, None),  # __version__ when it imports
            "error": (str, None),  # why it does not import
        }
    ],
    "selected": {
        "module": (str, None),
        "version": (str, None),
        "simulated": bool,
        "selected_by": (str, None),
        "backend": (str, None),
        "backend_source": (str, None),
        "reason": (str, None),
        "error": (str, None),
    },
    "cuda": {
        "driver_version": (str, None),  # e.g. "12.4"; null without a driver
        "runtime_version": (str, None),
        "error": (str, None),
        "devices": [{"index": int, "name": str, "compute_capability": str}],
    },
    "findings": [{"level": str, "what": str, "fix": (str, None)}],  # level: ok, note, problem
}
