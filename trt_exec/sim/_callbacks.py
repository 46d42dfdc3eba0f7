"""Simulated interfaces that users implement (``IDebugListener``, ``IGpuAllocator``,
``IGpuAsyncAllocator``) and the ``IPluginRegistry`` that ``get_plugin_registry()`` returns."""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _Sim


class IDebugListenerImpl(_Sim):
    """``trt.IDebugListener`` (10.0+, RTX; 10.0.1 manifest): users subclass it, call
    ``IDebugListener.__init__`` (else TypeError, as the real RTX 1.7.1 raises) and override
    ``process_debug_tensor``; the base method does nothing (observed on RTX 1.7.1)."""

    _PUBLIC = "IDebugListener"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._tramp_init = True

    def process_debug_tensor(
        self, addr: Any, location: Any, type: Any, shape: Any, name: str, stream: int
    ) -> None:
        return None


class IPluginRegistryImpl(_Sim):
    """``trt.IPluginRegistry`` as ``get_plugin_registry()`` returns it: a subset of the real
    surface (manifests), with no creators, as the simulator implements no plugin layer (the real
    RTX 1.7.1 lists two after ``init_libnvinfer_plugins``). Not constructible from Python."""

    _PUBLIC = "IPluginRegistry"
    _RULES = {
        # 8.6.1-10.16.1 manifests; gone in 11.4.0 and RTX 1.7.1.
        "plugin_creator_list": R.PRE11,
        "get_plugin_creator": R.PRE11,
        # 10.0.1+ and RTX manifests.
        "all_creators": R.V10,
        "get_creator": R.V10,
    }

    def __init__(self) -> None:
        mod = self._ctl._rel.module_name
        raise TypeError(f"{mod}.{mod}.IPluginRegistry: No constructor defined!")

    @property
    def plugin_creator_list(self) -> list[Any]:
        return []

    @property
    def all_creators(self) -> list[Any]:
        return []

    def get_plugin_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return None

    def get_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return None


def _pure_virtual(name: str) -> Any:
    def method(self: Any, *args: Any) -> Any:
        raise RuntimeError(f'Tried to call pure virtual function "IGpuAllocator::{name}"')

    method.__name__ = name
    return method


class IGpuAllocatorImpl(_Sim):
    """``trt.IGpuAllocator``: users subclass it, call ``IGpuAllocator.__init__`` (else TypeError,
    as for every pybind11 trampoline) and override the callbacks. Per the manifests: ``allocate``
    and ``deallocate`` on TensorRT (not RTX), ``free`` through 8.x, ``reallocate`` everywhere,
    ``allocate_async`` / ``deallocate_async`` from 10.0 and on RTX. The base callbacks raise
    RuntimeError (pure virtual) and ``reallocate`` returns None (nullptr: "not supported",
    NvInferRuntime.h). The simulator never calls an allocator: it has no ``gpu_allocator``."""

    _PUBLIC = "IGpuAllocator"
    _RULES = {
        "allocate": R.TRT_ONLY,
        "deallocate": R.TRT_ONLY,
        "free": R.PRE10,
        "allocate_async": R.V10,
        "deallocate_async": R.V10,
    }

    def __init__(self) -> None:
        self._tramp_init = True

    allocate = _pure_virtual("allocate")
    deallocate = _pure_virtual("deallocate")
    free = _pure_virtual("free")
    allocate_async = _pure_virtual("allocateAsync")
    deallocate_async = _pure_virtual("deallocateAsync")

    def reallocate(self, address: Any, alignment: int, new_size: int) -> Any:
        return None


class IGpuAsyncAllocatorImpl(_Sim):
    """``trt.IGpuAsyncAllocator`` (10.0+ and RTX; the 10.0.1 to RTX 1.7.1 manifests): an
    IGpuAllocator whose stream-ordered callbacks are the ones to override."""

    _PUBLIC = "IGpuAsyncAllocator"
    _BASES = ("IGpuAllocator",)
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._tramp_init = True
