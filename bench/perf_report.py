#!/usr/bin/env python3
"""Writes docs/performance.md and its SVG chart from one bench/run (Python 3 stdlib only).

usage: perf_report.py --out docs/performance.md --raw RESULTS.jsonl [--raw MORE.jsonl]
                      [--harness-table TABLE.md] [--micro MICRO.json] [--meta key=value ...]
                      [--notes bench/performance_notes.md]

RESULTS.jsonl: the JSON lines of ../shared/peers/run-peers.sh (RAW_OUT) and of sleet-bench.
MICRO.json: Google Benchmark's --benchmark_format=json output of sleet-micro-bench.
Every cell's figure is the median over its samples (passes); with two samples that is their mean.
"""
import argparse
import datetime
import html
import json
import os
import platform
import statistics
import subprocess

WL = {
    "w1": "W1 point select, 1 conn",
    "w2": "W2 point select, pool 8 x 256 tasks",
    "w3": "W3 select 10k rows",
    "w4": "W4 insert 1k rows/stmt",
}
ORDER = ["sleet", "sleet-conns", "pgbench", "pgbench-pipeline", "postgresjs", "drizzle-postgresjs",
         "drizzle-postgresjs-prep", "drizzle-pg", "asyncpg"]
LABEL = {
    "sleet": "sleet",
    "sleet-conns": "sleet over 8 connections, round-robin",
    "pgbench": "pgbench (libpq, C)",
    "pgbench-pipeline": "pgbench, pipeline 32/conn",
    "postgresjs": "postgres.js raw",
    "drizzle-postgresjs": "drizzle + postgres.js",
    "drizzle-postgresjs-prep": "drizzle + postgres.js, .prepare()",
    "drizzle-pg": "drizzle + pg",
    "asyncpg": "asyncpg",
}
UNIT = {"queries": "q/s", "rows": "rows/s"}


def load_samples(paths):
    out = []
    for p in paths:
        if not p or not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    return out


def cell_stats(samples):
    """(workload, peer) -> dict of medians over the good samples."""
    cells = {}
    for r in samples:
        cells.setdefault((r["workload"], r["peer"]), []).append(r)
    stats = {}
    for key, rs in cells.items():
        good = [r for r in rs if "error" not in r and r.get("wall_s", 0) > 0 and r.get("units", 0) > 0]
        st = {"n": len(rs), "errors": [r["error"] for r in rs if "error" in r], "unit": None}
        if good:
            thr = [r["units"] / r["wall_s"] for r in good]
            cpu = [(r["cpu_user_s"] + r["cpu_sys_s"]) * 1e6 / r["units"] for r in good]
            srv = [r["server_cpu_s"] * 1e6 / r["units"] for r in good if r.get("server_cpu_s") is not None]
            busy = []
            for r in good:
                h = r.get("host")
                if h and h.get("wall_s"):
                    cap = h["ncpu"] * h["wall_s"]
                    busy.append(100.0 * (cap - (h["idle_ticks"] + h["steal_ticks"]) / h["hz"]) / cap)
            allocs = [r["allocs_per_unit"] for r in good if "allocs_per_unit" in r]
            st.update(unit=good[0]["unit"], thr=statistics.median(thr), thr_min=min(thr), thr_max=max(thr),
                      cpu=statistics.median(cpu), srv=statistics.median(srv) if srv else None,
                      busy=statistics.median(busy) if busy else None,
                      allocs=statistics.median(allocs) if allocs else None,
                      runtime=good[0].get("runtime"), good=len(good))
        stats[key] = st
    return stats


def fmt_small(x):
    if x is None:
        return "-"
    if x < 10:
        return f"{x:.2f}"
    if x < 100:
        return f"{x:.1f}"
    return f"{x:.0f}"


def fmt_ratio(x):
    return "-" if x is None else (f"{x:.2f}×" if x < 10 else f"{x:.1f}×")


def peers_of(stats, w):
    ps = [p for (wl, p) in stats if wl == w]
    return sorted(ps, key=lambda p: ORDER.index(p) if p in ORDER else 99)


def thr(stats, w, p):
    st = stats.get((w, p))
    return st.get("thr") if st else None


def ratio(stats, w, a, b):
    x, y = thr(stats, w, a), thr(stats, w, b)
    return x / y if x and y else None


