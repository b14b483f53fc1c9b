"""Chemical twins: nearest neighbours in the active disentangler's latent space (L2, 25-d).

The plan depends on the filters (docs/architecture.md, "Twin search"):

* no filters → the HNSW index on the version's partition, ``hnsw.ef_search`` = ``DOPPEL_TWIN_EF_SEARCH``
  (recall@10 ≥ 0.99 at 1M vectors, see bench/twins.py);
* filters that leave more than ``DOPPEL_TWIN_EXACT_LIMIT`` candidates → the same index with
  pgvector's *iterative scan* (``hnsw.iterative_scan = strict_order``), which keeps walking the
  graph until k rows pass the filter;
* filters that leave fewer → an exact scan of the filtered rows (recall 1.0, and cheaper than a
  graph walk that would discard almost everything).

Every query is restricted to one version, so it switches atomically when a new one is activated.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from catalog.models import Embedding, ModelVersion, Star

MAX_K = 100


class TwinSearchError(ValueError):
    """A twin search that cannot be answered; the message says why (shown to the user)."""


@dataclass
class TwinFilters:
    teff: tuple[float, float] | None = None  # K
    logg: tuple[float, float] | None = None  # dex
    survey: str | None = None  # Survey.code of the twins' spectra
    exclude_same_group: bool = False  # drop stars of the query's synthetic group (evaluation)
    include_self: bool = False  # keep the query star's own spectra

    @property
    def selective(self) -> bool:
        return bool(self.teff or self.logg or self.survey or self.exclude_same_group)


@dataclass
class Twin:
    spectrum_id: int
    star_id: int
    designation: str
    distance: float
    survey: str
    teff: float | None
    logg: float | None
    fe_h: float | None
    alpha_fe: float | None
    group: int | None


@dataclass
class TwinResult:
    version: ModelVersion
    query_spectrum_id: int | None
    query_latent: np.ndarray
    query_star: Star | None = None  # the catalog star whose twins these are
    rows: list[Twin] = field(default_factory=list)
    plan: str = "hnsw"
    # Guardrails (None where the version predates them or the query gave no parameters):
    outside_training_range: bool | None = None  # the query's Teff/logg lie outside what the model trained on
    beyond_range: dict[str, float] = field(default_factory=dict)  # {parameter: how far outside (K, dex)}
    nearest_distance: float | None = None  # to the nearest other star, whatever the filters
    unlike_catalog: bool | None = None  # nearest_distance above the catalog's own 99th percentile

    @property
    def warnings(self) -> list[str]:
        """What a user should know before trusting these twins, in words."""
        notes = []
        if self.outside_training_range:
            offsets = ", ".join(f"{name} {value:+.0f} K" if name == "teff" else f"{name} {value:+.2f} dex"
                                for name, value in self.beyond_range.items())
            notes.append(f"The query lies outside the parameter range this model was trained on ({offsets} beyond "
                         f"it): its latent is an extrapolation.")
        if self.unlike_catalog:
            notes.append(f"The query is unlike anything in the catalog: its nearest star is {self.nearest_distance:.2f} "
                         f"away, farther than 99 % of the catalog's own nearest neighbours "
                         f"({self.version.metrics.get('nn_distance_p99', 0):.2f}).")
        return notes


def range_offsets(parameters: dict[str, float | None], ranges: dict) -> dict[str, float]:
    """{name: signed distance outside [low, high]} for the parameters that lie outside their range."""
    offsets = {}
    for name, bounds in ranges.items():
        value = parameters.get(name)
        if value is None or bounds is None:
            continue
        low, high = float(bounds[0]), float(bounds[1])
        if value < low or value > high:
            offsets[name] = float(value - low if value < low else value - high)
    return offsets


def _active_disentangler(version: ModelVersion | None) -> ModelVersion:
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None:
        raise TwinSearchError("no disentangler is active yet: train one (admin → Model versions) first")
    return version


def star_latent(*, star: Star, version: ModelVersion) -> tuple[int, np.ndarray]:
    """(spectrum id, latent (25,)) of the star's first embedded spectrum under ``version``."""
    embedding = _star_embedding(star, version)
    return embedding.spectrum_id, np.asarray(embedding.vector, dtype=np.float32)


