#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every counter appears in all three outputs with the same value.

  check_counters.py JSON_BEFORE TEXT TELEMETRY JSON_AFTER

JSON_BEFORE and JSON_AFTER are GET /stats taken before and after the
others; TEXT is the console's "show port", "show rings", "show fibers" and
"show lcores" replies; TELEMETRY a JSON object of the /ion/* commands'
answers.  Counters of a running daemon move (cycles, polls, the console's
own traffic), so a value read in between must lie between the two JSON
values; a counter that did not move must be equal in all four.  Every
section, row and counter of the JSON must be in the text and in the
telemetry, and they may have nothing the JSON lacks.
"""
import json
import re
import sys

SECTIONS = ("port", "netswitch", "routes", "rings", "fibers", "lcores")
# Gauges are a state, not a count: while GET /stats is rendered, the burst
# that carried its request still sits in net-rx (used 1 or 2); read by the
# console it is gone.  A gauge read in between may be anything from 0 to
# one more than the JSON saw.
GAUGES = ("used", "tx_pending", "open_files")
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def parse_text(text):
    """{section: [row]}, row = {"attrs": {}, "ctr": {}, "sub": {name: {}}}."""
    out, section, row, sub = {}, None, None, None
    for line in text.splitlines():
        if re.match(r"^  [a-z]+$", line):
            section = line.strip()
            out[section] = []
            continue
        if section is None or not line.startswith("    "):
            continue
        body = line.strip()
        if line.startswith("    ["):
            row = {"attrs": {}, "ctr": {}, "sub": {}}
            sub = None
            out[section].append(row)
            attrs, body = body[1:].split("]", 1)
            for kv in attrs.split():
                k, _, v = kv.partition("=")
                row["attrs"][k] = v
        elif re.match(r"^      [a-z_]+:", line):
            name, body = body.split(":", 1)
            sub = row["sub"].setdefault(name, {})
        words = body.split()
        target = sub if sub is not None else row["ctr"]
        for k, v in zip(words[::2], words[1::2]):
            target[k] = int(v)
    return out


def key(section, attrs):
    """A row's identity: its first label."""
    first = next(iter(attrs.values()))
    return first if section in ("fibers", "port") else num(first)


def json_rows(doc, section, attr_names):
    """JSON rows as text rows look: attributes apart from counters."""
    rows = doc[section] if isinstance(doc[section], list) else [doc[section]]
    out = []
    for r in rows:
        row = {"attrs": {}, "ctr": {}, "sub": {}}
        for k, v in r.items():
            if isinstance(v, dict):
                row["sub"][k] = v
            elif k in attr_names:
                row["attrs"][k] = v
            else:
                row["ctr"][k] = v
        out.append(row)
    return out


def tel_rows(tel, section):
    """Telemetry rows: a flat dict, or a dict of rows by their first label."""
    d = tel[f"/ion/{section}"]
    return [d] if section in ("port", "netswitch") else list(d.values())


def by_key(section, rows):
    return {key(section, r["attrs"]): r for r in rows}


def compare(where, lo_row, hi_row, got):
    """Each counter of got within [before, after]; none missing or extra."""
    expect(set(got) == set(lo_row),
           f"{where}: counters differ: missing {sorted(set(lo_row) - set(got))}, "
           f"extra {sorted(set(got) - set(lo_row))}")
    for name, v in got.items():
        if name not in lo_row:
            continue
        lo, hi = sorted((lo_row[name], hi_row[name]))
        if name in GAUGES:
            lo, hi = 0, hi + 1
        expect(lo <= v <= hi, f"{where}: {name} = {v}, JSON says {lo_row[name]} then "
                              f"{hi_row[name]}")


def main(before_path, text_path, tel_path, after_path):
    before, after = json.load(open(before_path)), json.load(open(after_path))
    text = parse_text(open(text_path).read())
    tel = json.load(open(tel_path))
    counted = 0
    for section in SECTIONS:
        expect(section in before and section in text, f"section {section} missing")
        if section not in before or section not in text:
            continue
        attr_names = set()
        for r in text[section]:
            attr_names |= set(r["attrs"])
        b = by_key(section, json_rows(before, section, attr_names))
        a = by_key(section, json_rows(after, section, attr_names))
        t = {key(section, r["attrs"]): r for r in text[section]}
        tl = {}
        for r in tel_rows(tel, section):
            row = {"attrs": {k: v for k, v in r.items() if k in attr_names},
                   "ctr": {k: v for k, v in r.items()
                           if k not in attr_names and not isinstance(v, dict)},
                   "sub": {k: v for k, v in r.items() if isinstance(v, dict)}}
            tl[key(section, row["attrs"])] = row
        expect(set(b) == set(t) == set(tl),
               f"{section}: rows differ: json {sorted(b)}, text {sorted(t)}, "
               f"telemetry {sorted(tl)}")
        for k, jb in b.items():
            ja = a.get(k, jb)
            for name, got in (("text", t.get(k)), ("telemetry", tl.get(k))):
                if got is None:
                    continue
                compare(f"{name} {section} {k}", jb["ctr"], ja["ctr"], got["ctr"])
                expect(set(got["sub"]) == set(jb["sub"]),
                       f"{name} {section} {k}: nested sets {sorted(got['sub'])} != "
                       f"{sorted(jb['sub'])}")
                for s, vals in got["sub"].items():
                    if s in jb["sub"]:
                        compare(f"{name} {section} {k} {s}", jb["sub"][s],
                                ja["sub"].get(s, jb["sub"][s]), vals)
            counted += len(jb["ctr"]) + sum(len(v) for v in jb["sub"].values())
    for e in errors:
        print("check:", e)
    print(f"check_counters: {counted} counters in text, JSON and telemetry: "
          f"{'agree' if not errors else f'{len(errors)} differences'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
