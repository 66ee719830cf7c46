"""Peak memory of a process for the benchmarks (imported by the scripts beside it)."""

from __future__ import annotations

from pathlib import Path


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Return a process's peak resident memory (VmHWM) in MB (Linux; 0 elsewhere or for a
    process that has ended).

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its
    parent's peak.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
