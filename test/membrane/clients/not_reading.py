#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A client that asks for a large file and then reads nothing.

  not_reading.py HOST PATH SECONDS

Sends one GET for PATH with a small receive buffer, never reads, and
holds the connection SECONDS before it closes it.  (The server's reset
of such a client may never reach it: its sequence number lies beyond
the client's closed window, and Linux ignores it, RFC 5961.)
"""
import socket
import sys
import time

host, path, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, 80))
s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
time.sleep(secs)
s.close()
