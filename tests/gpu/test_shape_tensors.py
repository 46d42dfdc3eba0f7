"""Shape tensors on a real GPU, through the simulator's GPU mode: the values are read from host
memory (a device array for them is refused), the execution tensors live on the device, and the
results match numpy. Skipped with the reason when there is no usable GPU."""

from __future__ import annotations

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import ArrayError

from ..io_engines import shape_reference, shape_tensor_engine

pytestmark = pytest.mark.gpu


@pytest.fixture
def ex(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(shape_tensor_engine(trt), tensorrt=trt, backend=backend) as executor:
        yield executor


@pytest.mark.parametrize(("rows", "s", "n"), [(2, (3, 4), (2, 5)), (6, (4, 9), (5, 3))])
def test_values_from_host_results_match_numpy(ex, rows, s, n):
    x = np.random.default_rng(rows).standard_normal((rows, 6)).astype(np.float32)
    for _ in range(3):  # repeated: the values stay right once shapes are remembered
        got = ex.infer({"x": x, "s": np.array(s, np.int32), "n": np.array(n, np.int32)})
        want = shape_reference(x, s, n)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name].astype(got[name].dtype), name)
    assert ex.device == 0


def test_infer_async_device_input_host_values(ex):
    torch = pytest.importorskip("torch")
    x = torch.arange(12, dtype=torch.float32, device="cuda").reshape(2, 6)
    r = ex.infer_async({"x": x, "s": np.array([4, 3], np.int32), "n": np.array([1, 6], np.int32)})
    r.synchronize()
    np.testing.assert_array_equal(r.outputs["xs"], [2, 6])  # a host output: numpy
    want = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(r.outputs["y"].numpy(), want)  # a DeviceTensor
    r.release()


def test_device_array_for_shape_tensor_refused(ex):
    torch = pytest.importorskip("torch")
    x = torch.zeros((2, 6), dtype=torch.float32, device="cuda")
    s = torch.tensor([3, 4], dtype=torch.int32, device="cuda")
    with pytest.raises(ArrayError, match=r"'s' is a shape tensor.*host memory"):
        ex.infer({"x": x, "s": s, "n": np.array([1, 1], np.int32)})
