"""The shop's internet between the till and a payment provider, for tests: a real TCP relay on this machine.

``Line(port)`` listens on 127.0.0.1 (``.url``) and relays to the provider's port. Its ``mode``:

- ``UP``: every request and its answer go through;
- ``DOWN``: the internet is down: each connection is closed at once, nothing reaches the provider;
- ``LOSING``: the request reaches the provider, its answer never comes back (the connection drops): the
  provider may have charged the customer and the till cannot know.
"""
from __future__ import annotations

import socket
import threading

UP, DOWN, LOSING = "up", "down", "losing"


class Line:
    def __init__(self, port: int, mode: str = UP) -> None:
        self.port, self.mode = port, mode
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="test-internet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client, self.mode), daemon=True).start()

    def _relay(self, client: socket.socket, mode: str) -> None:
        try:
            if mode == DOWN:
                return
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as upstream:
                threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
                if mode == LOSING:
                    while upstream.recv(65536):  # the provider answers: that answer is lost on the way
                        pass
                    return
                _pipe(upstream, client)
        except OSError:
            pass
        finally:
            client.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                target.shutdown(socket.SHUT_WR)
                return
            target.sendall(data)
    except OSError:
        pass
