#!/usr/bin/env python3
"""Turns bench/results/kv_bench.json (bench/run_kv_benchmarks.sh) into the
results section of docs/kv_server.md -- requests per second of kv_server,
redis-server and redis-server --io-threads 2 for every redis-benchmark test,
with kv_server's ratio to each -- and a bar plot of the -t set,get runs.

    bench/tools/kv_table.py --json bench/results/kv_bench.json --doc docs/kv_server.md --plot docs/img/bench_kv.png

The section between <!-- kv-results:begin --> and <!-- kv-results:end -->
in --doc is replaced; without --doc it is printed. The plot needs
matplotlib (Debian 12: apt-get install python3-matplotlib); without it the
table is still written.
"""
import argparse
import json
import sys

SERVERS = [("kv_server", "kv_server (weft)"), ("redis", "redis-server"), ("redis_io2", "redis-server --io-threads 2")]
COLORS = {"kv_server": "#2b6cb0", "redis": "#c53030", "redis_io2": "#d69e2e"}
BEGIN, END = "<!-- kv-results:begin -->", "<!-- kv-results:end -->"


def fmt_k(x):
    return f"{x / 1000:.1f}k"


def table(data, pipeline, tests):
    rps = {}
    order = []
    for r in data["results"]:
        if r["pipeline"] != pipeline or r["tests"] != tests:
            continue
        if r["test"] not in order:
            order.append(r["test"])
        rps[(r["server"], r["test"])] = r["rps"]
    lines = ["| test | " + " | ".join(label for _, label in SERVERS) + " | kv / redis | kv / redis io2 |",
             "|---|" + "---:|" * (len(SERVERS) + 2)]
    for t in order:
        cells = [fmt_k(rps[(s, t)]) if (s, t) in rps else "" for s, _ in SERVERS]
        kv, rd, io2 = rps.get(("kv_server", t)), rps.get(("redis", t)), rps.get(("redis_io2", t))
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else ""
        lines.append(f"| {t} | " + " | ".join(cells) + f" | {ratio(kv, rd)} | {ratio(kv, io2)} |")
    return "\n".join(lines)


def section(data):
    c = data["context"]
    cmd = (f"redis-benchmark -q -n {c['requests']} -c {c['clients']} -P <1|16> [-t set,get] --csv")
    out = [BEGIN,
           f"Measured by `KV_BENCH_N={c['requests']} bench/run_kv_benchmarks.sh` (weft commit {c['weft_commit']}, "
           f"{c['cpus']} CPUs {c['machine']}). The servers:", "",
           "```sh",
           f"kv_server --port P1 --workers {c['kv_workers']}",
           "redis-server --port P2 --save '' --appendonly no",
           "redis-server --port P3 --save '' --appendonly no --io-threads 2",
           "```", "",
           f"and against each in turn `{cmd}`. Requests per second (k = thousands); "
           "ratios above 1 favour kv_server.", ""]
    for pipeline in (1, 16):
        for tests, name in (("default", "default test list"), ("set+get", "`-t set,get`")):
            out += [f"**-P {pipeline}, {name}**", "", table(data, pipeline, tests), ""]
    out += ["![kv_server vs redis-server, SET and GET](img/bench_kv.png)", "", END]
    return "\n".join(out)


def plot(data, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("kv_table.py: no matplotlib, no plot", file=sys.stderr)
        return
    groups = [(p, t) for p in (1, 16) for t in ("SET", "GET")]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(SERVERS)
    for i, (s, label) in enumerate(SERVERS):
        vals = []
        for p, t in groups:
            v = [r["rps"] for r in data["results"]
                 if r["server"] == s and r["pipeline"] == p and r["tests"] == "set+get" and r["test"] == t]
            vals.append(v[0] / 1000 if v else 0)
        xs = [g + (i - 1) * width for g in range(len(groups))]
        ax.bar(xs, vals, width, label=label, color=COLORS[s])
        for x, v in zip(xs, vals):
            ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{t}\n-P {p}" for p, t in groups])
    ax.set_ylabel("thousand requests / s")
    c = data["context"]
    ax.set_title(f"redis-benchmark -n {c['requests']} -c {c['clients']} -t set,get ({c['cpus']} CPUs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--plot")
    a = ap.parse_args()
    data = json.load(open(a.json))
    text = section(data)
    if a.doc:
        doc = open(a.doc).read()
        if BEGIN not in doc or END not in doc:
            sys.exit(f"kv_table.py: {a.doc} has no {BEGIN} ... {END} section")
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
        open(a.doc, "w").write(doc)
    else:
        print(text)
    if a.plot:
        plot(data, a.plot)


if __name__ == "__main__":
    main()
