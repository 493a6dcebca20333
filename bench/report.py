#!/usr/bin/env python3
"""bench/report.py MODE WORK RESULTS -- turns the load generator's JSON lines of one
`make bench` run (bench/run.sh) into results/latest.json (MODE default) or
results/scale.json (MODE scale), a table on stdout and the data files bench/plot.gp draws."""
import json
import os
import sys

MODE, WORK, RES = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = 0
STACK = ["gateway", "discovery", "pki", "registry", "syncml", "redis"]


def load(name):
    path = os.path.join(WORK, name + ".json")
    if not os.path.exists(path):
        return None
    lines = [l for l in open(path).read().splitlines() if l.strip().startswith("{")]
    return json.loads(lines[-1]) if lines else None


def kv(name):
    out = {}
    path = os.path.join(WORK, name)
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def rss():
    out = {}
    path = os.path.join(WORK, "rss.txt")
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                out[parts[0]] = {"rss_kb": int(parts[1]), "peak_kb": int(parts[2])}
    return out


def cores_used(r):
    """Average CPU cores each process (and the whole machine) used during a measurement."""
    if not r or not r.get("seconds"):
        return {}
    s = r["seconds"]
    out = {k: round(v / s, 2) for k, v in r.get("cpu_s", {}).items() if not k.startswith("_") and v > 0}
    out["loadgen"] = round(r["loadgen_cpu_s"] / s, 2)
    if "_machine_busy" in r.get("cpu_s", {}):
        out["machine_busy"] = round(r["cpu_s"]["_machine_busy"] / s, 2)
    return out


def cpu_ms_per_job(r):
    """CPU milliseconds each process spent per completed job during the measurement."""
    if not r or not r.get("jobs_ok"):
        return {}
    cpu = r.get("cpu_s", {})
    jobs = r["jobs_ok"]
    out = {}
    ours = 0.0
    for k, v in cpu.items():
        if k.startswith("_") or v < 0:
            continue
        out[k] = round(v * 1000.0 / jobs, 3)
        ours += v
    out["loadgen"] = round(r["loadgen_cpu_s"] * 1000.0 / jobs, 3)
    ours += r["loadgen_cpu_s"]
    busy = cpu.get("_machine_busy")
    if busy is not None:
        out["other_processes"] = round(max(0.0, busy - ours) * 1000.0 / jobs, 3)
        out["machine_busy_share"] = round(busy / max(1e-9, cpu.get("_machine_all", 1)), 3)
    return out


def r1(x, n=1):
    return None if x is None else round(x, n)


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def rounds(prefix):
    out, r = [], 1
    while True:
        x = load("%s%d" % (prefix, r))
        if x is None:
            return out
        out.append(x)
        r += 1


def val(x, key):
    return x["per_s"] if "per_s" in x else x[key]


if MODE == "best":  # report.py best WORK PREFIX KEY CONNS...: the concurrency with the top rate
    best = max(sys.argv[5:], key=lambda c: (load("%s%s" % (sys.argv[3], c)) or {}).get(sys.argv[4], 0))
    print(best)
    sys.exit(0)

if MODE == "half":  # report.py half WORK PREFIX KEY: half the median of the rounds
    print("%.1f" % (median([val(x, sys.argv[4]) for x in rounds(sys.argv[3])]) / 2.0))
    sys.exit(0)

machine = kv("machine.txt")
result = {
    "cpu_model": machine.get("cpu_model"),
    "cores": int(machine.get("cores", "0") or 0),
    "kernel": machine.get("kernel"),
    "openssl": machine.get("openssl"),
    "redis": machine.get("redis"),
    "git": machine.get("git"),
    "started": machine.get("started"),
    "loadavg_start": machine.get("loadavg_start"),
    "loadavg_end": machine.get("loadavg_end"),
    "client_quickack": machine.get("quickack") == "1",
    "conns": {"enroll": machine.get("enroll_conns"), "syncml": machine.get("manage_conns"),
              "https_limit": machine.get("https_conns"), "open_loop_pool": machine.get("conns")},
}

