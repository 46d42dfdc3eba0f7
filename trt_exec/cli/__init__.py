"""The ``trt-exec`` command line. It sits on top of the library; the library never imports it."""

from .main import main

__all__ = ["main"]
