"""What every simulated class shares: the typing base, TensorRT-style error logging and
argument checks used on both the builder and the runtime side."""

from __future__ import annotations

from typing import Any

from . import _releases as R


class _Sim:
    """Typing-only base: the factory gives every generated class these attributes."""

    _ctl: Any
    _C: Any
    _PUBLIC_NAME: str
    _op: Any  # layers
    _out: Any  # layers
    _inputs: list[Any]  # layers
    _name: str  # layers, tensors
    # Per-release signatures of one method: [(rule, function)], first match wins (factory).
    _VARIANTS: dict[str, list[tuple[R.Rule, Any]]] = {}


_ALIGN = 256


def _log(ctl: Any, logger: Any, sev: int, msg: str) -> None:
    if sev <= 1:
        ctl.errors.append(msg)
    logger.log(ctl._sev[sev], msg)


def _api_error(ctl: Any, logger: Any, cls: str, func: str, detail: str) -> None:
    """Log an API-usage error in the release's own format (8.x: file::func, 10.x: Class::func)."""
    if ctl._rel.flavor == "tensorrt" and ctl._rel.vt < (10,):
        msg = f"3: [{cls}::{func}] Error Code 3: API Usage Error ({detail})"
    else:
        msg = f"{cls}::{func}: Error Code 3: API Usage Error ({detail})"
    _log(ctl, logger, 1, msg)


def _dims_str(d: tuple[int, ...]) -> str:
    return "[" + ",".join(map(str, d)) + "]"


def _check_logger(obj: Any, logger: Any) -> None:
    if not isinstance(logger, obj._C["ILogger"]):
        raise TypeError(
            f"__init__(): incompatible constructor arguments. The following argument "
            f"types are supported:\n    1. ({obj._PUBLIC_NAME}, logger: ILogger)\n\n"
            f"Invoked with: {logger!r}"
        )
