"""The `chorus` command: run everything on one machine, or each part on its own.

    chorus run       migrate, start the sandbox network, create the demo workspace, serve
                     web + worker + dispatcher + inbox streams (one group)
    chorus web       serve the web app only (production: behind a reverse proxy)
    chorus worker    run background tasks only (start as many as you need)
    chorus dispatcher publish due posts (start one or many; they share the work)
    chorus demo      create the demo workspace and print its sign-in
    chorus manage …  any Django management command (migrate, createsuperuser, …)

Configuration errors print one line naming the setting to fix, never a stack trace.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class StartupError(Exception):
    """Something outside the code is wrong; the message says what to change."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except StartupError as exc:
        print(f"chorus: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chorus", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def address_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("CHORUS_HOST", DEFAULT_HOST))
        p.add_argument("--port", type=int, default=int(os.environ.get("CHORUS_PORT", DEFAULT_PORT)))

    run = sub.add_parser("run", help="everything in one process group, for one machine")
    address_args(run)
    run.add_argument("--no-demo", action="store_true", help="do not create the demo workspace")
    run.set_defaults(handler=cmd_run)

    web = sub.add_parser("web", help="the web app only")
    address_args(web)
    web.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    web.set_defaults(handler=cmd_web)

    worker = sub.add_parser("worker", help="background tasks only")
    worker.add_argument(
        "--no-periodic",
        action="store_true",
        help="do not schedule periodic tasks (run exactly one worker without this flag)",
    )
    worker.set_defaults(handler=cmd_worker)

    dispatcher = sub.add_parser("dispatcher", help="publish due posts (run one or many)")
    dispatcher.set_defaults(handler=cmd_dispatcher)

    demo = sub.add_parser("demo", help="create the demo workspace and print its sign-in")
    demo.set_defaults(handler=cmd_demo)

    manage = sub.add_parser("manage", help="a Django management command", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


# --------------------------------------------------------------------------- checks


def setup_django() -> None:
    """Load settings; a bad setting becomes a StartupError naming it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings")
    from chorus.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        raise StartupError(str(exc)) from exc


def check_database() -> None:
    from django.db import OperationalError, connection

    from chorus.config import redact_url

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        url = os.environ.get("DATABASE_URL", "")
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartupError(
            f"cannot reach the database ({reason}). Check DATABASE_URL"
            f"{'=' + redact_url(url) if url else ''} and that the server is running."
        ) from exc


def check_broker() -> None:
    """In distributed mode the Redis broker must answer before we accept work."""
    from django.conf import settings

    from chorus.config import redact_url

    url = settings.HUEY.get("url")
    if not url:
        return
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise StartupError(
            f"cannot reach the task broker at CHORUS_QUEUE_URL={redact_url(url)} ({exc}). "
            "Start Redis or unset CHORUS_QUEUE_URL to use the embedded queue."
        ) from exc


def default_site_url(host: str, port: int) -> str:
    """Unless CHORUS_SITE_URL is set, links in e-mails use the address served here; children
    (web, worker, dispatcher) inherit it. A wildcard host is reached on loopback."""
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
    served = wildcard.get(host, host)
    if ":" in served:
        served = f"[{served}]"
    url = f"http://{served}:{port}"
    if not os.environ.get("CHORUS_SITE_URL", "").strip():
        os.environ["CHORUS_SITE_URL"] = url
    return url


def check_port(host: str, port: int) -> None:
    """Refuse early when another program listens on the port.

    The probe sets SO_REUSEADDR as the web server will: connections of a previous run left in
    TIME-WAIT do not stop a restart, while a live listener still does (Linux refuses to bind
    beside one whatever the flag)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {host}:{port} ({exc.strerror}). Another program uses it: "
                "stop it, or pick another port with --port or CHORUS_PORT."
            ) from exc


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# --------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    default_site_url(args.host, args.port)
    setup_django()
    check_database()
    check_broker()
    check_port(args.host, args.port)
    print("chorus: preparing the database…", flush=True)
    migrate()
    sandbox = _start_sandbox(args.port, process=True) if _sandbox_wanted(args.no_demo) else None
    try:
        env = {**os.environ, "CHORUS_SKIP_CHECKS": "1"}
        if sandbox is not None:
            env["CHORUS_SANDBOX_URL"] = sandbox.base_url
        if not args.no_demo:
            _print_demo(sandbox.base_url if sandbox else "")
        base = [sys.executable, "-m", "chorus.cli"]
        children = [
            subprocess.Popen([*base, "worker"], env=env),
            subprocess.Popen([*base, "dispatcher"], env=env),
            subprocess.Popen([*base, "manage", "inbox_stream"], env=env),  # inbox push
            subprocess.Popen(
                [*base, "web", "--host", args.host, "--port", str(args.port), "--workers", "2"],
                env=env,
            ),
        ]
        if sandbox is not None:
            children.append(sandbox.child)
        print(f"chorus: open http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
        return _supervise(children)
    finally:
        if sandbox is not None:
            sandbox.stop()


def _sandbox_wanted(no_demo: bool) -> bool:
    """The sandbox runs with the demo unless CHORUS_SANDBOX=false; without, only if true."""
    from chorus.config import env_bool

    return env_bool("CHORUS_SANDBOX", not no_demo)


def _start_sandbox(web_port: int, *, process: bool):
    """Start the sandbox network on loopback; its address goes into CHORUS_SANDBOX_URL.

    It listens on CHORUS_SANDBOX_PORT, else the port after the web app's, so accounts
    connected in one run find it at the same address in the next.
    """
    from django.conf import settings

    from chorus.config import env
    from chorus.sandbox.server import SandboxServer

    raw = env("CHORUS_SANDBOX_PORT") or str(web_port + 1)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StartupError(f"CHORUS_SANDBOX_PORT={raw!r} is not a port number (1-65535).")
    sandbox = SandboxServer(
        process=process, port=int(raw), state=settings.DATA_DIR / "sandbox.pickle"
    )
    try:
        sandbox.start()
    except (OSError, RuntimeError) as exc:
        raise StartupError(
            f"the sandbox network cannot listen on 127.0.0.1:{raw} ({exc}). Stop what uses "
            "it, pick another port with CHORUS_SANDBOX_PORT, or turn it off with "
            "CHORUS_SANDBOX=false."
        ) from exc
    settings.CHORUS_SANDBOX_URL = os.environ["CHORUS_SANDBOX_URL"] = sandbox.base_url
    print(f"chorus: sandbox network at {sandbox.base_url} (no internet needed)", flush=True)
    return sandbox


def _supervise(children: list[subprocess.Popen]) -> int:
    """Run until a child exits or we are stopped, then stop the others."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = next(child.returncode for child in children if child.poll() is not None)
    except KeyboardInterrupt:
        code = 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return code


def cmd_web(args: argparse.Namespace) -> int:
    default_site_url(args.host, args.port)
    setup_django()
    if not os.environ.get("CHORUS_SKIP_CHECKS"):
        check_database()
        check_broker()
        check_port(args.host, args.port)
    from gunicorn.app.base import BaseApplication

    from chorus.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", max(1, args.workers))
            self.cfg.set("threads", 4)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 10)

        def load(self):
            return application

    Server().run()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()
    if not os.environ.get("CHORUS_SKIP_CHECKS"):
        check_database()
        check_broker()
    from django.core.management import call_command

    call_command("run_huey", *(["--no-periodic"] if args.no_periodic else []))
    return 0


def cmd_dispatcher(args: argparse.Namespace) -> int:
    setup_django()
    if not os.environ.get("CHORUS_SKIP_CHECKS"):
        check_database()
    import threading

    from chorus.publishing.dispatcher import Dispatcher

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    print("chorus: dispatcher started", flush=True)
    Dispatcher().run(stop)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    check_database()
    migrate()
    if not _sandbox_wanted(False):
        _print_demo("")
        return 0
    port = int(os.environ.get("CHORUS_PORT", DEFAULT_PORT))
    sandbox = _start_sandbox(port, process=False)
    try:
        _print_demo(sandbox.base_url)
    finally:
        sandbox.stop()
    return 0


def _print_demo(sandbox_url: str) -> None:
    """The demo workspace (with sandbox accounts and a week of posts when the sandbox runs)."""
    from chorus.accounts.demo import ensure_demo

    email, password = ensure_demo()
    if sandbox_url:
        from chorus.sandbox.demo import demo_content_ensure

        if demo_content_ensure(sandbox_url=sandbox_url):
            print("chorus: demo workspace filled: 3 sandbox accounts, a week of posts", flush=True)
    print(f"chorus: demo sign-in: {email} / {password}", flush=True)


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["chorus manage", *args.rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
