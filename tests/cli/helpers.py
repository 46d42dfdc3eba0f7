"""Helpers for the command-line tests: a runner for the real CLI in a subprocess
(``python -m trt_exec``) with the environment cleaned of trt_exec variables, and a checker for
the CLI's JSON schemas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trt_exec
from trt_exec.testing.matrix import SIM_RELEASES

REPO = Path(trt_exec.__file__).resolve().parent.parent
# Every release of the contract matrix but 10.0.1 (10.16.1 stands for 10.x): each costs
# subprocesses.
RELEASES = tuple(r for r in SIM_RELEASES if r != "10.0.1")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRT_EXEC_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("COLUMNS", None)
    env.update(extra or {})
    return env


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}>"


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 60,
) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "trt_exec", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        cwd=cwd,
        timeout=timeout,
    )
    return Result(proc)


def conforms(value: Any, schema: Any, where: str = "$") -> None:
    """Assert ``value`` matches a schema of trt_exec's CLI (see trt_exec.cli.schemas): a dict is
    an object with exactly those keys (or, keyed by ``str``, a mapping), a one-item list an
    array, a tuple "any of", ``None`` JSON null, a type a leaf (int is not accepted for bool and
    float accepts int)."""
    if isinstance(schema, tuple):
        errors = []
        for option in schema:
            try:
                conforms(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: {value!r} matches none of {schema!r}: {errors}")
    if schema is None:
        assert value is None, f"{where}: expected null, got {value!r}"
    elif isinstance(schema, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        if list(schema) == [str]:
            for k, v in value.items():
                assert isinstance(k, str), f"{where}: key {k!r} is not a string"
                conforms(v, schema[str], f"{where}.{k}")
        else:
            assert set(value) == set(schema), (
                f"{where}: keys {sorted(value)} != schema keys {sorted(schema)}"
            )
            for k, sub in schema.items():
                conforms(value[k], sub, f"{where}.{k}")
    elif isinstance(schema, list):
        assert isinstance(value, list), f"{where}: expected an array, got {value!r}"
        for i, item in enumerate(value):
            conforms(item, schema[0], f"{where}[{i}]")
    elif schema is bool:
        assert isinstance(value, bool), f"{where}: expected a bool, got {value!r}"
    elif schema is int:
        assert isinstance(value, int) and not isinstance(value, bool), (
            f"{where}: expected an int, got {value!r}"
        )
    elif schema is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (
            f"{where}: expected a number, got {value!r}"
        )
    else:
        assert isinstance(value, schema), f"{where}: expected {schema.__name__}, got {value!r}"
