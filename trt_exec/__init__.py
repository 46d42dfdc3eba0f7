"""trt_exec: one execution layer for TensorRT engines."""
