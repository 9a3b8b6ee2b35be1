"""CPU milliseconds per document, per service, over a measured phase only (issue 20).

Each service's CPU is the user+system time of its process tree (the service, its parse processes, and the
children those already reaped, `children_user`/`children_system`), read from /proc through psutil right before
the phase's first document and right after its last decision. The difference, divided by the phase's
documents, leaves out start-up and warm-up: what a document costs, not what a start costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeCpu:
    """The CPU seconds of one service's process tree at one moment, and which process led it."""

    pid: int
    seconds: float


def tree_cpu_seconds(pid: int) -> float:
    """User+system seconds of a process and its descendants, reaped ones included (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # ended between the listing and the read: its time is in its parent's children_*
            continue
        # A live process's own time plus that of its children it already waited for: no double counting,
        # since a child's time enters its parent's children_* only once it has ended and been reaped.
        total += t.user + t.system + t.children_user + t.children_system
    return total


def snapshot(roots: Mapping[str, int]) -> dict[str, TreeCpu]:
    """Every service's tree CPU now, by service name."""
    return {name: TreeCpu(pid, tree_cpu_seconds(pid)) for name, pid in roots.items()}


def per_document(before: Mapping[str, TreeCpu], after: Mapping[str, TreeCpu], documents: int) -> dict[str, object]:
    """`{"services": {name: ms per document}, "total": their sum}` between two snapshots.

    A service restarted in between (another pid) is charged its new process's whole time, start-up included:
    an over-estimate that a restart deserves. The total is the sum of the rounded parts, so they add up.
    """
    services: dict[str, float] = {}
    for name, end in sorted(after.items()):
        start = before.get(name)
        spent = end.seconds - start.seconds if start is not None and start.pid == end.pid else end.seconds
        services[name] = round(max(spent, 0.0) * 1000 / max(documents, 1), 2)
    return {"services": services, "total": round(sum(services.values()), 2), "documents": documents}