if MODE == "scale":
    e, m = load("scale_enroll"), load("scale_manage")
    mem = kv("scale.txt")
    dev = int(mem["DEVICES"])
    m0, m1, m2 = int(mem["M0"]), int(mem["M1"]), int(mem["M2"])
    total = float(mem["T_END"]) - float(mem["T_START"])
    result.update({
        "mode": "scale",
        "devices": dev,
        "total_seconds": r1(total),
        "enroll_seconds": r1(e["seconds"]),
        "enroll_per_s": r1(e["jobs_per_s"]),
        "enroll_failed": e["jobs_failed"],
        "enroll_prep_seconds": r1(e["prep_keys_s"] + e["prep_csr_s"] + e["prep_secrets_s"]),
        "manage_seconds": r1(m["seconds"]),
        "sessions_per_s": r1(m["jobs_per_s"]),
        "messages_per_s": r1(m["requests_per_s"]),
        "sessions_failed": m["jobs_failed"],
        "redis_used_memory_bytes": m2,
        "redis_bytes_per_device": round((m1 - m0) / dev),
        "redis_bytes_per_device_managed": round((m2 - m0) / dev),
        "rss_kb": rss(),
        "cpu_ms_per_enrollment": cpu_ms_per_job(e),
        "cpu_ms_per_session": cpu_ms_per_job(m),
    })
    os.makedirs(RES, exist_ok=True)
    with open(os.path.join(RES, "scale.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("\nSCALE run: %d devices" % dev)
    for k in ["total_seconds", "enroll_seconds", "enroll_per_s", "enroll_prep_seconds", "manage_seconds",
              "sessions_per_s", "messages_per_s", "redis_used_memory_bytes", "redis_bytes_per_device",
              "redis_bytes_per_device_managed", "enroll_failed", "sessions_failed"]:
        print("  %-34s %s" % (k, result[k]))
    sys.exit(0 if result["enroll_failed"] == 0 and result["sessions_failed"] == 0 else 1)

issue_r, enroll_r, enroll2_r = rounds("issue_r"), rounds("enroll_r"), rounds("enroll2pki_r")
enroll1w_r, enroll2x1w_r = rounds("enroll1w_r"), rounds("enroll2x1w_r")
manage_r, https_r, manage2_r = rounds("manage_r"), rounds("https_r"), rounds("manage2_r")
issue_enc, issue2 = load("issue_encode"), load("issue_2threads")
enroll_half_r, manage_half_r = rounds("enroll_half_r"), rounds("manage_half_r")
enroll_noqa, manage_noqa = load("enroll_noqa"), load("manage_noqa")


def lat_median(rs):
    """Median p50/p99/max over the latency rounds; the round with the median p99 gives the CDF."""
    out = {k: median([r[k] for r in rs]) for k in ["p50_ms", "p99_ms", "max_ms", "rate", "jobs_failed"]}
    order = sorted(range(len(rs)), key=lambda i: rs[i]["p99_ms"])
    out["cdf_round"] = order[len(order) // 2] + 1
    return out


enroll_half, manage_half = lat_median(enroll_half_r), lat_median(manage_half_r)
https_nd, first = load("https_nodelay_noqa"), load("first_session")
# the round closest to the median enrollment rate stands for "the" run (CPU split, timeline)
def pick(rs, key):
    m = median([r[key] for r in rs])
    return min(rs, key=lambda r: abs(r[key] - m))
enroll, manage, https = pick(enroll_r, "jobs_per_s"), pick(manage_r, "requests_per_s"), pick(https_r, "requests_per_s")
mem = kv("memory.txt")
m0, m1, dev1 = int(mem["M0"]), int(mem["M1"]), int(mem["DEV1"])
m_pre, m2 = int(mem["M_PRE"]), int(mem["M2"])
per_dev = (m1 - m0) / dev1
per_dev_managed_extra = (m2 - m_pre) / max(1, first["jobs_ok"]) if first else 0


def paired(a, b, ka, kb):
    return [round(x[ka] / y[kb], 3) for x, y in zip(a, b) if y[kb]]


def other_cores(r):
    """CPU cores other processes of the machine (not this benchmark) used during a run."""
    cpu = r.get("cpu_s", {})
    if "_machine_busy" not in cpu or not r.get("seconds"):
        return None
    ours = sum(v for k, v in cpu.items() if not k.startswith("_") and v > 0) + r["loadgen_cpu_s"]
    return round(max(0.0, cpu["_machine_busy"] - ours) / r["seconds"], 2)


enroll_ratios = paired(enroll_r, issue_r, "jobs_per_s", "per_s")
syncml_ratios = paired(manage_r, https_r, "requests_per_s", "requests_per_s")
# scale-out where the PKI is the bottleneck: single-worker instances, 2 vs 1 (bench/run.sh);
# with the default workers one pki process already keeps this machine busy
pki_ratios = paired(enroll2x1w_r, enroll1w_r, "jobs_per_s", "jobs_per_s")
pki_ratios_default = paired(enroll2_r, enroll_r, "jobs_per_s", "jobs_per_s")
syncml_scale = paired(manage2_r, manage_r, "requests_per_s", "requests_per_s")
result.update({
    "mode": "default",
    "rounds": len(enroll_r),
    "enroll_per_s": r1(median([r["jobs_per_s"] for r in enroll_r])),
    "issue_limit_per_s": r1(median([r["per_s"] for r in issue_r])),
    "enroll_ratio": median(enroll_ratios),
    "syncml_per_s": r1(median([r["requests_per_s"] for r in manage_r])),
    "https_limit_per_s": r1(median([r["requests_per_s"] for r in https_r])),
    "syncml_ratio": median(syncml_ratios),
    "enroll_p50_ms": r1(enroll_half["p50_ms"], 2),
    "enroll_p99_ms": r1(enroll_half["p99_ms"], 2),
    "enroll_max_ms": r1(enroll_half["max_ms"], 2),
    "enroll_latency_rate_per_s": r1(enroll_half["rate"]),
    "syncml_p50_ms": r1(manage_half["p50_ms"], 2),
    "syncml_p99_ms": r1(manage_half["p99_ms"], 2),
    "syncml_max_ms": r1(manage_half["max_ms"], 2),
    "syncml_latency_rate_per_s": r1(manage_half["rate"]),
    "enroll_per_s_2pki": r1(median([r["jobs_per_s"] for r in enroll2_r])),
    "pki_scale_ratio": median(pki_ratios),
    "pki_scale_enroll_per_s_1x1worker": r1(median([r["jobs_per_s"] for r in enroll1w_r])),
    "pki_scale_enroll_per_s_2x1worker": r1(median([r["jobs_per_s"] for r in enroll2x1w_r])),
    "pki_scale_ratio_default_workers": median(pki_ratios_default),
    "issue_limit_2threads_per_s": r1(issue2["per_s"]),
    "issue_scale_ratio": ratio(issue2["per_s"], median([r["per_s"] for r in issue_r])),
    "issue_encode_per_s": r1(issue_enc["per_s"]),
    "syncml_per_s_2syncml": r1(median([r["requests_per_s"] for r in manage2_r])),
    "syncml_scale_ratio": median(syncml_scale),
    "per_round": {
        "issue_limit_per_s": [r1(r["per_s"]) for r in issue_r],
        "enroll_per_s": [r1(r["jobs_per_s"]) for r in enroll_r],
        "enroll_per_s_2pki": [r1(r["jobs_per_s"]) for r in enroll2_r],
        "syncml_per_s": [r1(r["requests_per_s"]) for r in manage_r],
        "https_limit_per_s": [r1(r["requests_per_s"]) for r in https_r],
        "syncml_per_s_2syncml": [r1(r["requests_per_s"]) for r in manage2_r],
        "enroll_per_s_1x1worker": [r1(r["jobs_per_s"]) for r in enroll1w_r],
        "enroll_per_s_2x1worker": [r1(r["jobs_per_s"]) for r in enroll2x1w_r],
        "enroll_ratio": enroll_ratios, "syncml_ratio": syncml_ratios, "pki_scale_ratio": pki_ratios,
        "pki_scale_ratio_default_workers": pki_ratios_default,
        "syncml_scale_ratio": syncml_scale,
        "enroll_half_p50_ms": [r1(r["p50_ms"], 2) for r in enroll_half_r],
        "enroll_half_p99_ms": [r1(r["p99_ms"], 2) for r in enroll_half_r],
        "syncml_half_p50_ms": [r1(r["p50_ms"], 2) for r in manage_half_r],
        "syncml_half_p99_ms": [r1(r["p99_ms"], 2) for r in manage_half_r],
        "other_cpu_cores_enroll_half": [other_cores(r) for r in enroll_half_r],
        "other_cpu_cores_syncml_half": [other_cores(r) for r in manage_half_r],
        "other_cpu_cores_enroll": [other_cores(r) for r in enroll_r],
        "other_cpu_cores_enroll_2pki": [other_cores(r) for r in enroll2_r],
        "other_cpu_cores_syncml": [other_cores(r) for r in manage_r],
        "other_cpu_cores_https": [other_cores(r) for r in https_r],
    },
    "redis_bytes_per_device": round(per_dev),
    "redis_bytes_per_device_after_first_session": round(per_dev + per_dev_managed_extra),
    "redis_devices_measured": dev1,
    "redis_used_memory_bytes": m2,
    "first_session_per_s": r1(first["jobs_per_s"]) if first else None,
    "first_session_messages_per_s": r1(first["requests_per_s"]) if first else None,
    "first_session_p50_ms": r1(first["p50_ms"], 2) if first else None,
    "enroll_no_quickack_per_s": r1(enroll_noqa["jobs_per_s"]),
    "enroll_no_quickack_p50_ms": r1(enroll_noqa["p50_ms"], 2),
    "syncml_no_quickack_per_s": r1(manage_noqa["requests_per_s"]),
    "syncml_no_quickack_p50_ms": r1(manage_noqa["p50_ms"], 2),
    "https_tcp_nodelay_no_quickack_per_s": r1(https_nd["requests_per_s"]),
    "rss_kb": rss(),
    "cpu_ms_per_enrollment": cpu_ms_per_job(enroll),
    "cpu_ms_per_syncml_message": cpu_ms_per_job(manage),
    "cpu_ms_per_https_request": cpu_ms_per_job(https),
    "cpu_cores_used": {"enroll": cores_used(enroll), "enroll_2pki": cores_used(pick(enroll2_r, "jobs_per_s")),
                       "syncml": cores_used(manage), "syncml_2syncml": cores_used(pick(manage2_r, "requests_per_s")),
                       "https_limit": cores_used(https)},
    "loadgen_cpu_share": {"enroll": enroll["loadgen_cpu_share"], "syncml": manage["loadgen_cpu_share"],
                          "https_limit": https["loadgen_cpu_share"]},
    "failures": sum(r.get("jobs_failed", 0) for r in enroll_r + enroll2_r + enroll1w_r + enroll2x1w_r
                    + manage_r + manage2_r + https_r
                    + enroll_half_r + manage_half_r + [first]),
    "bench_seconds": r1(float(mem["T_END"]) - float(mem["T_START"])),
    "targets": {"enroll_ratio": 0.5, "syncml_ratio": 0.3, "pki_scale_ratio": 1.6,
                "redis_bytes_per_device": 2048},
})
# --- CPU-bound ceiling: what the measured CPU seconds per job would allow on this machine with
# nothing else running and no waiting (an upper bound: the services also wait on the bus) ------
def stack_ms(split, skip=()):
    return sum(v for k, v in split.items()
               if k not in ("other_processes", "machine_busy_share", "baseline") + tuple(skip))


cores = result["cores"] or 1
issue_cpu = median([r.get("per_cpu_s") for r in issue_r])
e_split, m_split, h_split = result["cpu_ms_per_enrollment"], result["cpu_ms_per_syncml_message"], \
    result["cpu_ms_per_https_request"]
e2 = pick(enroll2_r, "jobs_per_s")
e2_split = cpu_ms_per_job(e2)
proj = {}
if issue_cpu and e_split.get("pki"):
    proj["issue_limit_per_cpu_s"] = r1(issue_cpu)
    proj["enroll_per_s"] = r1(min(cores * 1000.0 / stack_ms(e_split), 1000.0 / e_split["pki"]))
    proj["enroll_ratio"] = round(proj["enroll_per_s"] / issue_cpu, 3)
    pk = e2_split.get("pki", 0) + e2_split.get("pki2", 0)
    if pk:
        proj["enroll_per_s_2pki"] = r1(min(cores * 1000.0 / stack_ms(e2_split), 2 * 1000.0 / pk))
        proj["pki_scale_ratio"] = round(proj["enroll_per_s_2pki"] / proj["enroll_per_s"], 3)
if m_split.get("syncml") and h_split:
    proj["syncml_per_s"] = r1(min(cores * 1000.0 / stack_ms(m_split), 1000.0 / m_split["syncml"]))
    proj["https_limit_per_s"] = r1(cores * 1000.0 / (stack_ms(h_split) + h_split.get("baseline", 0)))
    proj["syncml_ratio"] = round(proj["syncml_per_s"] / proj["https_limit_per_s"], 3)
result["cpu_bound_ceiling"] = proj
result["cpu_ms_per_enrollment_2pki"] = e2_split

t = result["targets"]
result["targets_met"] = {
    "enroll_ratio": (result["enroll_ratio"] or 0) >= t["enroll_ratio"],
    "syncml_ratio": (result["syncml_ratio"] or 0) >= t["syncml_ratio"],
    "pki_scale_ratio": (result["pki_scale_ratio"] or 0) >= t["pki_scale_ratio"],
    "redis_bytes_per_device": result["redis_bytes_per_device"] <= t["redis_bytes_per_device"],
}
sweep = {}
for kind, prefix, key in [("enroll", "enroll_c", "jobs_per_s"), ("syncml", "manage_c", "requests_per_s"),
                          ("https_limit", "https_c", "requests_per_s")]:
    sweep[kind] = {}
    for c in [1, 2, 4, 8, 16, int(machine.get("conns", "24"))]:
        r = load("%s%d" % (prefix, c))
        if r:
            sweep[kind][str(c)] = {"per_s": r1(r[key]), "p50_ms": r1(r["p50_ms"], 2)}
result["by_concurrency"] = sweep

os.makedirs(RES, exist_ok=True)
with open(os.path.join(RES, "latest.json"), "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

# --- data files for bench/plot.gp ----------------------------------------------------------
with open(os.path.join(RES, "throughput.dat"), "w") as f:
    f.write("# label measured limit ratio\n")
    f.write('"Enrollments/s\\n(vs. mdm\\_cert\\_issue loop)" %s %s %s\n'
            % (result["enroll_per_s"], result["issue_limit_per_s"], result["enroll_ratio"]))
    f.write('"SyncML messages/s\\n(vs. bare civetweb HTTPS)" %s %s %s\n'
            % (result["syncml_per_s"], result["https_limit_per_s"], result["syncml_ratio"]))
with open(os.path.join(RES, "concurrency.dat"), "w") as f:
    f.write("# conns enroll_per_s syncml_per_s https_per_s\n")
    for c in sorted({int(k) for s in sweep.values() for k in s}):
        row = [str(c)] + [str(sweep[k].get(str(c), {}).get("per_s", "NaN")) for k in ["enroll", "syncml", "https_limit"]]
        f.write(" ".join(row) + "\n")
with open(os.path.join(RES, "timeline.dat"), "w") as f:
    f.write("# second enroll_per_s syncml_per_s\n")
    te, tm = enroll.get("timeline", [])[:-1], manage.get("timeline", [])[:-1]  # last second: partial
    for i in range(max(len(te), len(tm))):
        f.write("%d %s %s\n" % (i, te[i] if i < len(te) else "NaN", tm[i] if i < len(tm) else "NaN"))
for name, lat in [("enroll_half", enroll_half), ("manage_half", manage_half)]:
    src = os.path.join(WORK, "%s_r%d.cdf" % (name, lat["cdf_round"]))
    if os.path.exists(src):
        with open(src) as s, open(os.path.join(RES, name + ".cdf"), "w") as d:
            d.write(s.read())
with open(os.path.join(RES, "labels.gp"), "w") as f:
    f.write('machine = "%s, %d cores"\n' % ((result["cpu_model"] or "?").replace('"', ""), result["cores"]))
    f.write("enroll_rate = %s\nsyncml_rate = %s\n" % (result["enroll_latency_rate_per_s"],
                                                      result["syncml_latency_rate_per_s"]))
    f.write("enroll_ratio = %s\nsyncml_ratio = %s\n" % (result["enroll_ratio"], result["syncml_ratio"]))

# --- the table -----------------------------------------------------------------------------------
def row(name, measured, limit, rat, target, unit=""):
    print("  %-40s %12s %12s %8s %8s" % (name, measured, limit, rat if rat is not None else "-", target))


print("\nmake bench -- %s, %s cores, git %s (client TCP_QUICKACK: %s)"
      % (result["cpu_model"], result["cores"], result["git"], result["client_quickack"]))
print("  %-40s %12s %12s %8s %8s" % ("", "measured", "limit", "ratio", "target"))
row("enrollments/s (1 pki) vs cert issue loop", result["enroll_per_s"], result["issue_limit_per_s"],
    result["enroll_ratio"], ">=0.5")
row("SyncML messages/s vs bare civetweb", result["syncml_per_s"], result["https_limit_per_s"],
    result["syncml_ratio"], ">=0.3")
row("enrollments/s: 2 vs 1 pki, PKI-bound (1 worker each)", result["pki_scale_enroll_per_s_2x1worker"],
    result["pki_scale_enroll_per_s_1x1worker"], result["pki_scale_ratio"], ">=1.6")
row("enrollments/s: 2 vs 1 pki, default workers", result["enroll_per_s_2pki"], result["enroll_per_s"],
    result["pki_scale_ratio_default_workers"], "")
row("issue loop: 2 threads vs 1", result["issue_limit_2threads_per_s"], result["issue_limit_per_s"],
    result["issue_scale_ratio"], "")
row("SyncML messages/s: 2 syncml vs 1", result["syncml_per_s_2syncml"], result["syncml_per_s"],
    result["syncml_scale_ratio"], "")
print("  latency at half load (open loop)            p50 ms     p99 ms     max ms")
print("  %-40s %10s %10s %10s" % ("enrollment (%s/s)" % result["enroll_latency_rate_per_s"],
                                  result["enroll_p50_ms"], result["enroll_p99_ms"], result["enroll_max_ms"]))
print("  %-40s %10s %10s %10s" % ("SyncML message (%s/s)" % result["syncml_latency_rate_per_s"],
                                  result["syncml_p50_ms"], result["syncml_p99_ms"], result["syncml_max_ms"]))
print("  Redis bytes per enrolled device: %d (after its first management session: %d; target <= 2048)"
      % (result["redis_bytes_per_device"], result["redis_bytes_per_device_after_first_session"]))
print("  first management session per device, fresh mTLS connection: %s sessions/s"
      % result["first_session_per_s"])
print("  without TCP_QUICKACK on the client (delayed ACKs, as Windows): %s enrollments/s (p50 %s ms), "
      "%s SyncML messages/s (p50 %s ms)" % (result["enroll_no_quickack_per_s"], result["enroll_no_quickack_p50_ms"],
                                             result["syncml_no_quickack_per_s"], result["syncml_no_quickack_p50_ms"]))
print("  RSS kB (peak):", ", ".join("%s %d (%d)" % (k, v["rss_kb"], v["peak_kb"])
                                     for k, v in sorted(result["rss_kb"].items())))
print("  CPU ms per enrollment:", json.dumps(result["cpu_ms_per_enrollment"]))
print("  CPU ms per SyncML message:", json.dumps(result["cpu_ms_per_syncml_message"]))
print("  CPU cores used during the enrollment run:", json.dumps(result["cpu_cores_used"]["enroll"]))
print("  CPU cores used during the SyncML run:", json.dumps(result["cpu_cores_used"]["syncml"]))
print("  CPU-bound ceiling (from CPU seconds per job; an upper bound, see docs/performance.md):", json.dumps(result["cpu_bound_ceiling"]))
print("  other processes on the machine (CPU cores) during the rounds: enroll %s, syncml %s, https %s"
      % (result["per_round"]["other_cpu_cores_enroll"], result["per_round"]["other_cpu_cores_syncml"],
         result["per_round"]["other_cpu_cores_https"]))
print("  medians of %d rounds; failed jobs: %d; bench took %s s\n" % (result["rounds"], result["failures"],
                                                                     result["bench_seconds"]))
