"""What every scenario shares: temp databases, servers pinned to a core, wrk, RSS, reporting.

Servers run as subprocesses (``python -m bench.servers``) pinned to core 0; wrk runs
pinned to core 1, so the load generator never competes with the server it measures.
Everything listens on 127.0.0.1 only, and every run is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
LOAD_CORE = "1"
PLATFORM_DOMAIN = "localhost"
DEMO_HOST = f"demo.{PLATFORM_DOMAIN}"
SECONDS = float(os.environ.get("BENCH_SECONDS", "1"))  # one measured wrk run
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))  # paired rounds; the median ratio counts
CONNECTIONS = 32
APP_ROLE = "praxis_app"  # the role migrations create; the servers sign in as it
CACHE_TTL = "600"  # longer than the whole run: the tenant cache never expires mid-measurement
READY_TIMEOUT = 30.0


class BenchError(RuntimeError):
    """The measurement itself went wrong (a server did not start, wrk saw errors)."""


# Where a scenario's data lives: a SQLite file, or a PostgreSQL database's URL (bench.postgres).
Location: TypeAlias = Path | str


# Reporting -----------------------------------------------------------------------------


def report(name: str, ratio: float, target: float, *, higher_is_better: bool = True) -> bool:
    """Print the scenario's one line; True if it meets the target."""
    passed = ratio >= target if higher_is_better else ratio <= target
    sign = ">=" if higher_is_better else "<="
    verdict = "PASS" if passed else "FAIL"
    print(f"{name} ratio={ratio:.2f} target{sign}{target:g} {verdict}", flush=True)
    return passed


def guarded(
    name: str, target: float, measure: Callable[[], float], *, higher_is_better: bool = True
) -> bool:
    """Report ``measure()``'s ratio as ``name``; if measuring raises, the traceback goes to
    stderr and the line fails, so a scenario's other lines (another backend) still run."""
    import traceback

    try:
        ratio = measure()
    except Exception:
        traceback.print_exc()
        report(name, 0.0, target, higher_is_better=higher_is_better)
        return False
    return report(name, ratio, target, higher_is_better=higher_is_better)


def note(message: str) -> None:
    """Details go to stderr; stdout holds only the result lines."""
    print(f"  [bench] {message}", file=sys.stderr, flush=True)


# Tools ---------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Debian's wrk; installed with apt-get on a fresh machine."""
    found = shutil.which("wrk")
    if found:
        return found
    note("wrk is missing: installing it with apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update"], stdout=subprocess.DEVNULL, check=True)
    install = [*sudo, "apt-get", "install", "-y", "wrk"]
    subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk could not be installed (apt-get install -y wrk)")
    return found


def pinned(core: str, *argv: str) -> list[str]:
    return ["taskset", "-c", core, *argv]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it if the bench dies, however it dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


