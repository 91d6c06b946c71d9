#!/usr/bin/env python3
"""Turns the fidelity harness's summary lines (one JSON object per cell) into a Markdown table.

Usage: table.py RESULTS RUNS CONTROLS

RESULTS: the summary lines, e.g. from the raw logs of an interrupted run:
  grep -ho '{.*}' bench/fidelity/logs/*.log | grep '"datapath"' > results
"""
import json
import platform
import subprocess
import sys
from datetime import datetime, timezone


def pct(value):
    return f"{100 * value:.0f}%"


def verdict(cell):
    if "error" in cell:
        return "no result", cell["error"]
    if not cell.get("rig_fills_link", True):
        return "not measurable here", f"the rig carried at most {cell['carried_mbps']:.1f} Mbit/s"
    state = cell["state"]
    runs = len(cell["runs"])
    if state != "enforced":
        together = max((r["a_mbps"] + r["b_mbps"] for r in cell["runs"]), default=0)
        if together > 1.2 * cell["rate_mbps"]:
            return state, (f"measured anyway: A and B got {together:.0f} Mbit/s together on the "
                           f"{cell['rate_mbps']:g} Mbit/s link, nothing shaped them")
        return state, "measured anyway"
    held = cell["held"]
    note = "" if held == runs else "**does not hold in every run**"
    if cell.get("control_share_median", 0) >= 0.95:
        note = (note + "; " if note else "") + ("the control showed no contention (A got its minimum "
                                                "without a guarantee), so this cell proves less")
    return f"enforced, held {held}/{runs}", note


def main():
    results, runs, controls = sys.argv[1], sys.argv[2], sys.argv[3]
    cells = [json.loads(line) for line in open(results, encoding="utf-8") if line.strip()]
    datapaths = {"bridge": 0, "ovs-netdev": 1, "ovs-system": 2}
    cells.sort(key=lambda c: (datapaths.get(c["datapath"], 9), c["backend"], float(c["rate_mbps"]),
                              c["direction"], c["neighbour"]))
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"(kernel {platform.release()}, {cpu} CPUs), bwfloor {commit}; {runs} guaranteed runs and {controls} "
          "control runs per cell. Port A: 1 TCP stream, minimum 60% of the link; the share is "
          "A's TCP goodput over B's measured seconds divided by its minimum (goodput is ~96% of "
          "the Ethernet rate HTB and OVS count). Control: the same tree, A unguaranteed.")
    print()
    print("| datapath | backend | link Mbit/s | direction | neighbour | guaranteed A: min / median "
          "| control A: median | state | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        state, note = verdict(c)
        measured = "error" not in c and c.get("runs")
        guaranteed = f"{pct(c['share_min'])} / {pct(c['share_median'])}" if measured else "-"
        control = pct(c["control_share_median"]) if "control_share_median" in c else "-"
        print(f"| {c['datapath']} | {c['backend']} | {c['rate_mbps']:g} | {c['direction']} | "
              f"{c['neighbour']} | {guaranteed} | {control} | {state} | {note} |")


if __name__ == "__main__":
    main()
