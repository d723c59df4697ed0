"""A throw-away PostgreSQL 15 server for tests and benchmarks.

``initdb`` + ``pg_ctl start`` from /usr/lib/postgresql/15/bin on a free port,
listening only on a unix socket in a temporary directory, trust auth. When
running as root the server commands run as user ``postgres`` (PostgreSQL
refuses to run as root).

For the network tests: ``tcp=True`` also listens on 127.0.0.1 (same port), with
``password`` required there (scram) while the unix socket stays trusted;
``stop(mode="immediate")`` stops it as a crash would and keeps the data dir, and
``start()`` again brings it back on the same data dir and port.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional

PG_BIN = Path(os.environ.get("CHAOYING_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries (or the postgres user, when root) are missing."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self, fsync: bool = False, tcp: bool = False, password: str = "") -> None:
        self.fsync = fsync
        self.tcp = tcp
        self.password = password  # over TCP the postgres user needs it (scram); the unix socket is trusted
        self.dir: Optional[Path] = None
        self.port = 0
        self.running = False
        self._prefix: List[str] = []

    def _check(self) -> None:
        for name in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / name).exists():
                raise PostgresUnavailable(f"{PG_BIN / name} is missing")
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root but there is no postgres user") from None
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root but runuser is missing")
            self._prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(self._prefix + list(args), check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, cwd=str(self.dir))

    def start(self) -> "PostgresServer":
        """Make the server (initdb) and start it; after ``stop(mode=...)``, start it again on its data dir."""
        if self.dir is None:
            self._make()
        assert self.dir is not None
        listen = "127.0.0.1" if self.tcp else ""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses='{listen}' -c max_connections=50"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        self.running = True
        return self

    def _make(self) -> None:
        self._check()
        self.dir = Path(tempfile.mkdtemp(prefix="chaoying-pg-"))
        os.chmod(self.dir, 0o755)
        if self._prefix:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        data = self.dir / "data"
        auth = ["-A", "trust"]
        if self.password:
            pwfile = self.dir / "pwfile"
            pwfile.write_text(self.password + "\n", encoding="utf-8")
            if self._prefix:
                entry = pwd.getpwnam("postgres")
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(str(PG_BIN / "initdb"), "-D", str(data), *auth, "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.port = _free_port()

    def stop(self, mode: Optional[str] = None) -> None:
        """No mode: stop the server and remove it. A mode ("immediate" is a crash, "fast"): stop it that way
        and keep its data dir and port for ``start()``."""
        if self.dir is None:
            return
        if mode is not None:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")
            self.running = False
            return
        try:
            if self.running:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            self.running = False
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.dir}&port={self.port}"

    def tcp_url(self, database: str = "postgres", password: Optional[str] = None, port: Optional[int] = None,
                host: str = "127.0.0.1") -> str:
        """The URL over TCP (``tcp=True``): with ``password`` (default: the server's), through ``port``
        (a proxy's) when given."""
        secret = self.password if password is None else password
        user = f"postgres:{secret}" if secret else "postgres"
        return f"postgresql://{user}@{host}:{port or self.port}/{database}"

    def create_database(self, name: Optional[str] = None) -> str:
        """Create a fresh database; return its URL."""
        import psycopg2

        name = name or "t_" + uuid.uuid4().hex[:12]
        conn = psycopg2.connect(dbname="postgres", user="postgres", host=str(self.dir), port=self.port)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg2

        conn = psycopg2.connect(dbname="postgres", user="postgres", host=str(self.dir), port=self.port)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()
