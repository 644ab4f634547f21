"""What /proc says about the service's processes and the machine: names,
children, CPU ticks, memory."""

import re

def read_proc(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            return f.read()
    except OSError:
        return None


def comm(pid):
    text = read_proc(pid, "comm")
    return text.strip() if text else None


def children(pid):
    text = read_proc(pid, "task/%d/children" % pid)
    return [int(p) for p in text.split()] if text else []


def descendants(pid):
    out = []
    for c in children(pid):
        out.append(c)
        out.extend(descendants(c))
    return out


def cpu_ticks_split(pid):
    """(user, system) CPU ticks of pid so far; (0, 0) once it is gone."""
    text = read_proc(pid, "stat")
    if not text:
        return 0, 0
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime


def cpu_ticks(pid):
    return sum(cpu_ticks_split(pid))


def alive_as(pid, name):
    """True while `pid` runs (not a zombie) and still has the name we saw."""
    text = read_proc(pid, "stat")
    if not text:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z" and comm(pid) == name


def kb_field(text, field):
    """The "Name:   123 kB" value of /proc/<pid>/status or smaps_rollup."""
    m = re.search(r"^%s:\s+(\d+) kB" % field, text or "", re.M)
    return int(m.group(1)) if m else None


def status_kb(pid, field):
    return kb_field(read_proc(pid, "status"), field)


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
