"""Messages between the executor and its workers: length-prefixed C pickles over a socket pair.

The C pickler, not ``multiprocess``'s dill: dill's pure-Python pickler cost the parent ~110 us per
test spec sent (8 of 13 s on 10 CodeT problems, on cores the workers need). Both sides are our own
trusted code (the candidate's child never holds this socket), and every message is plain data:
tuples, strings, numbers and the executor's dataclasses.

A frame is an 8-byte big-endian length and the pickle. The parent's end (``Channel``) never blocks:
it queues what the socket does not take and reads whatever has arrived, so a parent sending a large
job while the worker sends a large result cannot deadlock (issue 19). The worker's end blocks
(``send``, ``recv``): a worker does one thing at a time, and the parent reads it whenever it waits.
"""
from __future__ import annotations

import pickle
import socket
import struct
from collections import deque
from typing import Any

HEADER = struct.Struct("!Q")
_READ = 1 << 18


def _pickle(message: Any) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def send(sock: socket.socket, message: Any) -> None:
    data = _pickle(message)
    sock.sendall(HEADER.pack(len(data)))
    sock.sendall(data)


def send_if_room(sock: socket.socket, message: Any) -> None:
    """Send a small message unless the socket is full (the parent is not reading): a heartbeat
    must never hold up a worker that is supervising a candidate."""
    data = _pickle(message)
    frame = HEADER.pack(len(data)) + data
    try:
        sent = sock.send(frame, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return
    if sent < len(frame):  # unix sockets take a small frame whole or not at all; never leave half of one
        sock.sendall(frame[sent:])


def _read_exactly(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    while view:
        got = sock.recv_into(view)
        if not got:
            raise EOFError("the other end closed the socket")
        view = view[got:]
    return buf


def recv(sock: socket.socket) -> Any:
    (n,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    return pickle.loads(_read_exactly(sock, n))


class Channel:
    """The parent's end of one worker's socket: non-blocking and buffered both ways."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.outbox: deque[memoryview] = deque()
        self.unsent = 0  # bytes queued and not yet taken by the socket
        self.inbox = bytearray()  # bytes received that do not complete a message yet
        self.received = 0  # bytes received in all

    def fileno(self) -> int:
        return self.sock.fileno()

    def put(self, message: Any) -> int:
        """Queue ``message`` and send what the socket takes now; return its size in bytes."""
        data = _pickle(message)
        self.outbox += (memoryview(HEADER.pack(len(data))), memoryview(data))
        self.unsent += HEADER.size + len(data)
        self.flush()
        return len(data)

    def flush(self) -> None:
        """Send queued bytes until the socket is full; BrokenPipeError/ConnectionResetError if the worker is gone."""
        while self.outbox:
            try:
                sent = self.sock.send(self.outbox[0])
            except BlockingIOError:
                return
            self.unsent -= sent
            if sent == len(self.outbox[0]):
                self.outbox.popleft()
            else:
                self.outbox[0] = self.outbox[0][sent:]

    def receive(self) -> tuple[list[Any], bool]:
        """The messages completed by what has arrived, and whether the worker closed its end."""
        closed = False
        while True:
            try:
                chunk = self.sock.recv(_READ)
            except BlockingIOError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            self.inbox += chunk
            self.received += len(chunk)
        messages = []
        while len(self.inbox) >= HEADER.size:
            (n,) = HEADER.unpack_from(self.inbox)
            end = HEADER.size + n
            if len(self.inbox) < end:
                break
            messages.append(pickle.loads(self.inbox[HEADER.size:end]))
            del self.inbox[:end]
        return messages, closed

    def close(self) -> None:
        self.sock.close()
