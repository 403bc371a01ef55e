"""The organisation/branch tree (多级网点) as materialised paths, and data scoping rules.

A branch's ``path`` is ``/<root id>/<child id>/.../<own id>/``. A user sees the data of their own
branch and every branch below it: exactly the paths that start with their branch's path.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Branch", "child_path", "depth_of", "in_scope", "would_create_cycle"]


@dataclass(frozen=True)
class Branch:
    id: int
    name: str
    code: str
    parent_id: int | None
    path: str

    @property
    def depth(self) -> int:
        return depth_of(self.path)


def child_path(parent_path: str | None, branch_id: int) -> str:
    base = parent_path if parent_path else "/"
    if not base.endswith("/"):
        raise ValueError(f"malformed branch path: {base!r}")
    return f"{base}{branch_id}/"


def depth_of(path: str) -> int:
    return path.strip("/").count("/")


def in_scope(scope_path: str, target_path: str) -> bool:
    """True when ``target_path`` is the scope branch itself or below it."""
    return target_path.startswith(scope_path)


def would_create_cycle(branch_path: str, new_parent_path: str) -> bool:
    """Moving a branch under itself or one of its descendants would create a cycle."""
    return new_parent_path.startswith(branch_path)
