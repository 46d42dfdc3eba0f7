"""The backends: the only code that calls TensorRT's execution API.

:mod:`.base` is the contract (an ABC with one abstract method per primitive); :mod:`.v2` drives the
bindings API (TensorRT <= 8.6), :mod:`.v3` the named-tensor API (TensorRT >= 8.5, 10.x, 11.x,
TensorRT-RTX).
"""
