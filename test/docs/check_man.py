#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ionswitchd.conf(5) (docs/man/ionswitchd.conf.5.scd) against
docs/configuration.md: every key of the configuration's tables (the kinds'
own keys excepted: the man page refers to `ionswitchd --kinds` for them)
has an entry in the man page, and every value its default names there (a
number, a quoted string, true/false, "required") is in that entry.

  check_man.py SOURCE_ROOT
"""
import re
import sys

top = sys.argv[1]
md = open(f"{top}/docs/configuration.md").read()
scd = open(f"{top}/docs/man/ionswitchd.conf.5.scd").read()

# the generated section of the kinds is not the man page's
md = re.sub(r"<!-- ionswitchd --kinds -->.*<!-- end ionswitchd --kinds -->", "", md, flags=re.S)

# the man page's sections are the doc's groups, in capitals
GROUPS = {"eal": "EAL", "port": "PORT", "channels": "CHANNELS",
          "netswitch": "NETSWITCH", "fibers": "FIBERS", "stats": "RUN TIME",
          "claims": "CLAIMS"}

entries = {}
key = heading = None
for line in scd.splitlines():
    m = re.match(r"^\*([a-z_.]+)\*$", line)
    if line.startswith("# "):
        heading = line[2:]
        key = None
    elif m:
        key = (heading.split(" (")[0], m.group(1))
        entries[key] = ""
    elif line and not line.startswith("\t"):
        key = None
    elif key:
        entries[key] += " " + line.strip()

errors = 0
rows = 0
section = None
for line in md.splitlines():
    h = re.match(r"^### `(\w+)`", line)
    if h:
        section = h.group(1)
    m = re.match(r"^\| `([a-z_.]+)` \| (.*?) \| .* \|$", line)
    if not m or m.group(1) in ("key", "option"):
        continue
    key, default = m.group(1), m.group(2)
    if key.startswith("-"):
        continue
    rows += 1
    entry = entries.get((GROUPS.get(section, section), key))
    if entry is None:
        print(f"not ok: {key} ({section}): no entry in ionswitchd.conf(5)")
        errors += 1
        continue
    # scdoc's markup: *bold*, _underline_ (at word edges), \escapes
    flat = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", "", entry.replace("*", ""))
    flat = re.sub(r"\\(.)", r"\1", flat)
    values = re.findall(r'"[^"]*"|\b0x[0-9a-fA-F]+\b|\b\d+\b|\btrue\b|\bfalse\b|\[\]|\(\)', default.replace("`", ""))
    if default.startswith("required"):
        values.append("Required")
    missing = [v for v in values if v not in flat]
    if missing:
        print(f"not ok: {key}: default {default!r}: {missing} not in the man page's '{flat.strip()}'")
        errors += 1
    else:
        print(f"ok: {key}: {', '.join(values) or 'no literal default'}")
if rows < 20:
    print(f"not ok: only {rows} keys found in docs/configuration.md: its tables changed shape?")
    errors += 1
sys.exit(1 if errors else 0)
