"""The simulated TensorRT classes' full implementations (every method of every release), gathered
from one module per phase: ``_logging``, ``_network``, ``_builder``, ``_engine`` and ``_context``
(shared helpers in ``_base``).

The factory (``_factory.py``) builds each release's real classes from these with
``type(name, bases, namespace)``, keeping only the public names that release has (``_RULES``),
so a name a release lacks is truly absent (``hasattr`` is False).

Inside a generated class, ``self._ctl`` is the module's control object (``mod._sim``) and
``self._C`` maps public class names to that module's generated classes.
"""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _log as _log  # re-exported for the factory
from ._builder import BuilderImpl, IBuilderConfigImpl, IHostMemoryImpl, IOptimizationProfileImpl
from ._callbacks import (
    IDebugListenerImpl,
    IGpuAllocatorImpl,
    IGpuAsyncAllocatorImpl,
    IPluginRegistryImpl,
)
from ._context import IExecutionContextImpl, IOutputAllocatorImpl
from ._context import context_profile_property as context_profile_property
from ._engine import ICudaEngineImpl, IRuntimeConfigImpl, RuntimeImpl
from ._logging import ILoggerImpl, LoggerImpl
from ._network import (
    ICastLayerImpl,
    IElementWiseLayerImpl,
    IIdentityLayerImpl,
    ILayerImpl,
    INetworkDefinitionImpl,
    INonZeroLayerImpl,
    ITensorImpl,
    IUnaryLayerImpl,
)

IMPLS: list[Any] = [
    ILoggerImpl,
    LoggerImpl,
    IHostMemoryImpl,
    ITensorImpl,
    ILayerImpl,
    IIdentityLayerImpl,
    IElementWiseLayerImpl,
    IUnaryLayerImpl,
    INonZeroLayerImpl,
    ICastLayerImpl,
    INetworkDefinitionImpl,
    IOptimizationProfileImpl,
    IBuilderConfigImpl,
    BuilderImpl,
    RuntimeImpl,
    ICudaEngineImpl,
    IRuntimeConfigImpl,
    IOutputAllocatorImpl,
    IExecutionContextImpl,
    IDebugListenerImpl,
    IPluginRegistryImpl,
    IGpuAllocatorImpl,
    IGpuAsyncAllocatorImpl,
]
# Whole classes that a release lacks.
CLASS_RULES = {
    "INonZeroLayer": R.NAMED,
    "ICastLayer": R.V8_6,
    "IOutputAllocator": R.NAMED,
    "IRuntimeConfig": R.V10_11,
    "IDebugListener": R.V10,
    "IGpuAsyncAllocator": R.V10,
}
