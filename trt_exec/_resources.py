"""What an executor owns (:class:`Resources`), and its release in TensorRT's order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._callsite import user_call_site, warn_at

if TYPE_CHECKING:
    from .backends.base import TensorRTApi
    from .datapath import DataPath

__all__ = ["Resources", "release"]


class Resources:
    """What an executor owns: the only strong references to them. Released exactly once, by a
    ``weakref.finalize`` (from :meth:`BaseExecutor.close`, or at garbage collection)."""

    __slots__ = (
        "api",
        "engine",
        "runtime",
        "data_path",
        "explicit",
        "label",
        "site",
        "forked_from",
    )

    def __init__(self, label: str) -> None:
        self.site = user_call_site()  # where the user opened it: the leak warning points there
        self.api: TensorRTApi | None = None
        self.engine: Any = None
        self.runtime: Any = None
        self.data_path: DataPath | None = None
        self.explicit = False
        self.label = label
        self.forked_from: int | None = None  # the parent's pid, in a child after fork()


def release(res: Resources) -> None:
    if not res.explicit:
        warn_at(
            f"{res.label} opened at {res.site} was garbage-collected without close(); call "
            "close() or use it as a context manager",
            ResourceWarning,
            res.site,
        )
    # TensorRT requires a context to be destroyed before its engine, and the engine before the
    # runtime that deserialized it (NvInferRuntime.h, "destroy ... before").
    api, res.api = res.api, None
    if api is not None:
        api.close()
    res.engine = None
    res.runtime = None
    data_path, res.data_path = res.data_path, None
    if data_path is not None:
        data_path.close()