def bar_lines(stats):
    """The issue's bar: (line, requirement, measured text, met or None when unmeasured)."""
    lines = []

    def add(line, req, value, ok, shown=None):
        lines.append((line, req, shown if shown is not None else fmt_ratio(value),
                      None if value is None else ok(value)))

    add("W1 point select, 1 connection", "≥ 0.9× pgbench", ratio(stats, "w1", "sleet", "pgbench"), lambda v: v >= 0.9)
    add("W2 point select, pool 8, 256 tasks", "≥ 3× pgbench (8 clients)", ratio(stats, "w2", "sleet", "pgbench"), lambda v: v >= 3)
    add("", "≥ 0.6× pgbench, 32-deep pipelines", ratio(stats, "w2", "sleet", "pgbench-pipeline"), lambda v: v >= 0.6)
    add("", "≥ 20× drizzle + postgres.js", ratio(stats, "w2", "sleet", "drizzle-postgresjs"), lambda v: v >= 20)
    add("W3 10,000-row fetch into typed rows", "≥ 1.5× asyncpg", ratio(stats, "w3", "sleet", "asyncpg"), lambda v: v >= 1.5)
    add("", "≥ 0.8× pgbench", ratio(stats, "w3", "sleet", "pgbench"), lambda v: v >= 0.8)
    best = [p for p in ("postgresjs", "asyncpg") if thr(stats, "w4", p)]
    bp = max(best, key=lambda p: thr(stats, "w4", p)) if best else None
    add("W4 1,000-row insert per statement (jsonb)", f"≥ 1.2× the best of postgres.js and asyncpg ({LABEL.get(bp, '-')})",
        ratio(stats, "w4", "sleet", bp) if bp else None, lambda v: v >= 1.2)
    s, g = stats.get(("w2", "sleet")), stats.get(("w2", "pgbench"))
    if s and g and s.get("cpu") and g.get("cpu"):
        add("client CPU per W2 query", "≤ pgbench's (8 clients)", s["cpu"] / g["cpu"], lambda v: v <= 1.0,
            f"{s['cpu']:.1f} µs vs {g['cpu']:.1f} µs ({s['cpu'] / g['cpu']:.2f}×)")
    else:
        add("client CPU per W2 query", "≤ pgbench's (8 clients)", None, None)
    a = s.get("allocs") if s else None
    add("heap allocations per W2 query, steady state", "≤ 2", a, lambda v: v <= 2, "-" if a is None else f"{a:.1f}")
    return lines


# --- SVG -------------------------------------------------------------------------------------
def svg_chart(stats, workloads):
    width, left, right, bar_h, gap, head = 860, 290, 130, 18, 5, 34
    panels = []
    y = 10
    for w in workloads:
        ps = [p for p in peers_of(stats, w) if thr(stats, w, p)]
        if not ps:
            continue
        h = head + len(ps) * (bar_h + gap) + 12
        panels.append((w, ps, y, h))
        y += h + 8
    total_h = y + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" viewBox="0 0 {width} {total_h}" '
           'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
           f'<rect x="0" y="0" width="{width}" height="{total_h}" fill="#ffffff"/>']
    for w, ps, y0, h in panels:
        unit = UNIT.get(stats[(w, ps[0])]["unit"], "")
        out.append(f'<text x="10" y="{y0 + 20}" font-size="14" font-weight="bold">{html.escape(WL.get(w, w))} '
                   f'({html.escape(unit)}, median of passes; whiskers: min–max)</text>')
        mx = max(stats[(w, p)]["thr_max"] for p in ps)
        scale = (width - left - right) / mx
        for i, p in enumerate(ps):
            st = stats[(w, p)]
            by = y0 + head + i * (bar_h + gap)
            color = "#e8710a" if p.startswith("sleet") else "#5b7fa6"
            out.append(f'<text x="{left - 8}" y="{by + bar_h - 5}" text-anchor="end">{html.escape(LABEL.get(p, p))}</text>')
            out.append(f'<rect x="{left}" y="{by}" width="{max(st["thr"] * scale, 1):.1f}" height="{bar_h}" fill="{color}"/>')
            x1, x2 = left + st["thr_min"] * scale, left + st["thr_max"] * scale
            if x2 - x1 > 1:
                cy = by + bar_h / 2
                out.append(f'<line x1="{x1:.1f}" y1="{cy}" x2="{x2:.1f}" y2="{cy}" stroke="#222" stroke-width="1"/>')
                out.append(f'<line x1="{x1:.1f}" y1="{cy - 4}" x2="{x1:.1f}" y2="{cy + 4}" stroke="#222" stroke-width="1"/>')
                out.append(f'<line x1="{x2:.1f}" y1="{cy - 4}" x2="{x2:.1f}" y2="{cy + 4}" stroke="#222" stroke-width="1"/>')
            out.append(f'<text x="{left + st["thr_max"] * scale + 6:.1f}" y="{by + bar_h - 5}">{st["thr"]:,.0f}</text>')
        out.append(f'<line x1="{left}" y1="{y0 + head - 3}" x2="{left}" y2="{y0 + h - 10}" stroke="#999"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- machine ---------------------------------------------------------------------------------
def machine():
    info = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_gib"] = int(line.split()[1]) / 1024 / 1024
                    break
    except OSError:
        pass
    info["kernel"] = platform.release()
    try:
        info["os"] = subprocess.run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"], capture_output=True,
                                    text=True).stdout.strip()
    except OSError:
        pass
    return info


