"""Twin search at scale: 1M clustered 25-d latents in pgvector (the HNSW index on the version's
partition, with ``HNSW_M`` and ``HNSW_EF_CONSTRUCTION`` of catalog.model_outputs) against exact
search, FAISS HNSW on the same vectors, and the REST API.

    python bench/twins.py [--n 1000000] [--queries 200] [--skip-api] [--halfvec] [--graph M:EFC]

Reports, from one run:
* recall@10 against exact (numpy brute-force) neighbours, and p50/p95 SQL latency, per ef_search;
* FAISS IndexHNSWFlat (the same M and efConstruction) at the same ef_search values;
* a 1 %-selective Teff filter: the exact-scan plan and the iterative HNSW scan, recall and latency;
* Teff filters on either side of ``DOPPEL_TWIN_EXACT_LIMIT``, searched as the product plans them;
* with --halfvec, the same twin statement through an HNSW index on ``vector::halfvec(25)`` (half
  the bytes per element; the product does not use it, see docs/scale.md);
* with --graph M:EFC, the same twin statement through the product's index and through an HNSW
  index built with m=M and ef_construction=EFC on a copy of the latents, each query sent to both
  back to back, with the shared buffers each walk touches;
* p50/p95 latency and throughput of GET /api/stars/{id}/twins/?k=10 under 1, 8 and 32 concurrent
  clients (on the same cores as the server), through gunicorn as the product runs it
  (portal.gunicorn: synchronous processes) and, for comparison, as many processes of 4 threads
  and 2 processes × 8 threads; three passes each, the servers' passes alternating, the median pass
  shown with all three.

The latents are a Gaussian mixture (2,000 clusters of 500, σ 0.3 around centres spread with σ 1),
like a trained latent space of chemically tagged stars; queries are stars of the catalog.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

from _django import OUT, ROOT, bench_database, print_table, server_memory

DATABASE = "doppel_bench_twins"
EF_SEARCH = (24, 32, 40, 100, 200, 400)


def clustered_latents(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // 500)
    centres = rng.normal(0.0, 1.0, size=(n_clusters, 25)).astype(np.float32)
    labels = rng.integers(0, n_clusters, size=n)
    return (centres[labels] + rng.normal(0.0, 0.3, size=(n, 25)).astype(np.float32)).astype(np.float32)


def exact_neighbours(latents: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """(q, k) row indices of the exact L2 neighbours (each query excludes itself)."""
    import torch

    data = torch.as_tensor(latents)
    out = []
    for query in queries:
        distance = torch.cdist(torch.as_tensor(query[None, :]), data)[0]
        if mask is not None:
            distance[~torch.as_tensor(mask)] = float("inf")
        out.append(torch.topk(distance, k + 1, largest=False).indices.numpy())
    return np.stack(out)


def load(n: int, latents: np.ndarray, teff: np.ndarray):
    """n stars (designations B…) with one spectrum, grid labels and a latent under one active
    version (the catalog may hold other stars); index built."""
    from django.db import connection

    from catalog import services
    from catalog.models import ModelVersion, Survey
    from catalog.services import survey_ensure

    survey: Survey = survey_ensure(code="apogee")
    version = ModelVersion.objects.create(kind="disentangler", state=ModelVersion.State.ACTIVE, config={
        "survey": "apogee", "label_source": "grid", "conditional": ["teff", "logg"]})
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO catalog_star (designation, ra, dec, apogee_id)
                          SELECT 'B' || lpad(g::text, 8, '0'), (g * 0.000359) %% 360, ((g * 0.00017) %% 180) - 90, ''
                          FROM generate_series(1, %s) g""", [n])
        cursor.execute("""INSERT INTO catalog_spectrum (star_id, survey_id, flux, source_key, source_file, source_sha256, created_at)
                          SELECT id, %s, '\\x'::bytea, '0', '', '', now() FROM catalog_star
                          WHERE designation LIKE 'B%%' ORDER BY id""", [survey.pk])
        cursor.execute("SELECT s.id, s.star_id FROM catalog_spectrum s JOIN catalog_star st ON st.id = s.star_id "
                       "WHERE st.designation LIKE 'B%%' ORDER BY s.id")
        rows = np.array(cursor.fetchall(), dtype=np.int64)
    spectrum_ids, star_ids = rows[:, 0], rows[:, 1]
    with connection.cursor() as cursor:
        from catalog.bulk_copy import copy_rows

        copy_rows(cursor.cursor, "catalog_labels", ["star_id", "source", "teff", "logg", "abundances", "abundance_errors"],
                  ["int8", "text", "float8", "float8", "jsonb", "jsonb"],
                  ((int(s), "grid", float(t), 2.0, {}, {}) for s, t in zip(star_ids, teff)))
    rows_s = time.perf_counter() - started
    started = time.perf_counter()
    services.embeddings_write(version=version, lo=int(spectrum_ids.min()), hi=int(spectrum_ids.max()),
                              spectrum_ids=spectrum_ids, latents=latents, teff=teff, logg=np.full(n, 2.0))
    copy_s = time.perf_counter() - started
    started = time.perf_counter()
    services.embedding_index_build(version=version)
    index_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_embedding")
        cursor.execute("VACUUM ANALYZE catalog_labels")
    print(f"loaded {n:,}: catalog rows {rows_s:.0f} s, latents COPY {copy_s:.0f} s, HNSW build {index_s:.0f} s", flush=True)
    return version, spectrum_ids, star_ids, {"rows": rows_s, "copy": copy_s, "index": index_s}


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def sql_search(version, latents, queries_idx, truth, ef_values, filters=None, exact_limit=None) -> list[list]:
    from django.conf import settings

    from catalog import selectors

    rows = []
    for ef in ef_values:
        settings.TWIN_EF_SEARCH = ef
        if exact_limit is not None:
            settings.TWIN_EXACT_LIMIT = exact_limit
        times, recalls, plan = [], [], ""
        for q in queries_idx:  # once untimed: the index pages this ef_search touches are in shared buffers
            selectors.twins_for_latent(latent=latents[q], k=11 if filters is None else 10, version=version, filters=filters)
        for q, row in zip(queries_idx, truth):
            started = time.perf_counter()
            result = selectors.twins_for_latent(latent=latents[q], k=11 if filters is None else 10, version=version,
                                                filters=filters)
            times.append(time.perf_counter() - started)
            plan = result.plan
            found = {t.spectrum_id for t in result.rows}
            expected = set(row[:10]) if filters is not None else set(row[1:11]) | {row[0]}
            recalls.append(len(found & expected) / len(expected))
        rows.append((ef, float(np.mean(recalls)), percentile(times, 50), percentile(times, 95), plan))
    return rows


