#!/usr/bin/python3
"""Draws a UDAL_TRACE file (Chrome trace-event JSON) as a PNG, the way a trace viewer shows
it: one row per thread and per stream, a bar per API call and per device operation, an arrow
per flow event. For docs/layers.md and for machines without a browser.

    trace_png.py TRACE.json OUT.png [--title TEXT]

A trace whose program died (no closing bracket) is read up to its last whole line.
Needs python3-matplotlib (Debian).
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402


def load(path):
    text = open(path, encoding="utf-8").read()
    if not text.rstrip().endswith("]"):
        end = text.rfind("},\n")
        text = "[]" if end < 0 else text[: end + 1] + "]"
    return json.loads(text)


def tracks_of(events):
    """(pid, tid) → label, ordered: the host's threads first, then each device's streams."""
    process = {}
    thread = {}
    for e in events:
        if e.get("ph") != "M":
            continue
        if e["name"] == "process_name":
            process[e["pid"]] = e["args"]["name"]
        elif e["name"] == "thread_name":
            thread[(e["pid"], e["tid"])] = e["args"]["name"]
    used = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "X"}
    order = sorted(used, key=lambda k: (k[0] >= 10_000_000, k[0], k[1]))
    labels = {}
    for key in order:
        pid, tid = key
        name = thread.get(key, f"thread {tid}")
        if pid >= 10_000_000:
            device = process.get(pid, "device").split(" (driver")[0]
            labels[key] = f"{device}\n{name}"
        else:
            labels[key] = f"host: {name}"
    return order, labels


def draw(ax, events, order, labels, start_ms, end_ms, label_min_fraction, arrows=True,
         label_all=False):
    rows = {key: i for i, key in enumerate(order)}
    span = end_ms - start_ms
    colours = {"api": "#4e79a7", "device": "#f28e2b"}
    for e in events:
        if e.get("ph") != "X":
            continue
        key = (e["pid"], e["tid"])
        if key not in rows:
            continue
        t0 = e["ts"] / 1000.0
        dur = e["dur"] / 1000.0
        if t0 + dur < start_ms or t0 > end_ms:
            continue
        width = max(dur, span * 0.002)
        y = rows[key]
        colour = colours.get(e.get("cat"), "#999999")
        if e.get("args", {}).get("result", "UDAL_SUCCESS") not in ("UDAL_SUCCESS",):
            colour = "#e15759"
        ax.barh(y, width, left=t0, height=0.6, color=colour, edgecolor="black", linewidth=0.4)
        name = e["name"].replace("udal_stream_", "").replace("udal_", "")
        if dur >= span * label_min_fraction:
            ax.text(t0 + dur / 2, y, name, ha="center", va="center", fontsize=7, clip_on=True)
        elif label_all is True or (label_all == "device" and e.get("cat") == "device"):
            ax.text(max(t0, start_ms), y - 0.36, name, ha="left", va="bottom", fontsize=7, rotation=25,
                    clip_on=True)
    starts = {}
    for e in events if arrows else []:
        if e.get("ph") in ("s", "f"):
            starts.setdefault(e["id"], {})[e["ph"]] = e
    for pair in starts.values():
        s, f = pair.get("s"), pair.get("f")
        if not s or not f:
            continue
        ks, kf = (s["pid"], s["tid"]), (f["pid"], f["tid"])
        if ks not in rows or kf not in rows:
            continue
        x0, x1 = s["ts"] / 1000.0, f["ts"] / 1000.0
        if max(x0, x1) < start_ms or min(x0, x1) > end_ms:
            continue
        colour = "#59a14f" if s["name"] == "enqueue" else "#b07aa1"
        ax.add_patch(FancyArrowPatch((x0, rows[ks]), (x1, rows[kf]), arrowstyle="-|>",
                                     mutation_scale=8, color=colour, linewidth=0.8, alpha=0.8))
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([labels[k] for k in order], fontsize=8)
    ax.set_ylim(len(order) - 0.4, -0.6)
    ax.set_xlim(start_ms, end_ms)
    ax.set_xlabel("time since the trace began (ms)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("png")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    events = load(args.trace)
    order, labels = tracks_of(events)
    slices = [e for e in events if e.get("ph") == "X"]
    if not slices:
        raise SystemExit(f"{args.trace}: no slices to draw")
    begin = min(e["ts"] for e in slices) / 1000.0
    end = max(e["ts"] + e["dur"] for e in slices) / 1000.0
    margin = (end - begin) * 0.02
    # The enqueue burst: where the calls that enqueue device work are.
    enqueues = [e["ts"] / 1000.0 for e in events if e.get("ph") == "s" and e["name"] == "enqueue"]
    fig, axes = plt.subplots(2, 1, figsize=(13, 6.5), gridspec_kw={"height_ratios": [1, 1]})
    draw(axes[0], events, order, labels, begin - margin, end + margin, 0.04, label_all="device")
    axes[0].set_title("whole run: API calls (blue) on the calling thread, device operations "
                      "(orange) on their stream, enqueue arrows (green), record→wait (purple)",
                      fontsize=9)
    if enqueues:
        z0, z1 = min(enqueues), max(enqueues)
        pad = max((z1 - z0) * 0.25, 0.01)
        host = [k for k in order if k[0] < 10_000_000] or order
        draw(axes[1], events, host, labels, z0 - pad, z1 + pad, 2.0, arrows=False, label_all=True)
        axes[1].set_ylim(len(host) - 0.5, -1.3)
        axes[1].set_title(f"zoom on the {len(enqueues)} calls that enqueue the device work "
                          f"({(z1 - z0) * 1000:.0f} µs from the first to the last)", fontsize=9)
    else:
        axes[1].axis("off")
    if args.title:
        fig.suptitle(args.title, fontsize=11)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