def _star_embedding(star: Star, version: ModelVersion) -> Embedding:
    embedding = Embedding.objects.filter(model_version=version, spectrum__star=star).order_by("spectrum_id").first()
    if embedding is None:
        raise TwinSearchError(f"{star.designation} has no latent under {version}: it needs a "
                              f"{version.config.get('survey')} spectrum with {version.config.get('label_source')!r} labels")
    return embedding


def twins_for_star(*, star: Star, k: int = 10, filters: TwinFilters | None = None,
                   version: ModelVersion | None = None) -> TwinResult:
    """The star's k twins under ``version`` (default: the active one), from its first embedded spectrum."""
    if version is None:  # the active version and the star's latent under it, in one query
        _, version, embedding = _star_version_latent(star.pk)
        return _star_twins(star, version, embedding, k, filters)
    return _star_twins(star, version, None, k, filters)


def twins_for_star_id(*, star_id: int, k: int = 10, filters: TwinFilters | None = None) -> TwinResult:
    """:func:`twins_for_star` under the active version for the star with this id: the star, the
    active version and the star's latent are read in one query (the API's hot path). Raises
    ``Star.DoesNotExist``."""
    star, version, embedding = _star_version_latent(int(star_id))
    return _star_twins(star, version, embedding, k, filters)


def _star_twins(star: Star, version: ModelVersion | None, embedding: Embedding | None, k: int,
                filters: TwinFilters | None) -> TwinResult:
    """Twins from the star's latent under ``version`` (None: none is active), read here when not given."""
    version = _active_disentangler(version)
    embedding = embedding or _star_embedding(star, version)
    filters = filters or TwinFilters()
    result = twins_for_latent(latent=np.asarray(embedding.vector, dtype=np.float32), k=k, filters=filters,
                              version=version, exclude_star_id=None if filters.include_self else star.pk,
                              group=star.group, parameters={"teff": embedding.teff, "logg": embedding.logg})
    result.query_spectrum_id = embedding.spectrum_id
    result.query_star = star
    return result


def _star_version_latent(star_id: int) -> tuple[Star, ModelVersion | None, Embedding | None]:
    """The star, the active disentangler (its latent map deferred) and the star's first latent
    under it, from one statement prepared once per session like the twin walk (this runs on every
    twin request: no ORM compilation, no planning)."""
    with connection.cursor() as cursor:
        row = _execute(cursor, _LOOKUP.statement, [star_id])
    if not row:
        raise Star.DoesNotExist(f"no star with id {star_id}")
    values = iter(row[0])
    star = _instance(Star, _LOOKUP.star, [next(values) for _ in _LOOKUP.star])
    version = _instance(ModelVersion, _LOOKUP.version, [next(values) for _ in _LOOKUP.version])
    embedding = _instance(Embedding, _LOOKUP.embedding, [next(values) for _ in _LOOKUP.embedding])
    if embedding is not None:
        embedding.model_version = version
    return star, version, embedding


class _Lookup:
    """The columns and the text of :func:`_star_version_latent`'s statement (built on first use:
    the models' fields are known once Django's apps are ready)."""

    @cached_property
    def star(self):
        return Star._meta.concrete_fields

    @cached_property
    def version(self):
        return [f for f in ModelVersion._meta.concrete_fields if f.name != "latent_map"]

    @cached_property
    def embedding(self):
        return Embedding._meta.concrete_fields

    @cached_property
    def statement(self) -> str:
        columns = ", ".join([*(f'st."{f.column}"' for f in self.star), *(f'v."{f.column}"' for f in self.version),
                             *(f'e."{f.column}"' for f in self.embedding)])
        return f"""SELECT {columns} FROM catalog_star st
                   LEFT JOIN catalog_modelversion v ON v.kind = '{ModelVersion.Kind.DISENTANGLER.value}'
                                                     AND v.state = '{ModelVersion.State.ACTIVE.value}'
                   LEFT JOIN LATERAL (SELECT e.* FROM catalog_embedding e JOIN catalog_spectrum s ON s.id = e.spectrum_id
                                      WHERE e.model_version_id = v.id AND s.star_id = st.id
                                      ORDER BY e.spectrum_id LIMIT 1) e ON true
                   WHERE st.id = %s"""


