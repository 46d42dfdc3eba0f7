"""Everything that calls cuda-python: the driver wrapper, the CUDA data path and CUDA graphs.

Importing this package does not import cuda-python; the first call that needs it does, and raises
:class:`~trt_exec.errors.CudaUnavailableError` saying what is missing.
"""
