"""Benchmarks: trt_exec against hand-written TensorRT calls and Polygraphy's TrtRunner.

Every contender runs on the same (simulated) engine in the same process, interleaved, so results
are ratios measured side by side. ``python -m benchmarks --help`` says how to run; README.md keeps
the latest tables. Nothing here is imported by trt_exec or its tests, except the smoke test.
"""
