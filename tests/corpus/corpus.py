#!/usr/bin/python3
"""Replay every capture of the peer corpus (../shared/corpus from the repo
root: Zeek, Suricata, tcpdump, libpcap, Arkime and DeepFlow test captures).

1. Robustness, every capture: `flowctl replay` ends within a timeout, exits
   0, or 1 with a "flowctl replay:" message (unreadable or unsupported
   file), never by a signal; every output line is JSON.
2. Peers' L7 results, where they can be compared cheaply:
   - Zeek http.log: entries with a request method = our HTTP requests;
     dns.log: entries whose query Zeek saw (qclass set), NetBIOS (port 137,
     which Zeek parses as DNS) excluded = our DNS requests.
   - Suricata test.yaml: `filter` checks on http/dns events whose match
     keys we can map (event type, dns.type, names, method, status, url,
     addresses) = our matching events (http: one per transaction).
   Every difference is either fixed or listed in KNOWN with the reason
   (who is wrong, or which convention differs) and our expected value, so a
   change in either direction shows up.
"""
import json
import os
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.normpath(os.path.join(TOP, "..", "shared", "corpus"))
FLOWCTL = os.environ.get("FLOWCTL", os.path.join(TOP, "build", "flowctl"))
TIMEOUT = 20
CAPTURE_EXT = (".pcap", ".pcapng", ".cap", ".trace", ".dmp")

# (peer, case, what) -> (our value, why it differs from the peer)
KNOWN = {
    # --- conventions and scope -------------------------------------------------
    ("zeek", "opt.basic", "http"): (15, "we also report the request of a connection that began "
                                        "before the capture (no handshake); Zeek skips it"),
    ("zeek", "core.tunnels.analyzer-confirmation", "http"): (0, "no tunnel decapsulation yet"),
    ("zeek", "core.tunnels.gre", "dns"): (0, "no tunnel decapsulation yet (GRE)"),
    ("zeek", "core.tunnels.gre-over-udp", "http"): (0, "no tunnel decapsulation yet"),
    ("zeek", "core.tunnels.gre-over-udp", "dns"): (0, "no tunnel decapsulation yet"),
    ("zeek", "core.tunnels.gre-pptp", "dns"): (0, "no tunnel decapsulation yet (PPTP GRE)"),
    ("zeek", "core.tunnels.teredo", "http"): (2, "no tunnel decapsulation yet: only the 2 "
                                                 "native IPv4 requests, not the 2 in Teredo"),
    ("zeek", "scripts.base.protocols.snap.snap-tcp", "http"): (0, "802.2 LLC/SNAP framing is not "
                                                                  "parsed by pkt_parse.h"),
    # --- HTTP parser (l7/http1.c, llhttp): Zeek reports more ---------------
    # Zeek is right that these bytes are requests a lenient server may act on;
    # llhttp refuses them and the parser resyncs later (counted as
    # http.error.*). Update when the parser learns them.
    ("zeek", "scripts.base.protocols.http.http-09", "http"): (0, "HTTP/0.9 simple requests "
                                                                "(no version) refused by llhttp"),
    ("zeek", "scripts.base.protocols.http.no-version", "http"): (0, "request line without a "
                                                                    "version (HTTP/0.9) refused"),
    ("zeek", "scripts.base.protocols.http.no-uri", "http"): (0, "\"GET HTTP/1.1\" (no URI) refused"),
    ("zeek", "scripts.base.protocols.http.http-methods", "http"): (17, "llhttp knows a fixed list "
                                                                       "of methods; Zeek takes any token"),
    ("zeek", "scripts.base.protocols.http.261.chunked-rest", "http"): (1, "smuggling test: the "
                                                                          "request after an invalid framing is not reported"),
    ("zeek", "scripts.base.protocols.http.261.cl-negative", "http"): (1, "smuggling test: the "
                                                                         "request after an invalid framing is not reported"),
    ("zeek", "scripts.base.protocols.http.261.cl-uint64max", "http"): (1, "smuggling test: the "
                                                                          "second request is read as body of the first"),
    ("zeek", "scripts.base.protocols.http.261.te-cl-desync", "http"): (1, "smuggling test: the "
                                                                          "request after an invalid framing is not reported"),
    # --- conventions ------------------------------------------------------------
    # --- HTTP/2 (l7/http2.c) ----------------------------------------------------
    ("suricata", "http2-compression-bug", 0): (5, "Suricata also logs its stream-0 (SETTINGS) "
                                                  "pseudo-transactions as http events (see its "
                                                  "http2-upgrade checks on stream_id 0); tshark "
                                                  "and flowd see 5 streams (1..9)"),
    ("suricata", "dns-reversed-tcp-1", 2): (0, "answer addresses: Hubble (and we) give the "
                                               "packet's direction, Suricata the flow's"),
    ("suricata", "dns-reversed-udp-1", 1): (0, "answer addresses: Hubble (and we) give the "
                                               "packet's direction, Suricata the flow's"),
    ("suricata", "vxlan-decoder-03", 0): (0, "no tunnel decapsulation yet (VXLAN)"),
    ("suricata", "vxlan-decoder-03", 1): (0, "no tunnel decapsulation yet (VXLAN)"),
}

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print(f"PASS: {name}")
    else:
        failures += 1
        print(f"FAIL: {name} {why}".rstrip())


