#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_claimd.c (corpus/claimd/), in its
encoding (the comment at the top of fuzz_claimd.c): each seed a short
conversation with the claim server that reaches one of its states."""
import os
import struct

CLAIM, OK, ERR, MAP, RING, FAULT, BYE = range(1, 8)
APP, STRICT, INSIDE, ONCE, NOPE = range(5)
CH1, CH2 = 0, 1  # channel selectors: ring 1's, ring 2's
READ, WRITE = 1, 2


def ctl(slot, fds=0, raw=False, nopoll=False, close=False):
    return bytes([slot | fds << 2 | (0x20 if raw else 0) |
                  (0x40 if nopoll else 0) | (0x80 if close else 0)])


def claim(name, slot=0, fds=0, **k):
    return ctl(slot, fds, **k) + bytes([CLAIM, name])


def req(ch, perm, slot=0, op=MAP, **k):
    return ctl(slot, **k) + bytes([op, ch | perm << 2])


def bye(slot=0, **k):
    return ctl(slot, **k) + bytes([BYE])


def raw(data, slot=0, **k):
    return ctl(slot, raw=True, **k) + struct.pack('<H', len(data)) + data


def act(a):
    return bytes([3 | a << 2])


KILL, EXIT1, CLOSE_ALL, OPEN0, OP_KILL, SLEEP = 0, 5, 8, 12, 24, 63

SEEDS = {
    'claim-map-bye': claim(APP) + req(CH1, READ) + req(CH2, WRITE) + bye(),
    'claim-eventfd-fault': claim(APP, fds=1) + req(CH2, READ),
    'fault-queued': claim(APP) + req(CH1, WRITE, nopoll=True) +
    req(CH1, WRITE, op=FAULT) + claim(APP, slot=1),
    'once-twice': claim(ONCE) + req(CH1, READ) + ctl(0) +
    bytes([0x08 | FAULT, 0]) + claim(ONCE, slot=1),
    'refusals': claim(STRICT) + claim(INSIDE, slot=1) + claim(NOPE, slot=2) +
    claim(APP, fds=2) + claim(APP, slot=1, fds=4),
    'raw-magic': raw(b'IONC' + b'\0' * 60) + raw(b'', slot=1),
    'long-claim': ctl(0) + bytes([CLAIM | 0x20, APP, 4]),
    'late': act(OPEN0) + ctl(1) + bytes([0x10 | CLAIM, 2, APP]) +
    claim(APP, slot=2) + act(SLEEP) + claim(APP, slot=0),
    'uid-limit': act(OPEN0) + act(OPEN0 + 1) + act(OPEN0 + 2) +
    claim(APP, slot=2),
    'busy-kill': claim(APP) + claim(APP, slot=1) +
    claim(APP, slot=2, close=True) + act(KILL) + claim(APP, slot=2),
    'exit-close': claim(APP) + act(EXIT1) + act(CLOSE_ALL) + claim(APP),
    'operator-kill': claim(ONCE) + act(OP_KILL + 1) + claim(ONCE, slot=1) +
    act(OP_KILL) + claim(APP, slot=2) + act(OP_KILL + 3) + act(OP_KILL + 4),
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'corpus', 'claimd')
os.makedirs(here, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(here, name), 'wb') as f:
        f.write(data)
