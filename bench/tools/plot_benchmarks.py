#!/usr/bin/python3
"""Turns weft_bench's JSON into the results part of docs/benchmarks.md and
the plots under docs/img/.

    /usr/bin/python3 bench/tools/plot_benchmarks.py [--json bench/results/bench.json]
        [--doc docs/benchmarks.md] [--img docs/img] [--command "how the JSON was made"]

The defaults are those paths, found from this file's place in the tree, so
it can run from any directory.

What it writes. Between the markers <!-- BEGIN GENERATED: bench-results -->
and <!-- END GENERATED: bench-results --> in the doc (appended if absent;
everything outside them is left alone): the run's context, the runtime's
targets (yield within 3x of a raw context switch; spawn+join of a million
threads at least 150x faster per thread than std::thread; a million parked
threads under 4 GiB of RSS; an idle runtime under 0.5% of one CPU; every
weft benchmark at least as good as its Boost twin) as ratios with
pass/fail, every weft benchmark next to its _Pthread/_BoostFiber twins,
and the full results table. The plots are PNGs.

How results are read. With --benchmark_repetitions the JSON holds every
repetition and aggregates; the median aggregate is used where present,
otherwise the mean of the iteration runs. Google Benchmark appends
"/real_time" (and the like) to names; pairing ignores those suffixes, so
BM_Spawn_Join_Pthread/10000/real_time pairs with BM_Spawn_Join/10000.

Needs only the standard library and matplotlib (Debian 12: apt-get install
python3-matplotlib).
"""

import argparse
import json
import math
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BEGIN = "<!-- BEGIN GENERATED: bench-results -->"
END = "<!-- END GENERATED: bench-results -->"
TWINS = ("_Pthread", "_BoostFiber", "_BoostContext")
# Name parts Google Benchmark adds after the arguments.
MODIFIERS = re.compile(r"^(real_time|manual_time|process_time|iterations:\d+|repeats:\d+|min_time:.*|threads:\d+)$")
COLORS = {"weft": "#2b6cb0", "_Pthread": "#c53030", "_BoostFiber": "#d69e2e", "_BoostContext": "#d69e2e"}
LABELS = {"weft": "weft", "_Pthread": "pthread", "_BoostFiber": "Boost.Fiber", "_BoostContext": "Boost.Context"}


# ---------------------------------------------------------------- reading

class Result:
    """One benchmark instance: its name split into family, twin and args, and its numbers."""

    def __init__(self, run_name, row):
        parts = run_name.split("/")
        base = parts[0]
        self.args = "/".join(p for p in parts[1:] if not MODIFIERS.match(p))
        self.twin = "weft"
        self.family = base
        for t in TWINS:
            if base.endswith(t):
                self.twin, self.family = t, base[: -len(t)]
        self.name = base + ("/" + self.args if self.args else "")
        self.row = row
        self.error = row.get("error_message") if row.get("error_occurred") else None

    def get(self, key):
        v = self.row.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    def ns_per_item(self):
        ips = self.get("items_per_second")
        return 1e9 / ips if ips else None

    def real_time_ns(self):
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[self.row.get("time_unit", "ns")]
        t = self.get("real_time")
        return t * scale if t is not None else None

    def pair_key(self):
        return (self.family, self.args)


