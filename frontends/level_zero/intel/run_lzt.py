#!/usr/bin/env python3
"""Runs Intel's level-zero-tests against libze_udal and counts the results.

  run_lzt.py suites --run-dir DIR --suites a,b --counts OUT --expected FILE
  run_lzt.py basic  --run-dir DIR --csv FILE --results OUT --expected FILE

The environment chooses the Level Zero driver (ZE_ENABLE_ALT_DRIVERS=.../libze_udal.so.1).

suites: runs every test of each suite executable and writes "suite pass skip fail total" lines
to OUT (and OUT.details with each failing test). A suite that crashes or hangs is resumed
after the test that did (that test counts as failed), so one crash never hides the rest.
Exits 1 when a suite passes fewer or fails more tests than FILE expects (a regression).

basic: runs each row of upstream's basic list (name, gtest filter, executable, ...). A row
passes when every test it selects passes or skips; it is "absent" when its executable is not
built or its filter selects no test of the pinned revision. FILE names the rows expected to
fail or be absent, each with the reason; any other outcome than expected fails the run.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import time

RESULT = re.compile(r"^\[\s*(OK|FAILED|SKIPPED)\s*\] (\S+?)(?:,| \(|$)")
RUNNING = re.compile(r"^\[ RUN      \] (\S+)")
MAX_FILTER = 60000  # bytes of --gtest_filter per run (one argument may hold 128 KiB)


def list_tests(exe, run_dir, timeout):
    out = subprocess.run([exe, "--gtest_list_tests"], cwd=run_dir, capture_output=True,
                         text=True, timeout=timeout, errors="replace")
    if out.returncode != 0:
        raise RuntimeError(f"{os.path.basename(exe)} --gtest_list_tests exited "
                           f"{out.returncode}: {out.stderr.strip()[-500:]}")
    tests, suite = [], None
    for line in out.stdout.splitlines():
        if not line.strip() or line.startswith("["):
            continue
        if not line.startswith(" "):
            suite = line.split("#")[0].strip()
        elif suite:
            name = suite + line.split("#")[0].strip()
            if "DISABLED_" not in name:  # gtest does not run these
                tests.append(name)
    return tests


def pattern(name):
    # '-' would start gtest's negative patterns, ':' separates them.
    return name.replace("-", "?").replace(":", "?")


def run_once(exe, run_dir, gfilter, idle_timeout, results, log):
    """Runs exe with gfilter; records results; returns (clean_exit, test_running_at_end)."""
    args = [exe]
    if gfilter:
        args.append("--gtest_filter=" + gfilter)
    proc = subprocess.Popen(args, cwd=run_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    current, buf, last = None, b"", time.monotonic()
    timed_out = False
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], 5.0)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            last = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                log.write(line + "\n")
                m = RUNNING.match(line)
                if m:
                    current = m.group(1)
                    continue
                m = RESULT.match(line)
                if m and m.group(2) not in results:
                    status = {"OK": "pass", "FAILED": "fail", "SKIPPED": "skip"}[m.group(1)]
                    results[m.group(2)] = status
                    if m.group(2) == current:
                        current = None
        elif time.monotonic() - last > idle_timeout:
            timed_out = True
            proc.kill()
            break
    rc = proc.wait()
    if timed_out:
        log.write(f"run_lzt: no output for {idle_timeout} s: killed\n")
    clean = rc == 0 or (rc == 1 and not timed_out and current is None)
    return clean, current, rc, timed_out


def run_suite(exe, run_dir, idle_timeout, log, positive=None):
    """Results of every test of exe (optionally only those matching the names in positive)."""
    tests = list_tests(exe, run_dir, 300)
    if positive is not None:
        tests = [t for t in tests if positive(t)]
    results, crashes = {}, {}
    queue = list(tests)
    first = True
    while queue:
        if first and positive is None:
            gfilter = None  # the whole suite in one run: the usual case
        else:
            chunk, size = [], 0
            for t in queue:
                if chunk and size + len(t) + 1 > MAX_FILTER:
                    break
                chunk.append(t)
                size += len(t) + 1
            gfilter = ":".join(pattern(t) for t in chunk)
        first = False
        clean, current, rc, timed_out = run_once(exe, run_dir, gfilter, idle_timeout, results, log)
        if current is not None and current not in results:
            results[current] = "fail"
            crashes[current] = "timed out" if timed_out else f"exit status {rc}"
        before = len(queue)
        queue = [t for t in queue if t not in results]
        if len(queue) == before and not clean:
            # The process died before any test ran: count the rest as failed.
            for t in queue:
                results[t] = "fail"
                crashes[t] = f"not run: exit status {rc}"
            queue = []
        elif clean and gfilter is not None and len(queue) == before:
            for t in queue:  # a name the filter could not select
                results[t] = "fail"
                crashes[t] = "not selected by --gtest_filter"
            queue = []
    return {t: results.get(t, "fail") for t in tests}, crashes


def read_expected(path):
    expected = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#")[0].strip()
                if line:
                    parts = line.split()
                    expected[parts[0]] = parts[1:]
    return expected


def cmd_suites(args):
    run_dir = os.path.abspath(args.run_dir)
    expected = read_expected(args.expected)
    rows, details, regressions = [], [], []
    totals = [0, 0, 0, 0]
    with open(args.counts + ".log", "w") as log:
        for suite in args.suites.split(","):
            exe = os.path.join(run_dir, suite)
            start = time.monotonic()
            try:
                results, crashes = run_suite(exe, run_dir, args.idle_timeout, log)
            except Exception as e:  # noqa: BLE001 - reported as the suite's failure
                details.append(f"{suite}: could not run: {e}")
                results, crashes = {}, {}
                regressions.append(f"{suite}: could not run: {e}")
            counts = [sum(1 for r in results.values() if r == k) for k in ("pass", "skip", "fail")]
            counts.append(len(results))
            rows.append((suite, counts))
            totals = [a + b for a, b in zip(totals, counts)]
            for name, r in sorted(results.items()):
                if r == "fail":
                    details.append(f"{suite} {name}" + (f" ({crashes[name]})" if name in crashes else ""))
            print(f"{suite}: {counts[0]} passed, {counts[1]} skipped, {counts[2]} failed of "
                  f"{counts[3]} ({time.monotonic() - start:.0f} s)", flush=True)
            if suite in expected:
                want = [int(x) for x in expected[suite][:4]]
                if counts[0] < want[0] or counts[2] > want[2]:
                    regressions.append(f"{suite}: {counts[0]} pass / {counts[2]} fail, expected "
                                       f"{want[0]} / {want[2]}")
                elif counts[0] > want[0]:
                    print(f"  {suite}: {counts[0] - want[0]} more passing than "
                          f"{args.expected} says: update it", flush=True)
    with open(args.counts, "w") as f:
        f.write("# suite pass skip fail total\n")
        for suite, c in rows:
            f.write(f"{suite} {c[0]} {c[1]} {c[2]} {c[3]}\n")
        f.write(f"total {totals[0]} {totals[1]} {totals[2]} {totals[3]}\n")
    with open(args.counts + ".details", "w") as f:
        f.write("\n".join(details) + "\n")
    print(f"total: {totals[0]} passed, {totals[1]} skipped, {totals[2]} failed of {totals[3]}; "
          f"counts in {args.counts}, failing tests in {args.counts}.details")
    for r in regressions:
        print("REGRESSION: " + r)
    return 1 if regressions else 0


def cmd_basic(args):
    run_dir = os.path.abspath(args.run_dir)
    expected = read_expected(args.expected)
    outcome, unexpected = [], []
    with open(args.csv) as f, open(args.results + ".log", "w") as log:
        for line in f:
            cols = line.strip().split(",")
            if len(cols) < 3 or not cols[1].startswith("--gtest_filter="):
                continue
            name, gfilter, exe_name = cols[0], cols[1][len("--gtest_filter="):], cols[2]
            exe = os.path.join(run_dir, exe_name)
            if not os.path.exists(exe):
                status, why = "absent", f"{exe_name} is not built"
            else:
                regex = re.compile("^" + re.escape(gfilter).replace(r"\*", ".*").replace(r"\?", ".") + "$")
                try:
                    results, crashes = run_suite(exe, run_dir, args.idle_timeout, log,
                                                 positive=lambda t: regex.match(t) is not None)
                except Exception as e:  # noqa: BLE001
                    results, crashes = {"(suite)": "fail"}, {"(suite)": str(e)}
                if not results:
                    status, why = "absent", "no such test at the pinned revision"
                elif all(r in ("pass", "skip") for r in results.values()):
                    status, why = "pass", f"{len(results)} test(s)"
                else:
                    failed = [t for t, r in results.items() if r == "fail"]
                    status = "fail"
                    why = f"{len(failed)} of {len(results)} failed: " + ", ".join(
                        t + (f" ({crashes[t]})" if t in crashes else "") for t in failed[:3])
            want = expected.get(name, ["pass"])[0]
            outcome.append((name, status, why))
            mark = "" if status == want else "  <-- expected " + want
            print(f"{status:6} {name}: {why}{mark}", flush=True)
            if status != want:
                unexpected.append(name)
    counts = {k: sum(1 for _, s, _ in outcome if s == k) for k in ("pass", "fail", "absent")}
    with open(args.results, "w") as f:
        f.write(f"# basic list: {counts['pass']} pass, {counts['fail']} fail, "
                f"{counts['absent']} absent of {len(outcome)}\n")
        for name, status, why in outcome:
            f.write(f"{status} {name} {why}\n")
    print(f"basic list: {counts['pass']} pass, {counts['fail']} fail, {counts['absent']} absent "
          f"of {len(outcome)}; {len(unexpected)} unlike {args.expected}")
    return 1 if unexpected else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("suites")
    s.add_argument("--run-dir", required=True)
    s.add_argument("--suites", required=True)
    s.add_argument("--counts", required=True)
    s.add_argument("--expected")
    s.add_argument("--idle-timeout", type=float, default=120)
    b = sub.add_parser("basic")
    b.add_argument("--run-dir", required=True)
    b.add_argument("--csv", required=True)
    b.add_argument("--results", required=True)
    b.add_argument("--expected")
    b.add_argument("--idle-timeout", type=float, default=120)
    args = p.parse_args()
    return cmd_suites(args) if args.mode == "suites" else cmd_basic(args)


if __name__ == "__main__":
    sys.exit(main())