_LOOKUP = _Lookup()


def _instance(model, fields, values):
    """A model instance from raw column values (the fields' database converters applied); None
    for an outer join's missing row."""
    if values[0] is None:  # the primary key
        return None
    converted = [field.from_db_value(value, None, connection) if value is not None and hasattr(field, "from_db_value")
                 else value for field, value in zip(fields, values)]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def twins_for_latent(*, latent: np.ndarray, k: int = 10, filters: TwinFilters | None = None,
                     version: ModelVersion | None = None, exclude_star_id: int | None = None,
                     group: int | None = None, parameters: dict[str, float | None] | None = None) -> TwinResult:
    """The k nearest stars' spectra to ``latent`` (25,) under the version (default: the active one).

    The neighbour search reads ``catalog_embedding`` only (Teff/logg are stored with each latent);
    the k rows are then joined to their stars and labels. ``parameters`` (the query's conditioned
    parameters, K and dex) are checked against the model's training range, and the query's nearest
    other star against the catalog's own nearest-neighbour distances (``TwinResult.warnings``)."""
    result = _twins(latent=latent, k=k, filters=filters, version=version, exclude_star_id=exclude_star_id, group=group)
    metrics = result.version.metrics or {}
    if parameters is not None and metrics.get("parameter_range"):
        result.beyond_range = range_offsets(parameters, metrics["parameter_range"])
        result.outside_training_range = bool(result.beyond_range)
    if metrics.get("nn_distance_p99") is not None:
        unfiltered = result.rows if not (filters and filters.selective) else _twins(
            latent=latent, k=1, filters=None, version=result.version, exclude_star_id=exclude_star_id).rows
        if unfiltered:
            result.nearest_distance = unfiltered[0].distance
            result.unlike_catalog = result.nearest_distance > float(metrics["nn_distance_p99"])
    return result


