"""tenant_scale: the portal page with 10,000 tenants against the same with 10.

Each request asks for a random tenant's host. Both servers are first warmed up by asking
every host in turn, so the in-process tenant cache holds every tenant (its TTL is set
longer than the run), then measured alternately. Two lines:

  tenant_scale         throughput with 10,000 tenants / throughput with 10
  tenant_scale_memory  resident memory (VmRSS) of the 10,000-tenant server after the run
                       / that of the 10-tenant server
"""

from __future__ import annotations

import time

from bench.common import (
    CONNECTIONS,
    SECONDS,
    Measurement,
    compare,
    hosts_script,
    measure,
    note,
    prepare_database,
    report,
    servers,
    warm_up_hosts,
    workspace,
    wrk,
)
from bench.common import PLATFORM_DOMAIN as DOMAIN

NAME = "tenant_scale"
MEMORY = "tenant_scale_memory"
TARGET = 0.9
MEMORY_TARGET = 1.5
LINES = ((NAME, TARGET, True), (MEMORY, MEMORY_TARGET, False))
FEW, MANY = 10, 10_000
WARM_UP_MIN = 3_000  # responses: every host once (more for the few), then random hosts


def run() -> bool:
    with workspace() as space:
        scripts = {}
        specs = []
        for count in (FEW, MANY):
            label = f"tenants_{count}"
            database, slugs = prepare_database(space, label, tenants=count)
            hosts = [f"{slug}.{DOMAIN}" for slug in slugs]
            warm = max(len(hosts) + 4 * CONNECTIONS, WARM_UP_MIN)
            scripts[label] = (
                hosts_script(space, f"{label}_warm", hosts, warm_up=warm),
                hosts_script(space, f"{label}_random", hosts),
                warm,
            )
            specs.append(("ours", database, label))
        with servers(space, specs) as started:
            by_label = {server.label: server for server in started}
            for label, server in by_label.items():
                warm_script, random_script, warm = scripts[label]
                started_at = time.monotonic()
                warm_up_hosts(server.url, warm_script, warm)
                wrk(server.url, script=random_script, seconds=2)
                note(f"{label}: warmed up in {time.monotonic() - started_at:.0f} s")

            def one_run(label: str) -> Measurement:
                return measure(by_label[label], script=scripts[label][1], seconds=SECONDS)

            few, many = f"tenants_{FEW}", f"tenants_{MANY}"
            ratio = compare(many, lambda: one_run(many), few, lambda: one_run(few))
            rss = {label: server.rss_kib() for label, server in by_label.items()}
    note(f"VmRSS: {rss[few] / 1024:.1f} MiB with {FEW}, {rss[many] / 1024:.1f} MiB with {MANY}")
    speed = report(NAME, ratio, TARGET)
    memory = report(MEMORY, rss[many] / rss[few], MEMORY_TARGET, higher_is_better=False)
    return speed and memory
