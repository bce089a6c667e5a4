#!/usr/bin/env python3
"""Turns bench/results/http_bench.json (bench/run_http_benchmarks.sh) into the
measurements section of docs/http_server.md -- requests per second and
latency of http_server (weft) and nginx with 1 and 2 workers, keep-alive and
16 pipelined, with weft's ratio to nginx at the same worker count, and the
memory per idle connection -- and a bar plot of requests per second.

    bench/tools/http_table.py --json bench/results/http_bench.json --doc docs/http_server.md --plot docs/img/bench_http.png

The section between <!-- http-results:begin --> and <!-- http-results:end -->
in --doc is replaced; without --doc it is printed. The plot needs matplotlib
(Debian 12: apt-get install python3-matplotlib); without it the table is
still written.
"""
import argparse
import json
import sys

SERVERS = [("weft_w1", "http_server, 1 worker"), ("nginx_w1", "nginx, 1 worker"),
           ("weft_w2", "http_server, 2 workers"), ("nginx_w2", "nginx, 2 workers")]
SHAPES = [("keepalive", "keep-alive"), ("pipeline16", "16 pipelined")]
COLORS = {"weft_w1": "#2b6cb0", "weft_w2": "#63b3ed", "nginx_w1": "#c53030", "nginx_w2": "#fc8181"}
BEGIN, END = "<!-- http-results:begin -->", "<!-- http-results:end -->"


def section(data):
    ctx = data["context"]
    by = {(r["server"], r["shape"]): r for r in data["results"]}
    out = [BEGIN, "",
           f"`wrk -t2 -c{ctx['connections']} -d{ctx['seconds']}s --latency` on `/plaintext`, each server in turn "
           f"on the same machine ({ctx['cpus']} CPUs, {ctx['machine']}), weft {ctx['weft_commit']}, "
           f"{ctx['nginx']}; `bench/run_http_benchmarks.sh` regenerates this section.", "",
           "| shape | server | requests/s | p50 ms | p99 ms | weft / nginx |", "|---|---|---:|---:|---:|---:|"]
    for shape, shape_label in SHAPES:
        for name, label in SERVERS:
            r = by.get((name, shape))
            if not r:
                continue
            ratio = ""
            if name.startswith("weft"):
                peer = by.get(("nginx" + name[4:], shape))
                if peer and peer["rps"]:
                    ratio = f"{r['rps'] / peer['rps']:.2f}"
            errs = f" (socket errors: {r['socket_errors']})" if r.get("socket_errors") else ""
            out.append(f"| {shape_label} | {label}{errs} | {r['rps']:,.0f} | {r['p50_ms'] or 0:.2f} | "
                       f"{r['p99_ms'] or 0:.2f} | {ratio} |")
    idle = [r for r in data["results"] if r["shape"] == "idle"]
    if idle:
        out += ["", "Memory of idle keep-alive connections (server RSS, all its processes, before and after "
                "opening them; each answered one request first):", "",
                "| server | connections | RSS before | RSS after | per connection |", "|---|---:|---:|---:|---:|"]
        for r in idle:
            label = dict(SERVERS).get(r["server"], r["server"])
            per = (r["rss_after_kib"] - r["rss_before_kib"]) * 1024 / r["connections"]
            out.append(f"| {label} | {r['connections']} | {r['rss_before_kib'] / 1024:.1f} MiB | "
                       f"{r['rss_after_kib'] / 1024:.1f} MiB | {per / 1024:.2f} KiB |")
    out += ["", "![requests per second](img/bench_http.png)", "", END]
    return "\n".join(out)


def plot(data, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("http_table: no matplotlib, plot skipped", file=sys.stderr)
        return
    by = {(r["server"], r["shape"]): r["rps"] for r in data["results"] if r["shape"] != "idle"}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.2
    for i, (name, label) in enumerate(SERVERS):
        xs = [j + (i - 1.5) * width for j in range(len(SHAPES))]
        ys = [by.get((name, shape), 0) / 1000 for shape, _ in SHAPES]
        ax.bar(xs, ys, width, label=label, color=COLORS[name])
    ax.set_xticks(range(len(SHAPES)))
    ax.set_xticklabels([label for _, label in SHAPES])
    ax.set_ylabel("thousand requests/s")
    ax.set_title("/plaintext under wrk -t2 -c1000")
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
        if BEGIN in doc and END in doc:
            doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
        else:
            sys.exit(f"http_table: {a.doc} has no {BEGIN} ... {END} section")
        open(a.doc, "w").write(doc)
    else:
        print(text)
    if a.plot:
        plot(data, a.plot)


if __name__ == "__main__":
    main()
