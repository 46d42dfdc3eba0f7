"""CUDA graphs for the enqueue: a bounded LRU of instantiated graphs and the capture/replay step."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import ConfigurationError
from .driver import check, loaded, raise_status

__all__ = ["GraphCache", "capture", "capturing", "destroy_graph", "replayer"]


class GraphCache:
    """A bounded LRU of instantiated CUDA graphs keyed by the enqueue's signature. Pure.

    The key holds everything a captured enqueue depends on: the profile, the input shapes and
    every bound address. A change in any of them is a new key - the old graph is never replayed
    for it - and the least recently used graph is destroyed (``destroy(value)``) when more than
    ``max_graphs`` are held.
    """

    __slots__ = ("max_graphs", "_entries", "_destroy", "hits", "misses", "evictions", "generation")

    def __init__(self, max_graphs: int, destroy: Callable[[Any], None]) -> None:
        if isinstance(max_graphs, bool) or not isinstance(max_graphs, int) or max_graphs < 1:
            raise ConfigurationError(
                f"max_graphs={max_graphs!r} is out of range [1, ...): pass a positive integer"
            )
        self.max_graphs = max_graphs
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._destroy = destroy
        self.hits = self.misses = self.evictions = 0
        #: Bumped whenever a graph may have been destroyed: a :func:`replayer` made before
        #: then stops launching.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def keys(self) -> list[Hashable]:
        """Keys, least recently used first."""
        return list(self._entries)

    def get(self, key: Hashable) -> Any:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self.generation += 1
        old = self._entries.pop(key, None)
        if old is not None:
            self._destroy(old)
        self._entries[key] = value
        while len(self._entries) > self.max_graphs:
            _, victim = self._entries.popitem(last=False)
            self.evictions += 1
            self._destroy(victim)

    def clear(self) -> None:
        self.generation += 1
        while self._entries:
            _, value = self._entries.popitem(last=False)
            self._destroy(value)

    def stats(self) -> dict[str, int]:
        return {
            "graphs": len(self._entries),
            "max_graphs": self.max_graphs,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }


def destroy_graph(pair: tuple[Any, Any]) -> None:
    drv = loaded()
    if drv is None:
        return
    graph, exec_ = pair
    drv.cuGraphExecDestroy(exec_)
    drv.cuGraphDestroy(graph)


def capturing(drv: Any, stream: int) -> bool:
    """Whether ``stream`` is being captured (by the caller, or by us)."""
    err, status = drv.cuStreamIsCapturing(stream)
    # CU_STREAM_CAPTURE_STATUS_NONE is 0 (CUresult and the status are int enums).
    return not err and status != 0


def capture(
    drv: Any, cache: GraphCache, key: Hashable, enqueue: Callable[[int], None], stream: int
) -> None:
    """Run ``enqueue`` on ``stream`` (the call's result, and the warm-up TensorRT needs after
    shape changes), then capture it into a graph stored in ``cache`` for ``key``; the caller
    replays it from then on (``cuGraphLaunch`` of ``cache.get(key)``)."""
    enqueue(stream)
    mode = drv.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
    check("cuStreamBeginCapture", drv.cuStreamBeginCapture(stream, mode))
    try:
        enqueue(stream)
    finally:
        err, graph = drv.cuStreamEndCapture(stream)
    check("cuStreamEndCapture", (err, graph))
    try:
        exec_ = check("cuGraphInstantiate", drv.cuGraphInstantiate(graph, 0))
    except BaseException:
        drv.cuGraphDestroy(graph)
        raise
    cache.put(key, (graph, exec_))


def replayer(drv: Any, cache: GraphCache, key: Hashable) -> Callable[[int], bool] | None:
    """A replay of the graph cached for ``key``, to call again and again; None when there is
    none. ``replay(stream)`` launches it (counting a hit, keeping the LRU order) while no graph
    was destroyed since it was made; after that it returns False and does nothing (ask again).
    One call instead of a cache lookup per replay."""
    pair = cache._entries.get(key)
    if pair is None:
        return None
    generation = cache.generation
    entries = cache._entries
    exec_ = pair[1]
    launch = drv.cuGraphLaunch

    def replay(stream: int) -> bool:
        if cache.generation != generation:
            return False
        cache.hits += 1
        entries.move_to_end(key)
        err = launch(exec_, stream)[0]
        if err:
            raise_status("cuGraphLaunch", err)
        return True

    return replay