def load(path):
    with open(path) as f:
        data = json.load(f)
    groups = {}
    for row in data.get("benchmarks", []):
        groups.setdefault(row.get("run_name", row["name"]), []).append(row)
    results = []
    for run_name, rows in groups.items():
        medians = [r for r in rows if r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median"]
        iterations = [r for r in rows if r.get("run_type", "iteration") == "iteration"]
        if medians:
            row = medians[0]
        elif len(iterations) == 1:
            row = iterations[0]
        else:
            row = mean_row(iterations)
        res = Result(run_name, row)
        res.repetitions = max(1, len(iterations))
        results.append(res)
    return data.get("context", {}), results


def mean_row(rows):
    out = dict(rows[0])
    for k, v in rows[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = [r[k] for r in rows if isinstance(r.get(k), (int, float))]
            out[k] = sum(vals) / len(vals)
    return out


# ---------------------------------------------------------------- metrics

# Per family: the number that decides "faster/better" and whether lower wins.
# Families not listed fall back to ns per item (lower wins).
PRIMARY = {
    "BM_Switch_Raw": ("ns_per_switch", "ns/switch", True),
    "BM_Yield_PingPong": ("ns_per_switch", "ns/switch", True),
    "BM_Wake_CrossWorker": ("ns_per_wake", "ns/wake", True),
    "BM_Mutex_Contended": ("ns_per_item", "ns/increment", True),
    "BM_Spawn_Join": ("ns_per_item", "ns/thread", True),
    "BM_Blocked_Memory": ("bytes_per_thread", "bytes/thread", True),
    "BM_Idle_Cpu": ("cpu_percent", "% of a CPU", True),
}


def primary(res):
    """The metric a family is judged by: PRIMARY's, else its first ns_per_* counter, else ns per item."""
    if res.family in PRIMARY:
        key, unit, lower = PRIMARY[res.family]
    else:
        own = sorted(k for k in res.row if k.startswith("ns_per_") and isinstance(res.row[k], (int, float)))
        key, lower = (own[0], True) if own else ("ns_per_item", True)
        unit = key[3:].replace("per_", "").join(["ns/", ""]) if own else "ns/item"
    v = res.ns_per_item() if key == "ns_per_item" else res.get(key)
    if v is None and key == "ns_per_item":
        v = res.real_time_ns()
        unit = "ns/iteration"
    return v, unit, lower


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.{digits}g}M"
    if a >= 1e4:
        return f"{v / 1e3:.{digits}g}k"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def ratio_str(r):
    if r is None or not math.isfinite(r):
        return "n/a"
    return f"{r:.3g}x"


# ---------------------------------------------------------------- targets

def find(results, name):
    for r in results:
        if r.name == name and not r.error:
            return r
    return None


def runtime_targets(results):
    """Rows of (target, measured, ratio, verdict, note), one per target named in the module docstring."""
    rows = []

    raw, yld = find(results, "BM_Switch_Raw"), find(results, "BM_Yield_PingPong")
    if raw and yld:
        r = yld.get("ns_per_switch") / raw.get("ns_per_switch")
        cpu = None
        if yld.get("cpu_ns_per_switch") and raw.get("cpu_ns_per_switch"):
            cpu = yld.get("cpu_ns_per_switch") / raw.get("cpu_ns_per_switch")
        rows.append(("yield ping-pong within 3x of BM_Switch_Raw",
                     f"{fmt(yld.get('ns_per_switch'))} vs {fmt(raw.get('ns_per_switch'))} ns/switch",
                     ratio_str(r), verdict(r <= 3),
                     f"CPU-time ratio {ratio_str(cpu)}" if cpu else ""))
    else:
        rows.append(missing("yield ping-pong within 3x of BM_Switch_Raw"))

    spawn = find(results, "BM_Spawn_Join/1000000")
    pth = find(results, "BM_Spawn_Join_Pthread/10000")
    if spawn and pth:
        r = pth.ns_per_item() / spawn.ns_per_item()
        rows.append(("spawn+join of 1M at least 150x faster per thread than std::thread",
                     f"{fmt(spawn.ns_per_item())} vs {fmt(pth.ns_per_item())} ns/thread",
                     ratio_str(r), verdict(r >= 150), "std::thread measured at 10k (the kernel's limit)"))
    else:
        rows.append(missing("spawn+join of 1M at least 150x faster per thread than std::thread"))

    mem = find(results, "BM_Blocked_Memory/1000000")
    if mem:
        # Judged on what the threads add (bytes_per_thread x 1M); the whole
        # process (benchmark harness, handle vector, libraries) is shown too.
        threads_mib = mem.get("bytes_per_thread") * 1e6 / (1024 * 1024)
        rss = mem.get("rss_mb")
        rows.append(("1M parked threads under 4 GiB RSS",
                     f"{fmt(threads_mib, 4)} MiB for the threads ({fmt(mem.get('bytes_per_thread'), 4)} bytes each)",
                     f"{100 * threads_mib / 4096.0:.1f}% of 4 GiB", verdict(threads_mib < 4096),
                     f"whole process {fmt(rss, 4)} MiB ({100 * rss / 4096.0:.1f}%)"))
    else:
        rows.append(missing("1M parked threads under 4 GiB RSS"))

    idle = find(results, "BM_Idle_Cpu")
    if idle:
        c = idle.get("cpu_percent")
        rows.append(("idle runtime under 0.5% of one CPU", f"{c:.4f}%", f"{100 * c / 0.5:.2g}% of budget",
                     verdict(c < 0.5), "2 workers, 1 s window"))
    else:
        rows.append(missing("idle runtime under 0.5% of one CPU"))

    boost_pairs = list(pairs(results, "_BoostContext")) + list(pairs(results, "_BoostFiber"))
    for weft_res, twin in boost_pairs:
        v, unit, lower = primary(weft_res)
        t, _, _ = primary(twin)
        if v is None or t is None or v == 0:
            continue
        speedup = t / v if lower else v / t
        rows.append((f"{weft_res.name} at least as good as {twin.name}",
                     f"{fmt(v)} vs {fmt(t)} {unit}", ratio_str(speedup), verdict(speedup >= 1),
                     f"ratio = {LABELS[twin.twin]} / weft"))
    return rows


def missing(target):
    return (target, "not in this run", "n/a", "**missing**", "")


def verdict(ok):
    return "**pass**" if ok else "**FAIL**"


def pairs(results, twin_suffix):
    weft = {r.pair_key(): r for r in results if r.twin == "weft" and not r.error}
    for r in results:
        if r.twin == twin_suffix and not r.error and r.pair_key() in weft:
            yield weft[r.pair_key()], r


# ---------------------------------------------------------------- tables

def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def comparison_rows(results):
    """Each weft benchmark with its twins' primary metric and the twin/weft ratio."""
    by_key = {}
    for r in results:
        if not r.error:
            by_key.setdefault(r.pair_key(), {})[r.twin] = r
    rows = []
    for r in results:
        if r.twin != "weft" or r.error:
            continue
        twins = by_key.get(r.pair_key(), {})
        v, unit, lower = primary(r)
        cells = [f"`{r.name}`", unit, fmt(v)]
        for t in ("_Pthread", "_BoostFiber"):
            tw = twins.get(t) or (twins.get("_BoostContext") if t == "_BoostFiber" else None)
            if tw is None:
                # A twin measured at another size (e.g. pthreads at 10k only) still says something.
                tw = next((x for x in results if x.family == r.family and x.twin == t and not x.error), None)
            if tw is None:
                cells += ["", ""]
                continue
            tv, _, _ = primary(tw)
            ratio = (tv / v if lower else v / tv) if (tv and v) else None
            label = fmt(tv) + ("" if tw.args == r.args else f" (at {tw.args})")
            cells += [label, ratio_str(ratio)]
        rows.append(cells)
    return rows


COUNTERS_SHOWN = ("ns_per_switch", "cpu_ns_per_switch", "ns_per_wake", "bytes_per_thread", "rss_mb",
                  "peak_rss_mb", "kernel_threads", "cpu_percent")


def full_rows(results):
    rows = []
    for r in results:
        if r.error:
            rows.append([f"`{r.name}`", "error", "", r.error])
            continue
        t = r.get("real_time")
        ips = r.get("items_per_second")
        counters = ", ".join(f"{k}={fmt(r.get(k), 4)}" for k in COUNTERS_SHOWN if r.get(k) is not None)
        extra = [k for k in r.row if k not in KNOWN_FIELDS and k not in COUNTERS_SHOWN
                 and isinstance(r.row[k], (int, float))]
        if extra:
            counters += (", " if counters else "") + ", ".join(f"{k}={fmt(r.get(k), 4)}" for k in extra)
        rows.append([f"`{r.name}`", f"{fmt(t, 4)} {r.row.get('time_unit', 'ns')}",
                     fmt(ips, 4) + "/s" if ips else "", counters])
    return rows


KNOWN_FIELDS = {"family_index", "per_family_instance_index", "repetitions", "repetition_index", "threads",
                "iterations", "real_time", "cpu_time", "items_per_second", "bytes_per_second"}


# ---------------------------------------------------------------- plots

def bar_group(ax, title, groups, unit, log=False):
    """groups: list of (label, [(twin, value)])."""
    names = []
    y = 0
    ticks = []
    for label, bars in groups:
        start = y
        for twin, value in bars:
            if value is None:
                continue
            ax.barh(y, value, color=COLORS.get(twin, "#718096"))
            ax.text(value, y, " " + fmt(value), va="center", fontsize=8)
            names.append((y, LABELS.get(twin, twin)))
            y += 1
        if y > start:
            ticks.append(((start + y - 1) / 2, label))
        y += 0.6
    ax.set_yticks([p for p, _ in names])
    ax.set_yticklabels([n for _, n in names], fontsize=8)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    sec = ax.secondary_yaxis("right")
    sec.set_yticks([p for p, _ in ticks])
    sec.set_yticklabels([l for _, l in ticks], fontsize=8)
    ax.margins(x=0.25)


def val(results, name, getter):
    r = find(results, name)
    if r is None:
        return None
    return getter(r)


def plot_latency(results, path):
    get_sw = lambda r: r.get("ns_per_switch")  # noqa: E731
    groups = [
        ("raw switch", [("weft", val(results, "BM_Switch_Raw", get_sw)),
                        ("_BoostContext", val(results, "BM_Switch_Raw_BoostContext", get_sw))]),
        ("yield ping-pong", [("weft", val(results, "BM_Yield_PingPong", get_sw)),
                             ("_BoostFiber", val(results, "BM_Yield_PingPong_BoostFiber", get_sw)),
                             ("_Pthread", val(results, "BM_Yield_PingPong_Pthread", get_sw))]),
        ("cross-worker wake", [("weft", val(results, "BM_Wake_CrossWorker", lambda r: r.get("ns_per_wake"))),
                               ("_Pthread", val(results, "BM_Wake_CrossWorker_Pthread",
                                                lambda r: r.get("ns_per_wake")))]),
        ("contended mutex", [("weft", val(results, "BM_Mutex_Contended", Result.ns_per_item)),
                             ("_BoostFiber", val(results, "BM_Mutex_Contended_BoostFiber", Result.ns_per_item)),
                             ("_Pthread", val(results, "BM_Mutex_Contended_Pthread", Result.ns_per_item))]),
    ]
    fig, ax = plt.subplots(figsize=(8, 5))
    bar_group(ax, "Time per operation (lower is better, log scale)", groups, "ns per switch / wake / increment",
              log=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_spawn(results, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for twin in ("weft", "_BoostFiber", "_Pthread"):
        pts = sorted((int(r.args), r.ns_per_item()) for r in results
                     if r.family == "BM_Spawn_Join" and r.twin == twin and not r.error and r.args.isdigit())
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o", color=COLORS[twin], label=LABELS[twin])
        for x, y in pts:
            ax.annotate(fmt(y), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("threads spawned and joined per round (N)")
    ax.set_ylabel("ns per thread (spawn + join)")
    ax.set_title("Spawn + join cost per thread (lower is better)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_memory(results, path):
    bpt = lambda r: r.get("bytes_per_thread")  # noqa: E731
    groups = []
    for r in results:
        if r.family == "BM_Blocked_Memory" and not r.error:
            label = f"{fmt(r.get('kernel_threads') or float(r.args or 0))} threads"
            groups.append((label, [(r.twin, bpt(r))]))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bar_group(ax, "RSS per blocked thread (lower is better)", groups, "bytes per thread")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_idle(results, path):
    cp = lambda r: r.get("cpu_percent")  # noqa: E731
    groups = [("idle, 2 workers", [("weft", val(results, "BM_Idle_Cpu", cp)),
                                   ("_BoostFiber", val(results, "BM_Idle_Cpu_BoostFiber", cp))])]
    fig, ax = plt.subplots(figsize=(7, 2.2))
    bar_group(ax, "CPU used by an idle runtime (lower is better, log scale)", groups, "% of one CPU", log=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- doc

def context_lines(ctx, command, json_rel):
    keys = [("date", "date"), ("host_name", "host"), ("num_cpus", "CPUs"), ("mhz_per_cpu", "MHz"),
            ("load_avg", "load average at start"), ("weft_context_backend", "weft context backend"), ("weft_commit", "weft commit"),
            ("kernel_release", "kernel"), ("vm_max_map_count", "vm.max_map_count"),
            ("kernel_pid_max", "kernel.pid_max"), ("library_build_type", "libbenchmark build type")]
    lines = [f"- command: `{command}`" if command else "- command: not recorded (pass --command)",
             f"- raw results: `{json_rel}`"]
    for k, label in keys:
        if k in ctx:
            v = ctx[k]
            if isinstance(v, list):
                v = ", ".join(f"{x:.2f}" if isinstance(x, float) else str(x) for x in v)
            lines.append(f"- {label}: {v}")
    return "\n".join(lines)


def generated_section(ctx, results, command, json_rel, img_rel):
    reps = max((getattr(r, "repetitions", 1) for r in results), default=1)
    parts = [BEGIN,
             "<!-- Written by bench/tools/plot_benchmarks.py from the JSON; edits here are overwritten. -->",
             "",
             "### This run",
             "",
             context_lines(ctx, command, json_rel),
             f"- values: median of {reps} repetitions" if reps > 1 else "- values: a single repetition",
             "",
             "### Targets",
             "",
             "What weft aims for: a yield within 3x of a raw context switch; spawn+join of a million threads",
             "at least 150x faster per thread than `std::thread`; a million parked threads under 4 GiB of RSS;",
             "an idle runtime under 0.5% of one CPU; and every weft benchmark at least as good as its Boost twin.",
             "",
             md_table(["target", "measured", "ratio", "verdict", "note"], runtime_targets(results)),
             "",
             "### weft against its twins",
             "",
             "Ratios are twin / weft on the metric shown, so above 1x means weft is better. The Boost column is",
             "the `_BoostFiber` twin (`_BoostContext` for the raw switch).",
             "",
             md_table(["benchmark", "metric", "weft", "pthread", "pthread/weft", "Boost", "Boost/weft"],
                      comparison_rows(results)),
             "",
             f"![time per operation]({img_rel}/bench_latency.png)",
             "",
             f"![spawn and join]({img_rel}/bench_spawn.png)",
             "",
             f"![memory per blocked thread]({img_rel}/bench_memory.png)",
             "",
             f"![idle CPU]({img_rel}/bench_idle.png)",
             "",
             "### All results",
             "",
             md_table(["benchmark", "time per iteration", "items/s", "counters"], full_rows(results)),
             "",
             END]
    return "\n".join(parts)


def write_doc(doc_path, section):
    text = open(doc_path).read() if os.path.exists(doc_path) else "# weft benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + section + "\n"
    with open(doc_path, "w") as f:
        f.write(text)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/tools/ -> root
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", default=os.path.join(root, "bench", "results", "bench.json"))
    ap.add_argument("--doc", default=os.path.join(root, "docs", "benchmarks.md"))
    ap.add_argument("--img", default=os.path.join(root, "docs", "img"))
    ap.add_argument("--command", default="", help="the command that produced the JSON, recorded in the doc")
    args = ap.parse_args()

    ctx, results = load(args.json)
    if not results:
        sys.exit(f"{args.json}: no benchmark results")
    os.makedirs(args.img, exist_ok=True)
    plot_latency(results, os.path.join(args.img, "bench_latency.png"))
    plot_spawn(results, os.path.join(args.img, "bench_spawn.png"))
    plot_memory(results, os.path.join(args.img, "bench_memory.png"))
    plot_idle(results, os.path.join(args.img, "bench_idle.png"))

    doc_dir = os.path.dirname(os.path.abspath(args.doc))
    json_rel = os.path.relpath(os.path.abspath(args.json), doc_dir)
    img_rel = os.path.relpath(os.path.abspath(args.img), doc_dir)
    write_doc(args.doc, generated_section(ctx, results, args.command, json_rel, img_rel))

    for row in runtime_targets(results):
        print(f"{row[3]:>12}  {row[0]}: {row[1]} ({row[2]})")


if __name__ == "__main__":
    main()