def captures():
    out = []
    for root, _, files in os.walk(CORPUS):
        for f in files:
            if f.endswith(CAPTURE_EXT):
                out.append(os.path.join(root, f))
    return sorted(out)


def replay_all():
    """Replay every capture once; returns {path: [flow dicts]}."""
    results = {}
    for path in captures():
        rel = os.path.relpath(path, CORPUS)
        try:
            p = subprocess.run([FLOWCTL, "replay", path], capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            report(False, f"corpus {rel}", f"no end within {TIMEOUT}s")
            continue
        err = p.stderr.decode(errors="replace").strip()
        if p.returncode not in (0, 1) or (p.returncode == 1 and not err.startswith("flowctl replay:")):
            report(False, f"corpus {rel}", f"exit status {p.returncode}: {err[:300]}")
            continue
        flows = []
        try:
            for line in p.stdout.splitlines():
                flows.append(json.loads(line)["flow"])
        except (ValueError, KeyError) as e:
            report(False, f"corpus {rel}", f"output is not Hubble JSON: {e}")
            continue
        report(True, f"corpus {rel}" + (" (refused: " + err.split(": ")[-1][:60] + ")" if p.returncode else ""))
        results[path] = flows
    return results


def l7_count(flows, proto, typ):
    return sum(1 for f in flows if proto in (f.get("l7") or {}) and f["l7"]["type"] == typ)


def dns_transactions(flows):
    """Zeek logs one dns.log entry per query, answered or not, and one per
    answer that matches no query: our requests plus the responses that
    follow no pending request of the same conversation and name."""
    pending, n = {}, 0
    for f in flows:
        l7 = f.get("l7") or {}
        if "dns" not in l7:
            continue
        ip, l4 = f.get("IP", {}), f.get("l4", {})
        ports = l4.get("UDP") or l4.get("TCP") or {}
        a = (ip.get("source"), ports.get("source_port"))
        b = (ip.get("destination"), ports.get("destination_port"))
        q = l7["dns"].get("query", "").lower()
        if l7["type"] == "REQUEST":
            key = (a, b, q)
            pending[key] = pending.get(key, 0) + 1
            n += 1
        else:
            key = (b, a, q)
            if pending.get(key, 0) > 0:
                pending[key] -= 1
            else:
                n += 1
    return n


def zeek_log_rows(path):
    fields, rows = None, []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#") or not line.strip():
            continue
        elif fields is None:
            fields = line.split("\t")     # .cut files: a header line of names
        else:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def compare(peer, case, what, ours, theirs, label):
    known = KNOWN.get((peer, case, what))
    name = f"{peer} {case}: {label}"
    if known:
        want, why = known
        report(ours == want, f"{name} (known difference: {why})",
               f"flowctl {ours}, expected {want}, {peer} {theirs}")
    else:
        report(ours == theirs, name, f"flowctl {ours}, {peer} {theirs}")


def zeek(results):
    base = os.path.join(CORPUS, "zeek")
    for case in sorted(os.listdir(base)):
        d = os.path.join(base, case)
        caps = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(CAPTURE_EXT)]
        if len(caps) != 1 or caps[0] not in results:
            continue
        flows = results[caps[0]]
        if os.path.exists(os.path.join(d, "http.log")):
            rows = zeek_log_rows(os.path.join(d, "http.log"))
            if rows and "method" in rows[0]:
                theirs = sum(1 for r in rows if r.get("method", "-") not in ("-", ""))
                compare("zeek", case, "http", l7_count(flows, "http", "REQUEST"), theirs,
                        "HTTP requests = http.log entries with a method")
        if os.path.exists(os.path.join(d, "dns.log")):
            rows = zeek_log_rows(os.path.join(d, "dns.log"))
            if rows and "id.resp_p" in rows[0]:
                theirs = sum(1 for r in rows if r.get("id.resp_p") != "137")
                compare("zeek", case, "dns", dns_transactions(flows), theirs,
                        "DNS transactions = dns.log entries (NetBIOS excluded)")