def _twins(*, latent: np.ndarray, k: int, filters: TwinFilters | None, version: ModelVersion | None,
           exclude_star_id: int | None, group: int | None = None) -> TwinResult:
    if not 1 <= int(k) <= MAX_K:
        raise TwinSearchError(f"k must be between 1 and {MAX_K}")
    version = _active_disentangler(version)
    filters = filters or TwinFilters()
    latent = np.asarray(latent, dtype=np.float32).reshape(-1)
    result = TwinResult(version=version, query_spectrum_id=None, query_latent=latent)
    if filters.survey and filters.survey != version.config.get("survey"):
        result.plan = "none"  # every latent of a version comes from its one survey
        return result
    # The version and k are written into the statement (both integers): a prepared statement's
    # generic plan must know them, or the planner guesses 10 % of the rows for LIMIT and sorts
    # the whole partition instead of walking the index.
    clauses, params = [f"e.model_version_id = {int(version.pk)}"], []
    for name in ("teff", "logg"):
        bounds = getattr(filters, name)
        if bounds:
            clauses.append(f"e.{name} BETWEEN %s AND %s")
            params += [float(bounds[0]), float(bounds[1])]
    if exclude_star_id is not None:  # the query star's own spectra
        clauses.append("e.spectrum_id NOT IN (SELECT id FROM catalog_spectrum WHERE star_id = %s)")
        params.append(int(exclude_star_id))
    if filters.exclude_same_group and group is not None:
        clauses.append('e.spectrum_id NOT IN (SELECT s.id FROM catalog_spectrum s JOIN catalog_star st '
                       'ON st.id = s.star_id WHERE st."group" = %s)')
        params.append(int(group))
    where = " AND ".join(clauses)
    vector = "[" + ",".join([f"{v:.7g}" for v in latent.tolist()]) + "]"  # Python floats format 2× faster
    plan = "hnsw"
    if filters.teff or filters.logg:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM catalog_embedding e WHERE {where} LIMIT %s) c",
                           [*params, settings.TWIN_EXACT_LIMIT + 1])
            plan = "exact" if cursor.fetchone()[0] <= settings.TWIN_EXACT_LIMIT else "hnsw-iterative"
    elif filters.exclude_same_group:
        plan = "hnsw-iterative"
    # "+ 0" hides the distance from the HNSW index: the exact plan reads the few filtered rows
    # through the (version, teff/logg) b-tree and sorts them.
    order = "(e.vector <-> %s::vector) + 0" if plan == "exact" else "e.vector <-> %s::vector"
    label_source = version.config.get("label_source", "grid")
    # One round trip: the neighbour search reads the version's partition only, and its k rows are
    # joined to their stars and labels in the same statement. Iterative scans walk on until k rows
    # pass the filter.
    statement = f"""SELECT n.spectrum_id, n.distance, st.id, st.designation, su.code, l.teff, l.logg, l.fe_h, l.alpha_fe,
                       st."group"
                FROM (SELECT e.spectrum_id, e.vector <-> %s::vector AS distance FROM catalog_embedding e
                      WHERE {where} ORDER BY {order} LIMIT {int(k)}) n
                JOIN catalog_spectrum s ON s.id = n.spectrum_id JOIN catalog_star st ON st.id = s.star_id
                JOIN catalog_survey su ON su.id = s.survey_id
                LEFT JOIN catalog_labels l ON l.star_id = s.star_id AND l.source = %s
                ORDER BY n.distance, n.spectrum_id"""
    # only the plain graph walk is prepared: a generic plan would guess a Teff or logg filter's bounds
    rows = _run_search(max(int(settings.TWIN_EF_SEARCH), int(k)), statement, [vector, *params, vector, label_source],
                       prepare=plan == "hnsw")
    result.plan = plan
    for spectrum_id, distance, star_id, designation, survey, teff, logg, fe_h, alpha_fe, star_group in rows:
        result.rows.append(Twin(spectrum_id=spectrum_id, star_id=star_id, designation=designation, distance=float(distance),
                                survey=survey, teff=teff, logg=logg, fe_h=fe_h, alpha_fe=alpha_fe, group=star_group))
    return result


def _run_search(ef_search: int, statement: str, params: list, prepare: bool) -> list[tuple]:
    """Run the twin statement (``%s`` placeholders) with HNSW's ``ef_search``, in one round trip.

    Plain: ``SET LOCAL`` the walk's settings, then the statement, in one string (one implicit
    transaction, so the settings end with it). Prepared (see :func:`_execute`): the walk's settings
    are given to the session, once per session and value, in the round trip that executes."""
    with connection.cursor() as cursor:
        if not (prepare and _preparing()):
            cursor.execute(f"SET LOCAL hnsw.ef_search = {ef_search}; SET LOCAL hnsw.iterative_scan = strict_order; "
                           + statement, params)
            return cursor.fetchall()
        return _execute(cursor, statement, params,
                        walk=f"SET hnsw.ef_search = {ef_search}; SET hnsw.iterative_scan = strict_order; ")


def _preparing() -> bool:
    """Whether statements are prepared here: ``DOPPEL_TWIN_PREPARED``, outside a caller's transaction."""
    return settings.TWIN_PREPARED and not connection.in_atomic_block


