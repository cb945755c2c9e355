#!/usr/bin/env python3
"""Two-phase hot patch of a fleet of hotlua servers through their consoles.

    fleet.py [--token T] [--timeout S] HOST:PORT... -- MODULE...

Phase 1 sends `prepare MODULE...` to every console: each node compiles, plans and verifies
the patch from its own files without changing anything, and answers an id and the source
hash of each module. Phase 2 commits on every node (`commit ID`) only if every node prepared
and all prepared the same sources (same hashes); otherwise it aborts the prepared ones
(`abort ID`). One result line per node:

    HOST:PORT COMMITTED <the commit's first reply line>
    HOST:PORT ABORTED <why>
    HOST:PORT FAILED <the node's ERR line>
    HOST:PORT UNREACHABLE <error>

Exit status 0 when every node committed, 1 otherwise, 2 on bad usage. Python's standard
library only: the same commands work from nc, ssh, pdsh or ansible.
"""

import socket
import sys

PROMPT = b"console> "


class Node:
    def __init__(self, addr, timeout, token):
        self.addr = addr
        host, _, port = addr.rpartition(":")
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.until_prompt()  # the banner
        if token is not None:
            reply = self.cmd("auth " + token)
            if reply != "OK":
                raise OSError("authentication failed: " + reply)

    def until_prompt(self):
        while not self.buf.endswith(PROMPT):
            data = self.sock.recv(65536)
            if not data:
                raise OSError("connection closed")
            self.buf += data
        text = self.buf[: -len(PROMPT)].decode("utf-8", "replace")
        self.buf = b""
        return text.rstrip("\n")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.until_prompt()

    def close(self):
        try:
            self.sock.sendall(b"quit\n")
        except OSError:
            pass
        self.sock.close()


def fields(line):
    """key=value fields of a reply line."""
    out = {}
    for word in line.split()[1:]:
        k, sep, v = word.partition("=")
        if sep:
            out[k] = v
    return out


def main(argv):
    token, timeout = None, 30.0
    args = list(argv)
    while args and args[0].startswith("--") and args[0] != "--":
        opt = args.pop(0)
        if opt == "--token" and args:
            token = args.pop(0)
        elif opt == "--timeout" and args:
            timeout = float(args.pop(0))
        else:
            print("fleet.py: unknown option " + opt, file=sys.stderr)
            return 2
    if "--" not in args:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    i = args.index("--")
    addrs, mods = args[:i], args[i + 1 :]
    if not addrs or not mods:
        print("fleet.py: give consoles and modules", file=sys.stderr)
        return 2

    result = {}  # addr -> line
    prepared = {}  # addr -> (node, id, hashes)
    for addr in addrs:
        try:
            node = Node(addr, timeout, token)
            reply = node.cmd("prepare " + " ".join(mods))
        except (OSError, ValueError) as e:
            result[addr] = "UNREACHABLE " + str(e)
            continue
        first = reply.splitlines()[0] if reply else ""
        if first.startswith("OK "):
            f = fields(first)
            prepared[addr] = (node, f.get("id", ""), f.get("hashes", ""))
        else:
            result[addr] = "FAILED " + first
            node.close()

    hashes = {h for (_, _, h) in prepared.values()}
    go = len(prepared) == len(addrs) and len(hashes) == 1
    if not go:
        if len(prepared) != len(addrs):
            why = "not every node prepared"
        else:
            why = "nodes prepared different sources: " + " ".join(sorted(hashes))
        for addr, (node, pid, _) in prepared.items():
            try:
                node.cmd("abort " + pid)
                result[addr] = "ABORTED " + why
            except OSError as e:
                result[addr] = "UNREACHABLE at abort: " + str(e)
            node.close()
    else:
        for addr, (node, pid, _) in prepared.items():
            try:
                reply = node.cmd("commit " + pid)
            except OSError as e:
                result[addr] = "UNREACHABLE at commit: " + str(e)
                continue
            first = reply.splitlines()[0] if reply else ""
            result[addr] = ("COMMITTED " if first.startswith("OK ") else "FAILED ") + first
            node.close()

    for addr in addrs:
        print(addr + " " + result[addr])
    return 0 if all(result[a].startswith("COMMITTED") for a in addrs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