MAPPABLE = {"event_type", "dns.type", "src_ip", "dest_ip", "dns.rrname", "dns.queries[0].rrname",
            "dns.rrtype", "http.http_method", "http.status", "http.hostname", "http.url"}


def suricata_match(f, m):
    l7 = f.get("l7") or {}
    if m["event_type"] == "dns":
        if "dns" not in l7:
            return False
        d, t = l7["dns"], m.get("dns.type")
        if t in ("request", "query") and l7["type"] != "REQUEST":
            return False
        if t in ("response", "answer") and l7["type"] != "RESPONSE":
            return False
        rr = m.get("dns.rrname", m.get("dns.queries[0].rrname"))
        if rr is not None and d.get("query", "").rstrip(".").lower() != str(rr).lower():
            return False
        if "dns.rrtype" in m and m["dns.rrtype"] not in d.get("qtypes", []):
            return False
    else:
        if "http" not in l7:
            return False
        h = l7["http"]
        # Suricata logs one http event per transaction: our responses, or
        # our requests when the check is not about the response
        if "http.status" in m:
            if l7["type"] != "RESPONSE" or h.get("code") != int(m["http.status"]):
                return False
        elif l7["type"] != "REQUEST":
            return False
        if "http.http_method" in m and h.get("method") != m["http.http_method"]:
            return False
        if "http.url" in m and not h.get("url", "").endswith(m["http.url"]):
            return False
        if "http.hostname" in m and "//" + m["http.hostname"] not in h.get("url", ""):
            return False
    ip = f.get("IP", {})
    if "src_ip" in m and ip.get("source") != m["src_ip"]:
        return False
    if "dest_ip" in m and ip.get("destination") != m["dest_ip"]:
        return False
    return True


def suricata(results):
    import yaml   # python3-yaml, a dependency of the Debian python3 used here
    base = os.path.join(CORPUS, "suricata-verify")
    for case in sorted(os.listdir(base)):
        d = os.path.join(base, case)
        ty = os.path.join(d, "test.yaml")
        caps = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(CAPTURE_EXT)]
        if not os.path.exists(ty) or len(caps) != 1 \
                or caps[0] not in results:
            continue
        checks = (yaml.safe_load(open(ty)) or {}).get("checks") or []
        k = 0
        for chk in checks:
            f = chk.get("filter") if isinstance(chk, dict) else None
            if not f or "count" not in f or "filename" in f:
                continue
            m = f.get("match") or {}
            if m.get("event_type") not in ("dns", "http") or not set(m) <= MAPPABLE:
                continue
            ours = sum(1 for fl in results[caps[0]] if suricata_match(fl, m))
            compare("suricata", case, k, ours, f["count"], f"check {k} {json.dumps(m, sort_keys=True)}")
            k += 1


def main():
    if not os.path.isdir(CORPUS):
        report(False, "corpus present", f"{CORPUS} not found (the CI checkout has it next to the repo)")
        return 1
    results = replay_all()
    report(len(results) >= 470, "corpus: nearly all captures replayed", f"only {len(results)}")
    zeek(results)
    suricata(results)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
