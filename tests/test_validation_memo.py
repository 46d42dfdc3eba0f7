"""The executor remembers validated arrays (executor._recall): a remembered object that changed
in place, or a request that must be refused, is still refused on every call."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import ArrayError, ClosedError, DTypeError, ProfileError, ShapeError
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt
from trt_exec.testing.matrix import subset

from .helpers import demo_inputs, load_demo


@pytest.fixture(params=subset(("10.16.1", "v3"), ("8.6.1", "v2")))
def ex(request):
    version, backend = request.param
    trt = simulated_tensorrt(version)
    with load_demo(trt, backend) as e:
        yield e


def test_in_place_changes_of_a_remembered_input_are_refused(ex):
    feed = demo_inputs(2, seed=2)
    ex.infer(feed)
    ex.infer(feed)  # remembered now
    x = feed["x"]
    x.dtype = np.int32  # same bytes, another dtype
    with pytest.raises(DTypeError, match="'x'"):
        ex.infer(feed)
    x.dtype = np.float32
    x.shape = (4, 2)
    with pytest.raises(ShapeError, match="'x'"):
        ex.infer(feed)
    x.shape = (2, 4)
    with warnings.catch_warnings():  # setting strides is deprecated in numpy 2.4, still works
        warnings.simplefilter("ignore", DeprecationWarning)
        x.strides = (4, 8)  # the transpose's layout: no longer C-contiguous
    with pytest.raises(ArrayError, match="not C-contiguous"):
        ex.infer(feed)


def test_a_remembered_output_made_read_only_is_refused(ex):
    feed = demo_inputs(2, seed=2)
    out = {"sum": np.empty((2, 4), np.float32)}
    ex.infer(feed, outputs=out)
    ex.infer(feed, outputs=out)
    out["sum"].flags.writeable = False
    with pytest.raises(ArrayError, match="read-only"):
        ex.infer(feed, outputs=out)


def test_a_remembered_input_whose_data_moved_is_read_at_its_new_address(ex):
    feed = demo_inputs(2, seed=2)
    first = ex.infer(feed)["sum"]
    x = feed["x"]
    x.resize((8, 4), refcheck=False)  # reallocates (possible: nothing in trt_exec refers to x)
    x.resize((2, 4), refcheck=False)  # the same shape again, possibly elsewhere
    x[...] = 5
    got = ex.infer(feed)["sum"]
    np.testing.assert_array_equal(got, ex.infer({"x": x.copy(), "y": feed["y"]})["sum"])
    assert not np.array_equal(got, first)


def test_a_cai_dict_mutated_in_place_is_validated_again():
    from trt_exec._arguments import _read, _recall
    from trt_exec.arrays import frozen_cai

    shape = [2, 4]

    class Dev:
        def __init__(self) -> None:
            self.__cuda_array_interface__ = {
                "shape": shape,
                "typestr": "<f4",
                "data": (4096, False),
                "version": 3,
            }

    d = Dev()
    arr, entry = _read("x", d, "input")
    assert entry is not None and entry[1] == frozen_cai(d.__cuda_array_interface__)
    assert _recall([entry], d) is entry
    shape[0] = 3  # the producer reuses and mutates its list
    assert _recall([entry], d) is None
    assert _recall([entry], Dev()) is None  # another object with an equal interface


@pytest.mark.parametrize("bad", [True, 1.0])
def test_profile_refusals_are_not_remembered_as_valid(bad):
    trt = simulated_tensorrt("10.16.1")
    from trt_exec.testing import InputSpec, NetworkSpec, OpSpec

    spec = NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1, 4)),),
        ops=(OpSpec("identity", ("x",), "y"),),
        outputs=("y",),
        profiles=((((1, 4), (2, 4), (8, 4)),), (((1, 4), (2, 4), (8, 4)),)),
    )
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt) as e:
        x = {"x": np.ones((2, 4), np.float32)}
        e.infer(x, profile=1)
        with pytest.raises(ProfileError, match="profile="):
            e.infer(x, profile=bad)


@pytest.fixture
def executed():
    """An executor that ran execute() twice on host buffers (remembered), and the addresses."""
    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        ex.prepare({"x": (2, 4), "y": (2, 4)})
        bufs = {n: np.zeros((2, 4), np.float32) for n in ("x", "y", "sum", "act")}
        addrs = {n: int(b.ctypes.data) for n, b in bufs.items()}
        ex.execute(addrs, 0)
        ex.execute(addrs, 0)  # remembered (and every address bound: the shortcut)
        yield ex, addrs


def test_execute_remembers_only_an_equal_mapping_of_plain_ints(executed):
    ex, addrs = executed
    x = addrs["x"]
    addrs["x"] = -1  # the same dict, changed in place: checked again
    with pytest.raises(ArrayError, match="'x'"):
        ex.execute(addrs, 0)
    addrs["x"] = x
    for bad in (True, -1, 1.0):  # every address bound as given: the stream is checked still
        with pytest.raises(ArrayError, match="stream"):
            ex.execute(addrs, bad)


def test_after_valid_addresses_a_host_array_is_refused_by_name(executed):
    """A mapping compared with remembered ints is checked for plain ints first: a numpy array
    in it is refused as ever, not compared elementwise (numpy's ambiguous-truth ValueError)."""
    ex, addrs = executed
    with pytest.raises(ArrayError, match=r"'x' got a ndarray of shape \(2, 4\)"):
        ex.execute({**addrs, "x": np.zeros((2, 4), np.float32)}, 0)


def test_remembered_addresses_never_admit_a_bool():
    from trt_exec._arguments import Arguments

    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        args = Arguments(ex.inputs, ex.outputs, ex.num_profiles)
    ones = {n: 1 for n in ("x", "y", "sum", "act")}
    assert args.addresses(ones, 0) == 0
    assert args.addresses(dict(ones), 0) == 0  # an equal mapping passes again
    with pytest.raises(ArrayError, match="'x' got True"):
        args.addresses({**ones, "x": True}, 0)  # == ones, but a bool


@pytest.mark.parametrize("twin", [float, np.int64], ids=["float", "numpy int"])
def test_execute_with_addresses_equal_to_the_bound_ones_but_not_ints(executed, twin):
    """execute()'s shortcut (every tensor already bound to exactly these values) needs plain
    ints: an equal float is refused as on the first call, a numpy integer accepted. (A bool
    could only equal pointer 1, which TensorRT refuses as misaligned before any shortcut.)"""
    ex, addrs = executed
    twin_addrs = {**addrs, "x": twin(addrs["x"])}
    assert twin_addrs == addrs
    if twin is np.int64:
        ex.execute(twin_addrs, 0)
    else:
        with pytest.raises(ArrayError, match="'x' got"):
            ex.execute(twin_addrs, 0)
    ex.close()
    with pytest.raises(ClosedError):
        ex.execute(addrs, 0)  # the shortcut's values, on a closed executor