def _execute(cursor, statement: str, params: list, walk: str | None = None) -> list[tuple]:
    """The rows of ``statement`` (``%s`` placeholders), in one round trip.

    With ``DOPPEL_TWIN_PREPARED`` (and outside a caller's transaction: a failed EXECUTE would abort
    it) the statement is prepared once per database session with a generic plan (the planner's
    fraction of a millisecond is paid once, not per request) and executed by name; the first use
    sends PREPARE in the same round trip. ``walk`` (``SET`` statements) is given to the session
    when it differs from what the session was last told. A session that lost its statements and
    settings (a pooler that reassigns server sessions) is told everything again, once."""
    if not _preparing():
        cursor.execute(statement, params)
        return cursor.fetchall()
    name, numbered = _statement_name(statement)
    execute = f"EXECUTE {name}({', '.join(['%s'] * len(params))})"
    session = _session()
    told = "" if walk is None or session.walk == walk else walk
    prepared = "" if name in session.prepared else f"PREPARE {name} AS {numbered}; "
    generic = "SET plan_cache_mode = force_generic_plan; " if session.walk is None else ""
    try:
        cursor.execute(prepared + generic + told + execute, params)
    except DatabaseError as error:
        code = getattr(error.__cause__, "pgcode", None)
        if code not in (_UNKNOWN_STATEMENT, _DUPLICATE_STATEMENT):
            raise
        # the session and this process's record of it disagree: forget the record, tell it everything again
        session.prepared.clear()
        session.walk = ""  # the generic plan mode is sent again below; the walk's settings when given
        if code == _DUPLICATE_STATEMENT:
            cursor.execute(f"DEALLOCATE {name}")
        cursor.execute(f"PREPARE {name} AS {numbered}; SET plan_cache_mode = force_generic_plan; {walk or ''}{execute}",
                       params)
    session.prepared.add(name)
    if walk is not None:
        session.walk = walk
    elif session.walk is None:
        session.walk = ""
    return cursor.fetchall()


@dataclass
class _Session:
    """What this process has told one database session: its prepared statements, and the walk's
    settings (None: nothing yet; "": the generic plan mode only)."""

    key: tuple[int, int]  # (the connection object, its server process)
    prepared: set[str] = field(default_factory=set)
    walk: str | None = None


def _session() -> _Session:
    """The record of the current database session, kept on the thread's connection wrapper (one
    per thread, replaced when the wrapper opens another session: nothing accumulates)."""
    raw = connection.connection
    key = (id(raw), raw.info.backend_pid)
    record = getattr(connection, "_doppel_twin_session", None)
    if record is None or record.key != key:
        record = _Session(key)
        connection._doppel_twin_session = record
    return record


def _statement_name(statement: str) -> tuple[str, str]:
    """(name, text with $1, $2 … placeholders) of a twin statement, computed once per statement."""
    known = _STATEMENTS.get(statement)
    if known is None:
        placeholders = iter(range(1, statement.count("%s") + 1))
        known = ("doppel_twins_" + hashlib.md5(statement.encode()).hexdigest()[:16],
                 re.sub(r"%s", lambda _: f"${next(placeholders)}", statement))
        if len(_STATEMENTS) < 1000:  # one per version and k in use
            _STATEMENTS[statement] = known
    return known


_STATEMENTS: dict[str, tuple[str, str]] = {}
_UNKNOWN_STATEMENT, _DUPLICATE_STATEMENT = "26000", "42P05"


def nearest_neighbour_distances(*, version: ModelVersion, sample: int = 2000) -> np.ndarray:
    """Distances (n,) from up to ``sample`` of the version's latents (a fixed pseudo-random choice)
    to their nearest other latent of the version, through the version's index."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(settings.TWIN_EF_SEARCH)])
        cursor.execute(
            """SELECT (SELECT e2.vector <-> q.vector FROM catalog_embedding e2
                       WHERE e2.model_version_id = %s AND e2.spectrum_id <> q.spectrum_id
                       ORDER BY e2.vector <-> q.vector LIMIT 1)
               FROM (SELECT spectrum_id, vector FROM catalog_embedding WHERE model_version_id = %s
                     ORDER BY md5(spectrum_id::text) LIMIT %s) q""", [version.pk, version.pk, int(sample)])
        return np.array([row[0] for row in cursor.fetchall() if row[0] is not None], dtype=np.float64)
