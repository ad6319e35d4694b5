#!/usr/bin/python3
"""Golden replay tests: pcaps/TESTLIST (format in its header and in
pcaps/README.md). For every case, `flowctl replay` must print exactly the
golden file and exit as expected; every `count` line cross-checks the number
of events of one kind against tshark, so a golden file cannot silently
encode a parser bug.

  tests/golden/golden.py [--update] [NAME ...]

--update rewrites the golden files (and .exit files) of the selected cases
instead of comparing; the counts are still checked. Prints one PASS/FAIL line
per check; exits 1 if any failed. Cases run with --stats also pin the
counters printed on stderr (NAME.stderr).
"""
import json
import os
import shlex
import subprocess
import sys
from collections import defaultdict

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PCAPS = os.path.join(TOP, "pcaps")
FLOWCTL = os.environ.get("FLOWCTL", os.path.join(TOP, "build", "flowctl"))
KINDS = ("http-request", "http-response", "dns-request", "dns-response",
         "kafka-request", "kafka-response", "l7", "flow-start", "flow-end", "packets")

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print(f"PASS: {name}")
    else:
        failures += 1
        print(f"FAIL: {name} {why}".rstrip())


def parse_testlist(path):
    cases, counts, tshark_args = {}, defaultdict(list), defaultdict(list)
    order = []
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            kw = words[0]
            if kw == "case" and len(words) >= 3:
                name, capture, args = words[1], words[2], words[3:]
                if name in cases:
                    sys.exit(f"{path}:{lineno}: case {name} defined twice")
                cases[name] = (capture, args)
                order.append(name)
            elif kw == "count" and len(words) >= 4:
                name, kind, what = words[1], words[2], words[3]
                if kind not in KINDS:
                    sys.exit(f"{path}:{lineno}: unknown kind {kind!r} ({', '.join(KINDS)})")
                if what.startswith("="):
                    counts[name].append((kind, int(what[1:]), None))
                else:
                    counts[name].append((kind, what, " ".join(words[4:])))
            elif kw == "tshark" and len(words) >= 3:
                tshark_args[words[1]] += words[2:]
            else:
                sys.exit(f"{path}:{lineno}: cannot parse: {line}")
    for name in list(counts) + list(tshark_args):
        if name not in cases:
            sys.exit(f"{path}: count/tshark line for unknown case {name}")
    return order, cases, counts, tshark_args


def replay(capture, args):
    cmd = [FLOWCTL, "replay", os.path.join(PCAPS, capture)] + args
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def our_counts(capture, args):
    rc, out, err = replay(capture, args + ["-o", "json"])
    n = dict.fromkeys(KINDS, 0)
    for line in out.splitlines():
        ev = json.loads(line).get("flow")
        if not ev:
            continue
        if ev.get("Type") == "L7":
            n["l7"] += 1
            l7 = ev.get("l7", {})
            side = "request" if l7.get("type") == "REQUEST" else "response"
            for proto in ("http", "dns", "kafka"):
                if proto in l7:
                    n[f"{proto}-{side}"] += 1
        stats = ev.get("flow_stats")
        if stats:
            if stats.get("event") == "start":
                n["flow-start"] += 1
            elif stats.get("event") == "end":
                n["flow-end"] += 1
                n["packets"] += int(stats.get("packets", 0))
    return n


def tshark_counts(capture, extra, wanted):
    """wanted: {(filter): set(fields)} -> {(filter, field): occurrences}"""
    res = {}
    for flt, fields in wanted.items():
        fields = sorted(fields)
        cmd = ["tshark", "-r", os.path.join(PCAPS, capture), "-n"] + extra
        if flt:
            cmd += ["-Y", flt]
        cmd += ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t"]
        for fld in fields:
            cmd += ["-e", fld]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            sys.exit(f"tshark failed on {capture}: {p.stderr.strip()}")
        totals = [0] * len(fields)
        for line in p.stdout.splitlines():
            cols = line.split("\t")
            for k, col in enumerate(cols[:len(fields)]):
                if col:
                    totals[k] += len([v for v in col.split(",") if v != ""])
        for k, fld in enumerate(fields):
            res[(flt, fld)] = totals[k]
    return res


def first_difference(want, got):
    w, g = want.splitlines(), got.splitlines()
    for i in range(max(len(w), len(g))):
        a = w[i] if i < len(w) else b"<end of file>"
        b = g[i] if i < len(g) else b"<end of output>"
        if a != b:
            return (f"\n    line {i + 1} differs\n    want: {a.decode(errors='replace')[:300]}"
                    f"\n    got:  {b.decode(errors='replace')[:300]}")
    return ""


def main():
    argv = sys.argv[1:]
    update = "--update" in argv
    selected = [a for a in argv if a != "--update"]
    order, cases, counts, tshark_args = parse_testlist(os.path.join(PCAPS, "TESTLIST"))
    for s in selected:
        if s not in cases:
            sys.exit(f"unknown case {s}")
    names = selected or order

    for name in names:
        capture, args = cases[name]
        golden = os.path.join(PCAPS, name + ".golden")
        exitf = os.path.join(PCAPS, name + ".exit")
        rc, out, err = replay(capture, args)
        stats = "--stats" in args
        stderr_golden = os.path.join(PCAPS, name + ".stderr")
        if update:
            with open(golden, "wb") as f:
                f.write(out)
            if stats:
                with open(stderr_golden, "wb") as f:
                    f.write(err)
            if rc:
                with open(exitf, "w") as f:
                    f.write(f"{rc}\n")
            elif os.path.exists(exitf):
                os.remove(exitf)
            print(f"updated {os.path.relpath(golden, TOP)} ({len(out.splitlines())} lines, exit {rc})")
        else:
            want_rc = int(open(exitf).read()) if os.path.exists(exitf) else 0
            report(rc == want_rc, f"golden {name}: exit status",
                   f"got {rc}, want {want_rc}: {err.decode(errors='replace').strip()[:300]}")
            if not os.path.exists(golden):
                report(False, f"golden {name}: output", f"missing {os.path.relpath(golden, TOP)} (run with --update)")
            else:
                want = open(golden, "rb").read()
                report(out == want, f"golden {name}: output", first_difference(want, out))
            if stats:
                want = open(stderr_golden, "rb").read() if os.path.exists(stderr_golden) else b""
                report(err == want, f"golden {name}: --stats counters", first_difference(want, err))
        if rc < 0 or rc >= 128:
            report(False, f"golden {name}: no crash", f"signal/status {rc}")

        if not counts[name]:
            continue
        ours = our_counts(capture, args)
        wanted = defaultdict(set)
        for kind, what, flt in counts[name]:
            if isinstance(what, str):
                wanted[flt].add(what)
        theirs = tshark_counts(capture, tshark_args[name], wanted) if wanted else {}
        for kind, what, flt in counts[name]:
            if isinstance(what, int):
                expect, src = what, "fixed"
            else:
                expect = theirs[(flt, what)]
                src = f"tshark {what}" + (f" [{flt}]" if flt else "")
            report(ours[kind] == expect, f"count {name}: {kind} = {src}",
                   f"flowctl {ours[kind]}, {src} {expect}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
