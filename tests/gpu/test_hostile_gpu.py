"""Issue 15 on a real GPU (the simulated TensorRT in GPU mode): a released result's device
tensors refuse to expose freed memory, and an executor inherited through fork() raises in the
child instead of touching the parent's CUDA context. Skipped without a GPU."""

from __future__ import annotations

import os

import numpy as np
import pytest

from trt_exec.errors import ClosedError
from trt_exec.testing import DEMO_NETWORK, reference

from ..helpers import demo_inputs, load_demo

pytestmark = pytest.mark.gpu


@pytest.fixture
def ex(gpu_trt):
    trt, backend = gpu_trt
    with load_demo(trt, backend) as e:
        yield e


def test_device_tensors_refuse_use_after_release(ex):
    inputs = demo_inputs(3, seed=1)
    result = ex.infer_async(inputs)
    tensor = result.outputs["sum"]
    np.testing.assert_allclose(tensor.numpy(), reference(DEMO_NETWORK, inputs)["sum"], rtol=1e-6)
    result.release()
    assert tensor.released
    for use in (lambda: tensor.ptr, lambda: tensor.__cuda_array_interface__, tensor.numpy):
        with pytest.raises(ClosedError, match="release"):
            use()
    # The executor is unaffected.
    np.testing.assert_allclose(
        ex.infer(inputs)["act"], reference(DEMO_NETWORK, inputs)["act"], rtol=1e-6
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_gpu_executor_inherited_through_fork_raises_in_the_child(ex):
    inputs = demo_inputs(2, seed=2)
    ex.infer(inputs)  # the CUDA context and buffers exist before the fork
    pid = os.fork()
    if pid == 0:
        try:
            ex.infer(inputs)
            code = 1
        except ClosedError as exc:
            code = 0 if "fork" in str(exc) else 2
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    np.testing.assert_allclose(
        ex.infer(inputs)["sum"], reference(DEMO_NETWORK, inputs)["sum"], rtol=1e-6
    )
