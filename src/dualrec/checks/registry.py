"""Check registry: explicit built-ins plus plugins from the ``dualrec.checks`` entry-point group.

A plugin entry point names an object with ``id`` and ``run(ctx)`` (a :class:`Check`), or a
zero-argument factory returning one; it may carry a ``spec`` (:class:`CheckSpec`). A plugin that
fails to load or validate is logged and skipped.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from dualrec.checks.base import Check
from dualrec.checks.builtin import BUILTIN_CHECKS
from dualrec.checks.catalog import CATALOG, CheckSpec
from dualrec.core.qc import Severity

__all__ = ["ENTRY_POINT_GROUP", "CheckRegistry", "get_registry", "reset_registry"]

logger = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "dualrec.checks"


class CheckRegistry:
    def __init__(self, *, load_plugins: bool = True) -> None:
        self._checks: dict[str, Check] = {}
        self._specs: dict[str, CheckSpec] = {}
        specs = {s.id: s for s in CATALOG}
        for check in BUILTIN_CHECKS:
            self.register(check, specs[check.id])
        if load_plugins:
            self.load_plugins()

    def register(self, check: Check, spec: CheckSpec | None = None) -> None:
        if not isinstance(check, Check) or not isinstance(check.id, str) or not check.id:
            raise TypeError(f"not a check: {check!r}")
        if check.id in self._checks:
            raise ValueError(f"duplicate check id {check.id!r}")
        if spec is not None and spec.id != check.id:
            raise ValueError(f"spec id {spec.id!r} differs from check id {check.id!r}")
        self._checks[check.id] = check
        self._specs[check.id] = spec or CheckSpec(
            check.id, check.id, check.id, Severity.MAJOR, "plugin check"
        )

    def load_plugins(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
                check = obj if isinstance(obj, Check) else obj()
                spec = getattr(check, "spec", None)
                self.register(check, spec if isinstance(spec, CheckSpec) else None)
            except Exception:
                logger.warning("skipping broken QC check plugin %s", ep.name, exc_info=True)

    def checks(self) -> tuple[Check, ...]:
        return tuple(self._checks.values())

    def specs(self) -> tuple[CheckSpec, ...]:
        return tuple(self._specs.values())

    def spec(self, check_id: str) -> CheckSpec:
        return self._specs[check_id]


_registry: CheckRegistry | None = None


def get_registry() -> CheckRegistry:
    global _registry
    if _registry is None:
        _registry = CheckRegistry()
    return _registry


def reset_registry() -> None:
    """Forget the process-wide registry (tests); the next ``get_registry`` rebuilds it."""
    global _registry
    _registry = None
