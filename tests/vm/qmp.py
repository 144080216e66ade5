#!/usr/bin/env python3
"""qmp.py SOCKET 'JSON-COMMAND': sends one command to QEMU's QMP socket and
prints its "return" as JSON on stdout; an "error" goes to stderr with exit
status 1. Negotiates capabilities first and disconnects after, since QEMU
serves one QMP client at a time (rowcat connects to the same socket).
Events that arrive meanwhile are skipped. A busy socket (another client
connected) delays the greeting: the wait has a generous limit
(QMP_TIMEOUT, seconds, default 120) that only reports failure."""

import json
import os
import socket
import sys


def main():
    if len(sys.argv) != 3:
        print("usage: qmp.py SOCKET 'JSON-COMMAND'", file=sys.stderr)
        return 2
    path, text = sys.argv[1], sys.argv[2]
    try:
        command = json.loads(text)
    except ValueError as e:
        print("qmp.py: not JSON: %s" % e, file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(float(os.environ.get("QMP_TIMEOUT", "120")))
    try:
        sock.connect(path)
        stream = sock.makefile("rwb")

        def receive():
            while True:
                line = stream.readline()
                if not line:
                    raise EOFError("QEMU closed the QMP socket")
                message = json.loads(line)
                if "event" not in message:
                    return message

        def execute(cmd):
            stream.write(json.dumps(cmd).encode() + b"\n")
            stream.flush()
            return receive()

        greeting = receive()
        if "QMP" not in greeting:
            raise EOFError("no QMP greeting: %r" % greeting)
        reply = execute({"execute": "qmp_capabilities"})
        if "error" in reply:
            raise EOFError("qmp_capabilities: %r" % reply["error"])
        reply = execute(command)
    except (OSError, EOFError, ValueError) as e:
        print("qmp.py: %s: %s" % (path, e), file=sys.stderr)
        return 1
    finally:
        sock.close()
    if "error" in reply:
        print("qmp.py: %s: %s" % (reply["error"].get("class"),
                                  reply["error"].get("desc")), file=sys.stderr)
        return 1
    print(json.dumps(reply.get("return")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