def faiss_search(latents, queries, truth_idx, ef_values) -> tuple[list, float]:
    import faiss

    faiss.omp_set_num_threads(2)
    from catalog.model_outputs import HNSW_EF_CONSTRUCTION, HNSW_M

    index = faiss.IndexHNSWFlat(25, HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    started = time.perf_counter()
    index.add(latents)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)  # one query at a time, like one SQL query
    rows = []
    for ef in ef_values:
        index.hnsw.efSearch = ef
        times, recalls = [], []
        for query, truth in zip(queries, truth_idx):
            started = time.perf_counter()
            _, found = index.search(query[None, :], 11)
            times.append(time.perf_counter() - started)
            recalls.append(len(set(found[0]) & set(truth[:11])) / 11)
        rows.append((ef, float(np.mean(recalls)), percentile(times, 50), percentile(times, 95)))
    return rows, build_s


def run_clients(client, clients: int) -> float:
    """Run ``client(number)`` in ``clients`` threads at once; the wall-clock seconds until all end."""
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def api_load(base_port: int, star_ids: list[int], clients: int, requests_per_client: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, requests/s) of GET /api/stars/{id}/twins/?k=10 with ``clients`` threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(offset: int):
        connection = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
        mine = []
        for k in range(requests_per_client):
            star = star_ids[(offset * requests_per_client + k) % len(star_ids)]
            started = time.perf_counter()
            connection.request("GET", f"/api/stars/{star}/twins/?k=10", headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors.append(f"{response.status}: {body[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    wall = run_clients(client, clients)
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    return percentile(latencies, 50), percentile(latencies, 95), len(latencies) / wall


PRODUCT_SERVER = ["-c", "python:portal.gunicorn"]  # as the container and `make web` run it
THREADED_SERVER = ["-w", "2", "--threads", "8", "-k", "gthread"]  # for comparison: threads in place of processes


def start_server(port: int, database: str = DATABASE, extra_env: dict | None = None,
                 log: str = "gunicorn.log", server_args: list[str] = PRODUCT_SERVER) -> subprocess.Popen:
    """gunicorn (by default the product's settings, portal.gunicorn) on the bench database, once
    /healthz answers."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DOPPEL_USE_TEST_DATABASE": "1",
           "DOPPEL_TEST_DATABASE": database, **(extra_env or {})}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", *server_args, "portal.wsgi", "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning"], cwd=ROOT, env=env,
                              stdout=open(OUT / log, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"gunicorn did not start; see bench/out/{log}")


TWIN_STATEMENT = """PREPARE {name} AS
    SELECT n.spectrum_id, n.distance, st.id, st.designation, su.code, l.teff, l.logg, l.fe_h, l.alpha_fe, st."group"
    FROM (SELECT e.spectrum_id, e.vector <-> $1::vector AS distance FROM catalog_embedding e
          WHERE e.model_version_id = {version} ORDER BY {order} LIMIT 11) n
    JOIN catalog_spectrum s ON s.id = n.spectrum_id JOIN catalog_star st ON st.id = s.star_id
    JOIN catalog_survey su ON su.id = s.survey_id
    LEFT JOIN catalog_labels l ON l.star_id = s.star_id AND l.source = 'grid' ORDER BY n.distance, n.spectrum_id"""


def planned_filters(version, latents, teff, queries_idx, spectrum_ids, ef: int, exact_limit: int) -> str:
    """Teff bands around 5000 K of several selectivities, each searched the way the product plans
    it (``DOPPEL_TWIN_EF_SEARCH`` and ``DOPPEL_TWIN_EXACT_LIMIT`` at their defaults): an exact scan
    at or below the limit's count of candidates, pgvector's iterative scan above it, and the recall
    on either side of the switch."""
    from catalog.selectors import TwinFilters

    limit_fraction = exact_limit / len(latents)
    rows = []
    fractions = [0.25 * limit_fraction, limit_fraction, 1.05 * limit_fraction, 1.25 * limit_fraction,
                 2.5 * limit_fraction, 0.3]
    for fraction in sorted({f for f in fractions if f < 1.0}):
        half = (6500.0 - 3500.0) * fraction / 2  # teff is uniform over 3500–6500 K
        band = (5000.0 - half, 5000.0 + half)
        mask = (teff >= band[0]) & (teff <= band[1])
        truth = [spectrum_ids[row[:10]] for row in exact_neighbours(latents, latents[queries_idx], 10, mask=mask)]
        [(_, recall, p50, p95, plan)] = sql_search(version, latents, queries_idx, truth, (ef,),
                                                    filters=TwinFilters(teff=band), exact_limit=exact_limit)
        rows.append([f"{band[0]:.0f}–{band[1]:.0f} K", f"{mask.sum():,} ({mask.mean():.1%})", plan, f"{recall:.4f}",
                     f"{p50:.2f}", f"{p95:.2f}"])
    return print_table(f"filtered twins as the product plans them: exact scan up to {exact_limit:,} candidates "
                       f"(DOPPEL_TWIN_EXACT_LIMIT), iterative HNSW scan above, ef_search {ef}, {len(queries_idx)} queries",
                       ["Teff band", "candidates", "plan", "recall@10", "p50 ms", "p95 ms"], rows)


def time_prepared(cursor, name: str, texts: list[str], truth, ef: int) -> tuple[float, float]:
    """(recall@10, p50 ms) of ``EXECUTE name(vector)`` over the queries at this ef_search, after
    one untimed pass."""
    cursor.execute(f"SET hnsw.ef_search = {ef}")
    for text in texts:
        cursor.execute(f"EXECUTE {name}(%s)", [text])
    times, recalls = [], []
    for text, expected in zip(texts, truth):
        started = time.perf_counter()
        cursor.execute(f"EXECUTE {name}(%s)", [text])
        found = {r[0] for r in cursor.fetchall()}
        times.append(time.perf_counter() - started)
        recalls.append(len(found & set(expected)) / len(expected))
    return float(np.mean(recalls)), percentile(times, 50)


def vector_texts(latents, queries_idx) -> list[str]:
    return ["[" + ",".join(f"{v:.7g}" for v in latents[q]) + "]" for q in queries_idx]


def halfvec_search(version, latents, queries_idx, truth, ef_values) -> str:
    """The twin statement prepared twice, ordered by the float32 distance (the product's index) and
    by ``vector::halfvec(25)`` through its own HNSW index (same m and ef_construction; distances
    still from the float32 vectors); both executed from a plain cursor, side by side."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX bench_halfvec ON catalog_embedding_v{version.pk} USING hnsw "
                       "((vector::halfvec(25)) halfvec_l2_ops) WITH (m = 24, ef_construction = 128)")
        build_s = time.perf_counter() - started
        cursor.execute(f"SELECT pg_relation_size('bench_halfvec'), pg_relation_size('{version.index_name}')")
        half_bytes, full_bytes = cursor.fetchone()
        cursor.execute(TWIN_STATEMENT.format(name="bench_full", version=version.pk, order="e.vector <-> $1::vector"))
        cursor.execute(TWIN_STATEMENT.format(name="bench_half", version=version.pk,
                                             order="e.vector::halfvec(25) <-> $1::halfvec(25)"))
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        texts = vector_texts(latents, queries_idx)
        rows = []
        for ef in ef_values:
            row = [ef]
            for name in ("bench_full", "bench_half"):
                recall, p50 = time_prepared(cursor, name, texts, truth, ef)
                row += [f"{recall:.4f}", f"{p50:.2f}"]
            rows.append(row)
        cursor.execute("DEALLOCATE bench_full; DEALLOCATE bench_half; RESET plan_cache_mode; RESET hnsw.ef_search; "
                       "DROP INDEX bench_halfvec")
    return print_table(f"the twin statement, plain cursor, float32 index against one on vector::halfvec(25) (built in "
                       f"{build_s:.0f} s, {half_bytes / 2**20:,.0f} MiB; float32 {full_bytes / 2**20:,.0f} MiB)",
                       ["ef_search", "float32 recall@10", "float32 p50 ms", "halfvec recall@10", "halfvec p50 ms"], rows)


def graph_search(version, latents, queries_idx, truth, ef_values, m: int, ef_construction: int) -> str:
    """The twin statement through the product's HNSW index (``HNSW_M``, ``HNSW_EF_CONSTRUCTION``)
    and through one built with ``m`` and ``ef_construction`` on a copy of the same latents, each
    query sent to both back to back (which goes first alternates), so that both graphs see the same
    moments of this shared machine. Also the shared buffers a walk touches (``EXPLAIN``): the walk's
    work, free of timing noise."""
    from django.db import connection

    from catalog.model_outputs import HNSW_EF_CONSTRUCTION, HNSW_M

    texts = vector_texts(latents, queries_idx)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute(f"CREATE TABLE bench_graph_latents AS SELECT model_version_id, spectrum_id, vector "
                       f"FROM catalog_embedding_v{version.pk}")
        try:
            cursor.execute("VACUUM ANALYZE bench_graph_latents")
            started = time.perf_counter()
            cursor.execute(f"CREATE INDEX bench_graph_index ON bench_graph_latents USING hnsw "
                           f"(vector vector_l2_ops) WITH (m = {m}, ef_construction = {ef_construction})")
            build_s = time.perf_counter() - started
            cursor.execute(f"SELECT pg_relation_size('{version.index_name}'), pg_relation_size('bench_graph_index')")
            product_bytes, variant_bytes = cursor.fetchone()
            order = "e.vector <-> $1::vector"
            cursor.execute(TWIN_STATEMENT.format(name="bench_product", version=version.pk, order=order))
            statement = TWIN_STATEMENT.format(name="bench_variant", version=version.pk, order=order)
            variant_statement = statement.replace("FROM catalog_embedding e", "FROM bench_graph_latents e")
            if variant_statement == statement:  # would time the product's graph twice
                raise RuntimeError("TWIN_STATEMENT no longer reads 'FROM catalog_embedding e'")
            cursor.execute(variant_statement)
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            rows = [[ef, *time_side_by_side(cursor, ("bench_product", "bench_variant"), texts, truth, ef)]
                    for ef in ef_values]
            cursor.execute("DEALLOCATE bench_product; DEALLOCATE bench_variant")
        finally:
            cursor.execute("RESET plan_cache_mode; RESET hnsw.ef_search; DROP TABLE IF EXISTS bench_graph_latents")
    ours, theirs = f"m {HNSW_M}/{HNSW_EF_CONSTRUCTION}", f"m {m}/{ef_construction}"
    return print_table(f"the twin statement, plain cursor, each query through the product's index ({ours}, "
                       f"{product_bytes / 2**20:,.0f} MiB) and one with {theirs} on a copy of the latents (built in "
                       f"{build_s:.0f} s, {variant_bytes / 2**20:,.0f} MiB), back to back",
                       ["ef_search", f"{ours} recall@10", f"{ours} p50 ms", f"{ours} buffers", f"{theirs} recall@10",
                        f"{theirs} p50 ms", f"{theirs} buffers", f"{theirs} / {ours} per query (median)"], rows)


def time_side_by_side(cursor, names: tuple[str, str], texts: list[str], truth, ef: int) -> list[str]:
    """Each query through both prepared statements back to back (which goes first alternates),
    after one untimed pass: recall@10, p50 ms and mean shared buffers touched (``EXPLAIN``, first
    50 queries) of each, and the median over queries of the second's time over the first's."""
    cursor.execute(f"SET hnsw.ef_search = {ef}")
    for text in texts:
        for name in names:
            cursor.execute(f"EXECUTE {name}(%s)", [text])
    times, recalls = np.zeros((2, len(texts))), np.zeros((2, len(texts)))
    for j, (text, expected) in enumerate(zip(texts, truth)):
        for side in ((0, 1) if j % 2 == 0 else (1, 0)):
            started = time.perf_counter()
            cursor.execute(f"EXECUTE {names[side]}(%s)", [text])
            found = {r[0] for r in cursor.fetchall()}
            times[side, j] = time.perf_counter() - started
            recalls[side, j] = len(found & set(expected)) / len(expected)
    buffers = []
    for name in names:
        hits = []
        for text in texts[:50]:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name}(%s)", [text])
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            hits.append(plan[0]["Plan"].get("Shared Hit Blocks", 0) + plan[0]["Plan"].get("Shared Read Blocks", 0))
        buffers.append(float(np.mean(hits)))
    cells = []
    for side in (0, 1):
        cells += [f"{recalls[side].mean():.4f}", f"{np.median(times[side]) * 1000:.2f}", f"{buffers[side]:.0f}"]
    return [*cells, f"{np.median(times[1] / times[0]):.3f}"]


def graph_arg(text: str) -> tuple[int, int]:
    try:
        m, ef_construction = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected M:EFC (two integers), got {text!r}") from None
    if not (2 <= m <= 100 and 4 <= ef_construction <= 1000 and ef_construction >= 2 * m):
        raise argparse.ArgumentTypeError("pgvector needs 2 ≤ m ≤ 100 and 2·m ≤ ef_construction ≤ 1000")
    return m, ef_construction


def api_table(star_ids, ef_search: int) -> str:
    """The API under 1, 8 and 32 clients: the product's server (portal.gunicorn) and, for
    comparison, as many processes of 4 threads (``DOPPEL_WEB_THREADS=4``) and 2 processes × 8
    threads; all up at once and their passes interleaved."""
    from portal.gunicorn import threads, workers

    shape = "synchronous" if threads == 1 else f"× {threads} threads"
    servers = {f"portal.gunicorn: {workers} processes, {shape}": (8765, PRODUCT_SERVER),
               f"{workers} processes × 4 threads": (8766, ["-w", str(workers), "--threads", "4", "-k", "gthread"]),
               "2 processes × 8 threads": (8767, THREADED_SERVER)}
    running = []
    sample = [int(s) for s in star_ids]
    rows = []
    try:
        for port, server_args in servers.values():  # started one by one: a failed start stops those already up
            running.append(start_server(port, log=f"gunicorn-{port}.log", server_args=server_args))
        for port, _ in servers.values():
            api_load(port, sample[:200], 8, 25)  # every process prepares its statements
        for clients, per_client in ((1, 300), (8, 100), (32, 40)):
            # three passes each, alternating the servers: on a shared 2-core machine one pass can
            # swing by 20 %; the median pass is shown
            passes = {name: [] for name in servers}
            for _ in range(3):
                for name, (port, _) in servers.items():
                    passes[name].append(api_load(port, sample, clients, per_client))
            for name, measured in passes.items():
                measured.sort(key=lambda p: p[2])
                p50, p95, qps = measured[1]
                rows.append([name, clients, 3 * clients * per_client, f"{p50:.1f}", f"{p95:.1f}", f"{qps:.0f}",
                             " / ".join(f"{p[2]:.0f}" for p in measured)])
                print(rows[-1], flush=True)
    finally:
        for server in running:
            server.terminate()
            server.wait(timeout=30)
    return print_table(f"GET /api/stars/{{id}}/twins/?k=10 through gunicorn on {os.cpu_count()} cores (the clients on the "
                       f"same cores), ef_search {ef_search} (the default)",
                       ["server", "clients", "requests", "p50 ms", "p95 ms", "requests/s", "requests/s of the 3 passes"],
                       rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--halfvec", action="store_true", help="also time an HNSW index on vector::halfvec(25)")
    parser.add_argument("--graph", metavar="M:EFC", type=graph_arg,
                        help="also time an HNSW index built with m=M, ef_construction=EFC in place of the product's")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DOPPEL_API_ANON_RATE", "10000000/minute")
    rng = np.random.default_rng(7)
    latents = clustered_latents(args.n)
    teff = rng.uniform(3500.0, 6500.0, size=args.n)
    queries_idx = rng.choice(args.n, size=args.queries, replace=False)
    started = time.perf_counter()
    truth = exact_neighbours(latents, latents[queries_idx], 10)
    exact_s = (time.perf_counter() - started) / args.queries
    # truth rows start with the query itself (distance 0); keep [self, 10 nearest]
    truth = np.array([[q, *[i for i in row if i != q][:10]] for q, row in zip(queries_idx, truth)])
    tables = []
    with bench_database(DATABASE):
        from django.conf import settings

        default_ef = settings.TWIN_EF_SEARCH  # the API server's; sql_search sets its own
        default_exact_limit = settings.TWIN_EXACT_LIMIT
        version, spectrum_ids, star_ids, load_s = load(args.n, latents, teff)
        sql_truth = [spectrum_ids[row] for row in truth]
        sql_rows = sql_search(version, latents, queries_idx, sql_truth, EF_SEARCH)
        faiss_rows, faiss_build = faiss_search(latents, latents[queries_idx], truth, EF_SEARCH)
        rows = []
        for (ef, recall, p50, p95, plan), (_, f_recall, f_p50, f_p95) in zip(sql_rows, faiss_rows):
            rows.append([ef, f"{recall:.4f}", f"{p50:.2f}", f"{p95:.2f}", f"{f_recall:.4f}", f"{f_p50:.3f}", f"{f_p95:.3f}"])
        tables.append(print_table(
            f"bench/twins.py — {args.n:,} clustered 25-d latents, {args.queries} queries, k=10, {server_memory()} "
            f"(pgvector HNSW build {load_s['index']:.0f} s, FAISS build {faiss_build:.0f} s; exact numpy scan {exact_s * 1000:.0f} ms/query)",
            ["ef_search", "pgvector recall@10", "SQL p50 ms", "SQL p95 ms", "FAISS recall@10", "FAISS p50 ms", "FAISS p95 ms"], rows))
        # A 1 %-selective filter: Teff within 30 K of 5000 K.
        from catalog.selectors import TwinFilters

        band = (4985.0, 5015.0)
        mask = (teff >= band[0]) & (teff <= band[1])
        filtered_truth = exact_neighbours(latents, latents[queries_idx[:50]], 10, mask=mask)
        filtered_truth = [spectrum_ids[row[:10]] for row in filtered_truth]
        filters = TwinFilters(teff=band)
        exact = sql_search(version, latents, queries_idx[:50], filtered_truth, (200,), filters=filters, exact_limit=20_000)
        walk = sql_search(version, latents, queries_idx[:50], filtered_truth, (200,), filters=filters, exact_limit=0)
        tables.append(print_table(
            f"filtered twins: Teff {band[0]:.0f}–{band[1]:.0f} K ({mask.mean():.1%} of rows), 50 queries",
            ["plan", "recall@10", "p50 ms", "p95 ms"],
            [[plan, f"{recall:.4f}", f"{p50:.2f}", f"{p95:.2f}"] for _, recall, p50, p95, plan in exact + walk]))
        tables.append(planned_filters(version, latents, teff, queries_idx[:50], spectrum_ids, default_ef,
                                      default_exact_limit))
        if args.halfvec:
            tables.append(halfvec_search(version, latents, queries_idx, sql_truth, EF_SEARCH))
        if args.graph:
            tables.append(graph_search(version, latents, queries_idx, sql_truth, (24, 32, 40, 100), *args.graph))
        if not args.skip_api:
            tables.append(api_table(rng.choice(star_ids, size=2000, replace=False), default_ef))
    (OUT / "twins.txt").write_text("\n\n".join(tables) + "\n")


if __name__ == "__main__":
    main()
