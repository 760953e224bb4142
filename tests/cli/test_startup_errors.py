"""Bad configuration gives one line naming the setting, never only a stack trace."""

import os
import socket
import subprocess
import sys

import pytest


def run_chorus(*args, tmp_path, **env):
    full_env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CHORUS_QUEUE_URL"}
    }
    full_env.update(CHORUS_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "chorus.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,  # migrating and seeding the demo: a safety net, not a speed check
    )


def assert_clear_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("chorus: ")
    for word in words:
        assert word in result.stderr


def test_unknown_database_scheme(tmp_path):
    result = run_chorus("demo", tmp_path=tmp_path, DATABASE_URL="mongodb://localhost/x")
    assert_clear_error(result, "DATABASE_URL")


def test_unreachable_postgresql_hides_password(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"postgres://chorus:s3cret@127.0.0.1:{port}/chorus"
    result = run_chorus("demo", tmp_path=tmp_path, DATABASE_URL=url)
    assert_clear_error(result, "DATABASE_URL", "cannot reach the database")
    assert "s3cret" not in result.stderr


def test_missing_broker_in_distributed_mode(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = run_chorus("worker", tmp_path=tmp_path, CHORUS_QUEUE_URL=f"redis://127.0.0.1:{port}/0")
    assert_clear_error(result, "CHORUS_QUEUE_URL", "Redis")


def test_unknown_queue_scheme(tmp_path):
    result = run_chorus("worker", tmp_path=tmp_path, CHORUS_QUEUE_URL="amqp://localhost")
    assert_clear_error(result, "CHORUS_QUEUE_URL")


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_chorus("run", "--port", str(port), "--no-demo", tmp_path=tmp_path)
    assert_clear_error(result, str(port), "CHORUS_PORT")


@pytest.mark.parametrize(
    ("name", "value"), [("CHORUS_DEBUG", "maybe"), ("CHORUS_ENCRYPTION_KEYS", "not-a-key")]
)
def test_bad_setting_is_named(tmp_path, name, value):
    result = run_chorus("demo", tmp_path=tmp_path, **{name: value})
    assert_clear_error(result, name)


def test_demo_prints_sign_in_and_keeps_it(tmp_path):
    first = run_chorus("demo", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "demo@chorus.localhost" in first.stdout
    second = run_chorus("demo", tmp_path=tmp_path)
    assert second.stdout.strip().splitlines()[-1] == first.stdout.strip().splitlines()[-1]
    assert (tmp_path / "secret_key").exists() and (tmp_path / "chorus.sqlite3").exists()


def test_port_with_only_time_wait_connections_is_free():
    """A restart right after a run: the old server's closed connections linger in TIME-WAIT on
    the port, which must not count as "in use" (gunicorn itself binds with SO_REUSEADDR)."""
    from chorus.cli import check_port

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _address = server.accept()
            accepted.close()  # the server side closes first: its end enters TIME-WAIT
            client.recv(1)
    # what the old probe did (no SO_REUSEADDR) is refused while TIME-WAIT lasts
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    check_port("127.0.0.1", port)
