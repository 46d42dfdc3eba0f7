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
from ._shape_layers import (
    ENGINE_METHODS,
    NETWORK_METHODS,
    PROFILE_METHODS,
    TENSOR_IS_SHAPE,
    IShapeLayerImpl,
    IShuffleLayerImpl,
    ISliceLayerImpl,
)

# The shape-tensor layers live in their own module; their INetworkDefinition methods and
# ITensor.is_shape_tensor join the network classes here, before the factory reads them.
for _name, _method in NETWORK_METHODS.items():
    setattr(INetworkDefinitionImpl, _name, _method)
for _name, _method in PROFILE_METHODS.items():
    setattr(IOptimizationProfileImpl, _name, _method)
for _name, _method in ENGINE_METHODS.items():
    setattr(ICudaEngineImpl, _name, _method)
ITensorImpl.is_shape_tensor = TENSOR_IS_SHAPE  # type: ignore[method-assign,assignment]

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
    IShapeLayerImpl,
    IShuffleLayerImpl,
    ISliceLayerImpl,
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