def micro_rows(path):
    with open(path) as f:
        data = json.load(f)
    rows = []
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        unit = b.get("time_unit", "ns")
        mult = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(unit, 1)
        allocs = next((b[k] for k in ("allocs_per_op", "allocs_per_row") if k in b), None)
        per = next((k for k in ("rows", "params") if k in b), None)
        ips = b.get("items_per_second")
        rows.append((b["name"], b["real_time"] * mult, b["cpu_time"] * mult, allocs, 1e9 / ips if ips else None))
    return rows, data.get("context", {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", action="append", default=[])
    ap.add_argument("--harness-table")
    ap.add_argument("--micro")
    ap.add_argument("--notes", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance_notes.md"))
    ap.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)

    samples = load_samples(a.raw)
    stats = cell_stats(samples)
    workloads = [w for w in ("w1", "w2", "w3", "w4") if any(k[0] == w for k in stats)]
    svg_path = os.path.splitext(a.out)[0] + ".svg"
    with open(svg_path, "w") as f:
        f.write(svg_chart(stats, workloads))

    m = machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = []
    L.append("# Performance: sleet beside libpq, postgres.js, drizzle-orm and asyncpg")
    L.append("")
    L.append(f"Produced by `{meta.get('command', 'bench/run')}` on {now}; every figure below comes from that one run. "
             "Do not edit by hand: re-run `bench/run` (the notes at the end come from `bench/performance_notes.md`).")
    L.append("")
    L.append(f"Each cell: {meta.get('duration', '?')} s measured after {meta.get('warmup', '?')} s warm-up, "
             f"{meta.get('repeat', '?')} passes of `../shared/peers/run-peers.sh` (even passes in reverse peer order). "
             "Figures are medians over the passes (with two passes: their mean); ratios are sleet's median throughput "
             "over the peer's, within this run. Absolute numbers from different runs are not comparable on this "
             "machine (see `../shared/peers/BASELINE.md`, observation 5).")
    L.append("")
    L.append("## The bar (issue 6)")
    L.append("")
    L.append("| workload | must reach | measured | met |")
    L.append("|---|---|--:|:-:|")
    for line, req, shown, ok in bar_lines(stats):
        L.append(f"| {line} | {req} | {shown} | {'✅' if ok else ('❌' if ok is False else 'not measured')} |")
    L.append("")
    L.append("## Ratios sleet / peer (median throughput)")
    L.append("")
    peers_all = [p for p in ORDER if any(k[1] == p for k in stats) and p != "sleet"]
    L.append("| workload | " + " | ".join(LABEL.get(p, p) for p in peers_all) + " |")
    L.append("|---|" + "--:|" * len(peers_all))
    for w in workloads:
        L.append(f"| {WL[w]} | " + " | ".join(fmt_ratio(ratio(stats, w, "sleet", p)) for p in peers_all) + " |")
    L.append("")
    L.append("![throughput per workload and peer](performance.svg)")
    L.append("")
    L.append("## Medians per cell")
    L.append("")
    L.append("client CPU = the client process's user+sys over the measured window per unit; server CPU = every process "
             "of the cluster; host busy = share of both cores not idle. `allocs/unit` = heap allocations (global `operator new` "
             "and `aligned_alloc`, which Asio uses for handler memory) per query or row in sleet-bench's measured "
             "window (sleet only).")
    L.append("")
    L.append("| workload | peer | throughput | min–max | client CPU µs/unit | server CPU µs/unit | host busy % | allocs/unit | samples |")
    L.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for w in workloads:
        for p in peers_of(stats, w):
            st = stats[(w, p)]
            if "thr" not in st:
                L.append(f"| {WL[w]} | {LABEL.get(p, p)} | error: {'; '.join(st['errors'])[:120]} | | | | | | {st['n']} |")
                continue
            u = UNIT.get(st["unit"], st["unit"])
            busy = "-" if st["busy"] is None else f"{st['busy']:.0f}"
            allocs = "-" if st["allocs"] is None else f"{st['allocs']:.1f}"
            L.append(f"| {WL[w]} | {LABEL.get(p, p)} | {st['thr']:,.0f} {u} | {st['thr_min']:,.0f}–{st['thr_max']:,.0f} "
                     f"| {fmt_small(st['cpu'])} | {fmt_small(st['srv'])} | "
                     f"{busy} | {allocs} | {st['good']}/{st['n']} |")
    L.append("")
    if a.harness_table and os.path.exists(a.harness_table):
        L.append("<details><summary>The harness's own table for the same run (report.py: the median sample per cell)</summary>")
        L.append("")
        with open(a.harness_table) as f:
            L.append(f.read().strip())
        L.append("")
        L.append("</details>")
        L.append("")
    L.append("## Machine and versions")
    L.append("")
    L.append(f"- {m.get('nproc')} CPUs: {m.get('model', '?')}; {m.get('mem_gib', 0):.1f} GiB memory; "
             f"{m.get('os', '?')}, kernel {m.get('kernel', '?')}")
    L.append(f"- load average (1, 5, 15 min) before the run: {meta.get('load_before', '?')}, after: "
             f"{meta.get('load_after', '?')}. The machine is shared: other jobs (compilers) ran during the "
             "measurement; the `host busy %` column above and the harness's `other %` column show how much.")
    L.append(f"- server: PostgreSQL {meta.get('server_version', '?')}, a throwaway cluster from `sleet-embedded-pg` "
             "(initdb `--locale=C -E UTF8`, `--set fsync=on --set synchronous_commit=on --set full_page_writes=on` as a "
             "stock cluster), on the same machine, every client over TCP 127.0.0.1")
    L.append(f"- sleet build: {meta.get('cxx', '?')}, build dir `{meta.get('build_dir', '?')}` (Release, -O3)")
    seen = {}
    for (w, p), st in sorted(stats.items(), key=lambda kv: ORDER.index(kv[0][1]) if kv[0][1] in ORDER else 99):
        if st.get("runtime") and p not in seen:
            seen[p] = st["runtime"]
    for p, rt in seen.items():
        L.append(f"- {LABEL.get(p, p)}: {rt}")
    L.append(f"- node {meta.get('node', '?')}, {meta.get('python', '?')}")
    L.append("")
    if a.micro and os.path.exists(a.micro):
        rows, ctx = micro_rows(a.micro)
        L.append("## Micro-benchmarks (`sleet-micro-bench`)")
        L.append("")
        L.append("Google Benchmark, one thread, same machine and moment. `allocs/op` counts every global `operator new` "
                 "and `aligned_alloc` in the timed loop per iteration (`bench/alloc_counter.cpp`). "
                 f"Library build: {ctx.get('library_build_type', '?')} Google Benchmark; load while running: "
                 f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}.")
        L.append("")
        L.append("One op: one row for `decode_*_columns*`; one statement for `point_select_*`, `encode_bind_point_select`; "
                 "one 1,000-row statement for `insert_1000_*` and `encode_bind_insert_1000`; the whole 10,000-row result "
                 "for `decode_w3_result` and `append_w3_rows` (\"ns/item\" divides by the rows).")
        L.append("")
        L.append("| benchmark | ns/op (wall) | ns/op (CPU) | ns/item (CPU) | allocs/op |")
        L.append("|---|--:|--:|--:|--:|")
        for name, real, cpu, allocs, per_item in rows:
            shown = "-" if allocs is None else f"{allocs:,.2f}"
            item = "-" if per_item is None else f"{per_item:,.1f}"
            L.append(f"| {name} | {real:,.0f} | {cpu:,.0f} | {item} | {shown} |")
        L.append("")
    L.append("## Reproduce")
    L.append("")
    L.append("```sh")
    L.append("cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release")
    L.append("cmake --build build -j2 --target sleet-bench sleet-embedded-pg sleet-micro-bench")
    L.append("bench/run            # BUILD_DIR=build REPEAT=2, 5 s per cell; writes docs/performance.md + .svg")
    L.append("# one cell by hand, against any server holding ../shared/peers/schema.sql:")
    L.append("build/bin/sleet-bench --workload w2 --url postgresql://postgres@127.0.0.1:5432/bench --duration 5 --warmup 1")
    L.append("SLEET_BENCH=build/bin/sleet-bench ../shared/peers/run-peers.sh --peers sleet,pgbench --workloads w1 URL 3")
    L.append("build/bin/sleet-micro-bench")
    L.append("```")
    L.append("")
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            L.append(f.read().strip())
        L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
