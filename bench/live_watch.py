#!/usr/bin/env python3
"""live_watch.py EVENTS_SOCKET CONSOLE_LOG: watches a guest of tests/vm from
outside, for row 8's independent measure of the pause, until stdin closes.

Prints one line per observation, in the order seen:
  event NAME QEMU_SECONDS   a QMP event (STOP, RESUME, ...) with the time
                            QEMU stamped on it (the host's real-time clock)
  ack N HOST_SECONDS        the guest acknowledged record N on its console;
                            the host's real-time clock when this process saw
                            the line (the console file is polled every ms)

EVENTS_SOCKET is a second QMP monitor of the guest (vm.sh's
ROWCAT_VM_EVENTS_SOCKET): the first one serves rowcat, and a monitor
serves one client at a time."""

import json
import os
import socket
import sys
import threading
import time

lock = threading.Lock()


def emit(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    stream = sock.makefile("rwb")
    json.loads(stream.readline())  # the greeting
    stream.write(b'{"execute":"qmp_capabilities"}\n')
    stream.flush()
    if "return" not in json.loads(stream.readline()):
        raise RuntimeError("qmp_capabilities refused")
    return stream


def events(stream):
    for line in stream:
        message = json.loads(line)
        if "event" in message:
            ts = message["timestamp"]
            emit("event %s %d.%06d" % (message["event"], ts["seconds"],
                                      ts["microseconds"]))


def console(path, stop):
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        pending = b""
        while not stop.is_set():
            chunk = f.read()
            if not chunk:
                time.sleep(0.001)
                continue
            seen = time.time()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace").strip("\r")
                if text.startswith("ack "):
                    emit("%s %.6f" % (text, seen))


def main():
    if len(sys.argv) != 3:
        print("usage: live_watch.py EVENTS_SOCKET CONSOLE_LOG", file=sys.stderr)
        return 2
    stop = threading.Event()
    stream = connect(sys.argv[1])
    threading.Thread(target=events, args=(stream,), daemon=True).start()
    tail = threading.Thread(target=console, args=(sys.argv[2], stop), daemon=True)
    tail.start()
    emit("ready")
    sys.stdin.read()
    stop.set()
    tail.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
