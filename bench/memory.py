"""A benchmark child's own peak memory.

Not `resource.getrusage(...).ru_maxrss`: on Linux it survives exec, so a child started by a
bench process that had just generated a district (1.1–1.2 GiB at 200,000 students) reported
the parent's peak, not its own. VmHWM is the high-water mark of the child's own memory."""

import re
import resource


def peak_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\s+(\d+) kB", status.read())[1])
    except (OSError, TypeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
