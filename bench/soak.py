"""Soak: 32 clients for 60 s against gunicorn (as the product runs it: portal.gunicorn) on loopback.

    python bench/soak.py [--clients 32] [--seconds 60] [--n 20000]

Two runs on the same throw-away catalog (``--n`` stars with labels and latents under an active
model, as ``bench/twins.py`` loads them):

1. **production throttles**: the default rates (120 anonymous API requests a minute per client),
   behind one trusted proxy (``DOPPEL_NUM_PROXIES=1``), each client with its own address in
   X-Forwarded-For. Passes when no response is ≥ 500 and no client got more API answers than its
   rate allows (a 429 only past the rate);
2. **throttles raised** (10⁷ a minute): the true capacity of the two cores.

Each client loops over a mix of what anonymous users ask: the home page, a star search with
filters, a star, its twins and /healthz. Prints one table (saved to bench/results/soak.txt).
"""
from __future__ import annotations

import argparse
import collections
import http.client
import os
import subprocess
import threading
import time

import numpy as np

from _django import OUT, ROOT, bench_database, print_table
from twins import clustered_latents, load, percentile, run_clients
from twins import start_server as start_twins_server

DATABASE = "doppel_bench_soak"
PORT = 8765
ANON_RATE = 120  # per minute: the default DOPPEL_API_ANON_RATE


def start_server(extra_env: dict) -> subprocess.Popen:
    return start_twins_server(PORT, DATABASE, {"DOPPEL_NUM_PROXIES": "1", **extra_env}, log="soak-gunicorn.log")


def soak(clients: int, seconds: float, star_ids: np.ndarray) -> dict:
    """Run the mix; per-request (status, seconds, is_api) and per-client API 2xx counts."""
    results: list[tuple[int, float]] = []
    api_ok = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int):
        rng = np.random.default_rng(number)
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Accept": "application/json", "X-Forwarded-For": f"10.0.{number // 250}.{number % 250 + 1}"}
        mine, ok = [], 0
        while time.monotonic() < deadline:
            star = int(rng.choice(star_ids))
            path = [f"/api/stars/{star}/twins/?k=10", f"/api/stars/{star}/", "/api/stars/?teff_min=4000&teff_max=4100",
                    "/", "/healthz"][len(mine) % 5]
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                status = 599  # no answer: counted with the 5xx
            mine.append((status, time.perf_counter() - started))
            ok += path.startswith("/api/") and 200 <= status < 300
        connection.close()
        with lock:
            results.extend(mine)
            api_ok[number] = ok

    wall = run_clients(client, clients)
    statuses = collections.Counter(status for status, _ in results)
    latencies = [seconds for _, seconds in results]
    return {"requests": len(results), "rate": len(results) / wall, "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "ok": sum(n for s, n in statuses.items() if s < 400),
            "throttled": statuses.get(429, 0), "errors": sum(n for s, n in statuses.items() if s >= 500),
            "max_api_ok": max(api_ok.values()), "minutes": wall / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    os.environ["DOPPEL_CACHE_DB"] = "13"  # this bench's throttle counters, shared by gunicorn and this process
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    rows = []
    with bench_database(DATABASE):
        _, _, star_ids, _ = load(args.n, clustered_latents(args.n), rng.uniform(3500.0, 6500.0, args.n))
        runs = {"production throttles": {"DOPPEL_API_ANON_RATE": f"{ANON_RATE}/minute"},
                "throttles raised": {"DOPPEL_API_ANON_RATE": "10000000/minute", "DOPPEL_API_USER_RATE": "10000000/minute"}}
        for name, env in runs.items():
            from django.core.cache import cache

            cache.clear()
            server = start_server(env)
            try:
                result = soak(args.clients, args.seconds, star_ids)
            finally:
                server.terminate()
                server.wait(timeout=30)
            allowed = ANON_RATE * max(1.0, np.ceil(result["minutes"]))  # a fixed window may straddle a minute
            verdict = "✓" if result["errors"] == 0 and (name != "production throttles" or result["max_api_ok"] <= allowed) else "✗"
            rows.append([name, f"{result['requests']:,}", f"{result['rate']:,.0f}", f"{result['p50']:.1f}",
                         f"{result['p95']:.1f}", f"{result['ok']:,}", f"{result['throttled']:,}", result["errors"],
                         f"{result['max_api_ok']}" + (f" (≤ {allowed:.0f})" if name == "production throttles" else ""),
                         verdict])
    from portal.gunicorn import threads, workers

    text = print_table(f"bench/soak.py — {args.clients} clients × {args.seconds:.0f} s, gunicorn {workers} processes × {threads} "
                       f"thread{'s' if threads > 1 else ''}, loopback, "
                       f"{os.cpu_count()} cores",
                       ["run", "requests", "req/s", "p50 ms", "p95 ms", "< 400", "429", "≥ 500",
                        "most API answers to one client", "ok"], rows)
    (ROOT / "bench" / "results" / "soak.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
