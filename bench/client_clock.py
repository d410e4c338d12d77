"""What the Python benchmark clients report about themselves: CPU time and peak RSS."""

import resource


def cpu_us():
    """User + system CPU of this process so far, in µs."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e6


def hwm_kib():
    """VmHWM, the peak resident set, in KiB (-1 where /proc says nothing)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1
