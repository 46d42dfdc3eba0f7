"""A simulated TensorRT: the same Python API as each supported release, computed with numpy.

``simulated_tensorrt(version)`` returns a fresh module object that behaves like ``import tensorrt``
(or ``import tensorrt_rtx``) of that release. See :class:`SimControl` for the ``mod._sim`` control
object and :mod:`.devices` for the device plug-in contract.
"""

from ._factory import SIMULATED_VERSIONS, SimControl, SimulatedTensorRTModule, simulated_tensorrt
from .devices import Device, DeviceError, HostDevice, NullDevice

__all__ = [
    "SIMULATED_VERSIONS",
    "Device",
    "DeviceError",
    "HostDevice",
    "NullDevice",
    "SimControl",
    "SimulatedTensorRTModule",
    "simulated_tensorrt",
]
