#!/usr/bin/env python3
"""Turns the echo benchmark's JSON (bench/run_echo_benchmarks.sh) into the
results section of docs/io.md: a table of every server at 1, 100 and 1000
connections (medians of the repetitions), the echo targets as ratios of
that one run (at 1000 connections, weft's server at least 1.2x the
thread-per-connection server's round trips per second and at least 1.0x
the hand-written epoll server's, and weft's io_uring engine at least its
epoll engine), and connection churn.

    bench/tools/echo_table.py --json bench/results/io_bench.json --doc docs/io.md --command "..."

The section between the markers <!-- echo-results:begin --> and
<!-- echo-results:end --> in --doc is replaced; without --doc the section is
printed.
"""
import argparse
import json
import re
import statistics
import sys

SERVERS = [
    ("BM_Echo", "weft `echo_server`, 2 workers, io_uring"),
    ("BM_Echo_WeftEpoll", "weft `echo_server`, 2 workers, epoll"),
    ("BM_Echo_Pthread", "thread per connection"),
    ("BM_Echo_Epoll", "hand-written epoll, 1 thread"),
    ("BM_Echo_Uring", "hand-written io_uring, 1 thread, one recv per message"),
    ("BM_Echo_UringMultishot", "hand-written io_uring, 1 thread, multishot recv + provided buffers"),
]
CONNS = [1, 100, 1000]
BEGIN, END = "<!-- echo-results:begin -->", "<!-- echo-results:end -->"


def runs(data):
    """{(server, conns): [per-repetition dicts of counters]}"""
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        m = re.match(r"(BM_Echo\w*)/(\d+)/", b["name"])
        if m:
            out.setdefault((m.group(1), int(m.group(2))), []).append(b)
    return out


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def fmt_k(x):
    return f"{x / 1000:.1f}k"


def fmt_us(x):
    return f"{x / 1000:.1f} ms" if x >= 1000 else f"{x:.0f} µs"


def section(data, command):
    rs = runs(data)
    ctx = data.get("context", {})
    reps = max((len(v) for v in rs.values()), default=0)
    lines = [
        BEGIN,
        f"Recorded at commit {ctx.get('weft_commit', '?')}, {ctx.get('date', '?')}, on "
        f"{ctx.get('num_cpus', '?')} CPUs; `{command}` ({reps} repetitions per case, interleaved in "
        "random order; medians). rps: round trips per second; p50/p99: latency; "
        "CPU: server CPU time per round trip (user + system, all its threads).",
        "",
        "| server | " + " | ".join(f"{c} conn{'s' if c > 1 else ''}: rps / p50 / p99 / CPU" for c in CONNS) + " |",
        "| --- | " + " | ".join("---" for _ in CONNS) + " |",
    ]
    for key, label in SERVERS:
        cells = []
        for c in CONNS:
            r = rs.get((key, c))
            if not r:
                cells.append("--")
                continue
            cells.append(f"{fmt_k(med(r, 'rps'))} / {fmt_us(med(r, 'p50_us'))} / {fmt_us(med(r, 'p99_us'))} / "
                         f"{med(r, 'server_cpu_us'):.2f} µs")
        if any(c != "--" for c in cells):
            lines.append(f"| {label} (`{key}`) | " + " | ".join(cells) + " |")

    def ratio(a, b, c=1000):
        ra, rb = rs.get((a, c)), rs.get((b, c))
        if not ra or not rb:
            return None
        return med(ra, "rps") / med(rb, "rps"), med(rb, "server_cpu_us") / med(ra, "server_cpu_us")

    def spread(a, c=1000):
        r = rs.get((a, c))
        v = sorted(x["rps"] for x in r) if r else []
        return f"{fmt_k(v[0])}..{fmt_k(v[-1])}" if v else "--"

    lines += [
        "",
        "Targets at 1000 connections (rps ratio of the medians; in brackets the inverse ratio of server CPU "
        "per round trip, which the machine's other load disturbs less):",
        "",
        "| target | ratio | met |",
        "| --- | --- | --- |",
    ]
    for a, b, want, text in [
        ("BM_Echo", "BM_Echo_Pthread", 1.2, "weft >= 1.2x thread-per-connection"),
        ("BM_Echo", "BM_Echo_Epoll", 1.0, "weft >= 1.0x hand-written epoll"),
        ("BM_Echo", "BM_Echo_WeftEpoll", 1.0, "io_uring engine >= epoll engine"),
    ]:
        r = ratio(a, b)
        if r:
            lines.append(f"| {text} | {r[0]:.2f}x ({r[1]:.2f}x) | {'yes' if r[0] >= want else '**no**'} |")
    lines += [
        "",
        "Spread of the repetitions at 1000 connections (rps, min..max): "
        + ", ".join(f"`{k}` {spread(k)}" for k, _ in SERVERS if rs.get((k, 1000)))
        + ".",
    ]
    churn = [(k.replace("BM_Echo", "BM_EchoChurn", 1), label) for k, label in SERVERS]
    churn = [(k, label, rs[(k, 100)]) for k, label in churn if rs.get((k, 100))]
    if churn:
        lines += [
            "",
            "Connection churn (`BM_EchoChurn*/100`): 100 clients, each connecting anew for every round trip "
            "(connect, 64-byte echo, close); medians.",
            "",
            "| server | connections/s | server CPU per connection | p99 round trip |",
            "| --- | --- | --- | --- |",
        ]
        for k, label, r in churn:
            lines.append(f"| {label} (`{k}`) | {fmt_k(med(r, 'connects_per_sec'))} | "
                         f"{med(r, 'server_cpu_us_per_connect'):.1f} µs | {fmt_us(med(r, 'p99_us'))} |")
    lines.append(END)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--command", default="bench/run_echo_benchmarks.sh")
    a = ap.parse_args()
    with open(a.json) as f:
        data = json.load(f)
    text = section(data, a.command)
    if not a.doc:
        print(text)
        return
    with open(a.doc) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{a.doc} has no {BEGIN} ... {END} section")
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    with open(a.doc, "w") as f:
        f.write(doc[:start] + text + doc[end:])


if __name__ == "__main__":
    main()