# Databases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """One temp directory per run: databases, the secret's var dir, scripts, server logs."""

    path: Path
    secret: str

    def env(self, database: Location) -> dict[str, str]:
        """The environment of a server: test settings, long tenant cache, JSON access log.
        On PostgreSQL the server signs in as the app's own role (``praxis_app``, as the
        README's deployment set-up does) and the owner is the migrations' user."""
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_ROLE"}
        url = database_url(database)
        if url.startswith("postgresql"):
            from sqlalchemy.engine import make_url

            env["MIGRATION_DATABASE_URL"] = url
            url = make_url(url).set(username=APP_ROLE).render_as_string(hide_password=False)
        env.update(
            {
                "PRAXIS_ENV": "test",
                "PRAXIS_VAR_DIR": str(self.path / "var"),
                "DATABASE_URL": url,
                "SECRET_KEY": self.secret,
                "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
                "OUTBOUND_ALLOWED_HOSTS": LOCAL_PROVIDERS,
                "TENANT_CACHE_TTL": CACHE_TTL,
                "LOG_LEVEL": "INFO",
                "LOG_FORMAT": "json",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env


@contextlib.contextmanager
def workspace() -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory(prefix="praxis-bench-") as tmp:
        yield Workspace(Path(tmp), secrets.token_urlsafe(48))


def sqlite_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


def database_url(database: Location) -> str:
    """A SQLite file's URL; a URL (PostgreSQL) as it is."""
    return database if isinstance(database, str) else sqlite_url(database)


# The bench's providers are the sandbox's fakes on this machine: reached as the tests reach
# them, past the rule that keeps provider settings from aiming inward (README).
LOCAL_PROVIDERS = "localhost,127.0.0.1"


def settings_for(space: Workspace, database: Location) -> Any:
    """The settings the bench sets a database up with (migrations, demo, bench clinic):
    on PostgreSQL the default app role, so row-level security applies as in the app."""
    from praxis.core.config import load_settings

    return load_settings(
        env="test",
        var_dir=space.path / "var",
        database_url=database_url(database),
        secret_key=space.secret,
        platform_domain=PLATFORM_DOMAIN,
        outbound_allowed_hosts=LOCAL_PROVIDERS,
    )


def tenant_row(slug: str) -> dict[str, Any]:
    """A tenant shaped like onboarding makes it (tenants.services._columns of a TenantSpec)."""
    from praxis.tenants.schema import TenantSpec
    from praxis.tenants.services import _columns

    spec = TenantSpec.model_validate(
        {
            "slug": slug,
            "name": f"{slug.title()} Clinic",
            "timezone": "Europe/London",
            "controller": {
                "legal_name": f"{slug.title()} Clinic Ltd",
                "address": "1 High Street, London N1 1AA",
                "dpo_contact": f"dpo@{slug}.example",
                "ico_registration": "ZA123456",
            },
            "branding": {"tagline": f"Consultations with {slug.title()}, in clinic or by video."},
        }
    )
    return {"id": uuid.uuid4(), "status": "active", **_columns(spec)}


def prepare_database(
    space: Workspace, name: str, tenants: int, *, url: str | None = None
) -> tuple[Location, list[str]]:
    """Migrate a fresh database (a SQLite file in the workspace, or the empty PostgreSQL
    database at ``url``), load the demo clinic, then bulk-insert more tenants up to
    ``tenants`` in all. Returns where the database is and every tenant's slug."""
    from praxis.core import migrate

    database: Location = url if url is not None else space.path / f"{name}.db"
    settings = settings_for(space, database)
    extra = [f"clinic-{i:05d}" for i in range(1, tenants)]
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # no setup logs
        migrate.upgrade(settings)
        asyncio.run(_populate(settings, extra))
    return database, ["demo", *extra]


async def _populate(settings: Any, slugs: Sequence[str]) -> None:
    from sqlalchemy import insert

    from praxis.core.db import Base, utcnow
    from praxis.core.demo import load_demo
    from praxis.core.runtime import build_runtime
    from praxis.tenants.models import Tenant

    runtime = build_runtime(settings)
    try:
        await load_demo(runtime)
        now = utcnow()
        rows = [{**tenant_row(slug), "created_at": now, "updated_at": now} for slug in slugs]
        table = Base.metadata.tables[Tenant.__tablename__]
        async with runtime.database.writing() as db:  # one Core INSERT, executemany
            for start in range(0, len(rows), 2000):
                await db.execute(insert(table), rows[start : start + 2000])
            await db.commit()
    finally:
        await runtime.close()


# Servers -------------------------------------------------------------------------------


class Server:
    """``python -m bench.servers KIND`` on 127.0.0.1, pinned to the server core."""

    def __init__(
        self,
        space: Workspace,
        kind: str,
        database: Location,
        label: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.label = label
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log_path = space.path / f"{label}.stderr"
        self._log: IO[bytes] = open(self._log_path, "wb")  # noqa: SIM115 - closed in stop()
        argv = [sys.executable, "-m", "bench.servers", kind]
        argv += ["--db", str(database), "--port", str(self.port)]  # a file or a URL
        self.process = subprocess.Popen(
            pinned(SERVER_CORE, *argv),
            cwd=ROOT,
            env=space.env(database) | dict(env or {}),  # a scenario's own settings last
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the access log, as in production, to /dev/null
            stderr=self._log,
            preexec_fn=_die_with_parent,  # the bench is single-threaded: preexec_fn is safe
        )

    @property
    def pid(self) -> int:
        return self.process.pid  # taskset execs the server: same pid

    def wait_ready(self, host: str = DEMO_HOST) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.label} exited at start:\n{self.stderr()}")
            try:
                status, _ = get(self.port, host)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.label} was not ready after {READY_TIMEOUT:g} s:\n{self.stderr()}")

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stderr(self) -> str:
        self._log.flush()
        return self._log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


@contextlib.contextmanager
def servers(
    space: Workspace,
    specs: Sequence[tuple[str, Location, str]],
    host: str = DEMO_HOST,
    *,
    env: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[list[Server]]:
    """Start each (kind, database, label) server, wait until each answers, always stop them.
    ``env``: settings of a server's own, by its label."""
    started: list[Server] = []
    try:
        for kind, database, label in specs:
            started.append(Server(space, kind, database, label, (env or {}).get(label)))
        for server in started:
            server.wait_ready(host)
        yield started
    finally:
        for server in started:
            server.stop()


def get(port: int, host: str, path: str = "/", *, cookie: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Host": host} | ({"Cookie": cookie} if cookie else {})
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# Load ----------------------------------------------------------------------------------

_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float  # wall time of the run, as wrk measured it
    rps: float  # requests per wall-clock second, as wrk prints it
    output: str


@dataclass(frozen=True)
class Measurement:
    """One measured run: wall-clock throughput, and throughput per second of server CPU."""

    requests: int
    rps: float
    cpu_seconds: float
    wall_seconds: float

    @property
    def cpu_share(self) -> float:
        """How much of its core the server had; near 1.0 on an otherwise idle machine."""
        return self.cpu_seconds / self.wall_seconds

    @property
    def rate(self) -> float:
        """What the scenarios compare (BENCH_METRIC): requests per CPU-second by default."""
        return self.rps if METRIC == "wall" else self.per_cpu_second

    @property
    def per_cpu_second(self) -> float:
        return self.requests / self.cpu_seconds


METRIC = os.environ.get("BENCH_METRIC", "cpu")  # "cpu" (default) or "wall"


def wrk(
    url: str,
    *,
    seconds: float,
    host: str | None = None,
    script: Path | None = None,
    connections: int = CONNECTIONS,
    check: bool = True,
    args: Sequence[str] = (),
    timeout: float | None = None,
) -> WrkResult:
    """One wrk run from the load core; with ``check``, any error or non-2xx fails the bench.
    ``args`` go to the script's ``init`` (after ``--``); ``timeout`` replaces wrk's 2 s
    limit on one response."""
    argv = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    if timeout:
        argv.append(f"--timeout={timeout:g}s")
    if host:
        argv += ["-H", f"Host: {host}"]
    if script:
        argv += ["-s", str(script)]
    argv.append(url)
    if args:
        argv += ["--", *args]
    done = subprocess.run(
        pinned(LOAD_CORE, *argv),
        capture_output=True,
        text=True,
        timeout=seconds + (timeout or 0) + 60,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{output}")
    rps, total = _RPS.search(output), _REQUESTS.search(output)
    if rps is None or total is None:
        raise BenchError(f"could not read wrk's output:\n{output}")
    if check:
        non_2xx = _NON_2XX.search(output)
        socket_errors = _SOCKET.search(output)
        if non_2xx or (socket_errors and any(int(n) for n in socket_errors.groups())):
            raise BenchError(f"wrk saw errors against {url}:\n{output}")
    wall = float(total.group(2)) * _UNITS[total.group(3)]
    return WrkResult(int(total.group(1)), wall, float(rps.group(1)), output)


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of a process so far: /proc/<pid>/task/*/schedstat (ns),
    or utime + stime from /proc/<pid>/stat (clock ticks) where schedstat is missing."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            # A thread may end meanwhile: its directory goes, or reading it fails with ESRCH.
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (FileNotFoundError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: Server, *, seconds: float, host: str | None = None, script: Path | None = None
) -> Measurement:
    """One wrk run against ``server``, with the CPU time the server spent on it."""
    before = cpu_seconds(server.pid)
    result = wrk(server.url, seconds=seconds, host=host, script=script)
    spent = cpu_seconds(server.pid) - before
    if result.requests <= 0 or spent <= 0 or result.seconds <= 0:
        measured = f"{result.requests} requests, {spent:.3f} CPU-s"
        raise BenchError(f"{server.label}: nothing measured ({measured})")
    return Measurement(result.requests, result.rps, spent, result.seconds)


def hosts_script(space: Workspace, name: str, hosts: Sequence[str], *, warm_up: int = 0) -> Path:
    """A wrk Lua script with one pre-built request per host.

    Measuring (``warm_up=0``): each request goes to a random host. Warming up: the hosts
    in turn, over and over, and wrk exits after ``warm_up`` responses (all must be 200).
    """
    listed = ",\n".join(f'  "{h}"' for h in hosts)
    if warm_up:
        body = f"""
local i, seen, bad, limit = 0, 0, 0, {warm_up}
function request()
  i = i % n + 1
  return requests[i]
end
function response(status, headers, body)
  seen = seen + 1
  if status ~= 200 then bad = bad + 1 end
  if seen >= limit then
    io.write(string.format("warmed %d responses, %d not 200\\n", seen, bad))
    io.flush()
    os.exit(bad == 0 and 0 or 3)
  end
end
"""
    else:
        body = """
function request()
  return requests[math.random(n)]
end
"""
    text = f"""-- generated by bench/common.py
local hosts = {{
{listed}
}}
n = #hosts
requests = {{}}
function init(args)
  math.randomseed(os.time() + {len(hosts)})
  for k = 1, n do
    requests[k] = wrk.format("GET", "/", {{ Host = hosts[k] }})
  end
end
{body}"""
    path = space.path / f"{name}.lua"
    path.write_text(text)
    return path


def warm_up_hosts(url: str, script: Path, responses: int) -> None:
    """Run a warm-up script to completion (it exits wrk itself after ``responses``)."""
    argv = [ensure_wrk(), "-t1", f"-c{CONNECTIONS}", "-d120s", "-s", str(script), url]
    done = subprocess.run(
        pinned(LOAD_CORE, *argv), capture_output=True, text=True, timeout=150, check=False
    )
    if done.returncode != 0 or "warmed" not in done.stdout:
        raise BenchError(
            f"warm-up of {url} failed ({done.returncode}, {responses} wanted):\n"
            f"{done.stdout}{done.stderr}"
        )


def compare(
    label_a: str,
    run_a: Callable[[], Measurement],
    label_b: str,
    run_b: Callable[[], Measurement],
    rounds: int = ROUNDS,
) -> float:
    """The median over rounds of rate(a) / rate(b).

    Each round measures both, back to back, alternating which goes first (ab, ba, ab, ...),
    so a change in the machine's load between rounds affects both sides of a ratio alike.
    """
    ratios: list[float] = []
    seen: dict[str, list[Measurement]] = {label_a: [], label_b: []}
    for n in range(rounds):
        order = [(label_a, run_a), (label_b, run_b)]
        for label, run in order if n % 2 == 0 else reversed(order):
            seen[label].append(run())
        a, b = seen[label_a][-1], seen[label_b][-1]
        ratios.append(a.rate / b.rate)
    for label, values in seen.items():
        shown = ", ".join(
            f"{m.rps:.0f}/s {m.cpu_share:.0%}cpu {m.per_cpu_second:.0f}/cpu-s" for m in values
        )
        note(f"{label}: {shown}")
    note(f"{label_a}/{label_b} per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    return statistics.median(ratios)
