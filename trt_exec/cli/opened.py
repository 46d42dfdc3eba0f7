"""The ENGINE of ``inspect``, ``run`` and ``bench``, opened with ``--tensorrt`` and
``--backend``, with what was chosen and why."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from ..discovery import ENV_TENSORRT, find_tensorrt, is_simulated, module_flavor, module_version
from ..errors import EngineLoadError
from ..loading import load, read_engine_bytes
from .render import describe_backend, describe_tensorrt, printable

__all__ = ["OpenedEngine", "not_an_engine", "tensorrt_info"]


def tensorrt_info(trt: ModuleType, selected_by: str) -> dict[str, Any]:
    """The ``tensorrt`` object of the JSON schemas (:data:`~.schemas.TENSORRT_SCHEMA`)."""
    return {
        "module": module_flavor(trt),
        "version": module_version(trt),
        "simulated": is_simulated(trt),
        "selected_by": selected_by,
    }


_BUILD_HINT = (
    "build an engine from an ONNX model with `trtexec --onnx=model.onnx "
    "--saveEngine=model.engine` or with TensorRT's builder and OnnxParser (Python: "
    "trt.Builder, trt.OnnxParser, builder.build_serialized_network), then pass the .engine file"
)


def not_an_engine(data: bytes) -> tuple[str, str] | None:
    """``(what it is, what to do)`` when ``data`` is a known kind of file other than an engine,
    judged by its first bytes and, for ONNX, the model's protobuf fields; None otherwise."""
    data_fix = "pass it with --input or --compare; ENGINE is a serialized engine (.engine, .plan)"
    if data.startswith(b"\x93NUMPY"):
        return "a numpy .npy array file", data_fix
    if data.startswith(b"PK"):
        return "a zip archive, such as a numpy .npz file", data_fix
    # An ONNX ModelProto starts with field 1 (ir_version, a varint: tag 0x08) and names its
    # producer and opset domain ("onnx" / "ai.onnx") in the first few hundred bytes.
    if data[:1] == b"\x08" and (b"onnx" in data[:4096].lower() or b"pytorch" in data[:4096]):
        return "an ONNX model", _BUILD_HINT
    return None


class OpenedEngine:
    """An executor (:attr:`ex`) opened from the command line; close it with ``with opened.ex``."""

    def __init__(self, path: str, tensorrt: str | None, backend: str | None) -> None:
        if tensorrt:
            selected_by = "argument"
        elif os.environ.get(ENV_TENSORRT, "").strip():
            selected_by = "environment"
        else:
            selected_by = "discovery"
        self.path = path
        data = read_engine_bytes(path)  # a missing file is reported before anything else
        trt = find_tensorrt(tensorrt)
        self.size = len(data)
        try:
            self.ex = load(data, tensorrt=trt, backend=backend)
        except EngineLoadError as exc:
            known = not_an_engine(data)
            if known is None:
                raise
            raise EngineLoadError(
                f"ENGINE {path!r} is {known[0]}, not a serialized TensorRT engine; {known[1]}",
                tensorrt_log=exc.tensorrt_log,
            ) from exc
        #: The ``tensorrt`` and ``backend`` objects of the JSON schemas.
        self.tensorrt = tensorrt_info(trt, selected_by)
        choice = self.ex.choice
        self.backend = {"name": self.ex.backend, "source": choice.source, "reason": choice.reason}

    def header(self) -> list[str]:
        """The first lines of ``run`` and ``bench``: engine, TensorRT and backend."""
        return [
            f"engine     {printable(self.path)}",
            f"TensorRT   {describe_tensorrt(self.tensorrt)}",
            f"backend    {describe_backend(self.backend)}",
        ]

    def engine_info(self) -> dict[str, Any]:
        """The ``engine`` object of the JSON schemas (:data:`~.schemas.ENGINE_SCHEMA`)."""
        return {"path": self.path, "size_bytes": self.size}

    @property
    def data_path(self) -> str:
        """``"cuda"`` when the executor runs on a CUDA device, ``"host"`` in the simulator's
        CPU mode."""
        return "host" if self.ex.device is None else "cuda"
