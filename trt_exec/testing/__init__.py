"""Test support: a simulated TensorRT and Hypothesis strategies."""
