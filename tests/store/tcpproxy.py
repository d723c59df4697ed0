"""A TCP proxy for the network tests: the cable between a till and the shop's server.

Listens on 127.0.0.1 (a free port) and forwards every connection to ``target``. ``delay`` seconds
are waited before each chunk is passed on (a slow line: seconds per round trip); ``cut()``
closes every connection at once (the cable pulled); ``refuse = True`` closes new connections
as soon as they come (the server's machine unreachable). Only loopback addresses are used.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import List, Optional, Tuple


class TcpProxy:
    def __init__(self, target: Tuple[str, int], delay: float = 0.0) -> None:
        assert target[0] in ("127.0.0.1", "localhost"), "the proxy only forwards to this machine"
        self.target = target
        self.delay = delay
        self.refuse = False
        self.chunks = 0  # chunks passed on, both ways (tests wait on it)
        self.accepted = 0  # connections taken
        self._listener: Optional[socket.socket] = None
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self.port = 0

    def start(self) -> "TcpProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept, name="tcpproxy-accept", daemon=True).start()
        return self

    def cut(self) -> int:
        """Close every open connection (both sides); returns how many sockets were closed."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)
        return len(sockets)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._sockets) // 2

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            _close(self._listener)
        self.cut()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refuse:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets += [client, upstream]
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), name="tcpproxy-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                sink.sendall(data)
                self.chunks += 1
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
            with self._lock:
                self._sockets = [s for s in self._sockets if s not in (source, sink)]


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
