"""Label catalogues (CSV, FITS tables, CDS/VizieR fixed-width tables with their ReadMe), mapped to
Labels and BHBLabel rows through a declarative column mapping.

A mapping says how rows find their star and which columns hold what. Column names match without
regard to case, and a column may be given as a list of alternatives (the first present wins), so
one mapping serves a VizieR table and its CSV export alike::

    {"name": "xue2011",                                  # Labels.source / BHBLabel.catalogue
     "match": {"sdss": ["plate", "mjd", "fiber"]},       # or {"designation": col}, {"apogee_id": col},
                                                         #    {"gaia_source_id": col}
     "coordinates": {"ra": ["ra", "RAdeg"], "dec": ["dec", "DEdeg"]},   # optional: create missing stars
     "labels": {"teff": "TEFF", "teff_err": "TEFF_ERR", "logg": ..., "fe_h": ..., "alpha_fe": ...},
     "abundances": {"Mg_Fe": "MG_FE"} or "*_Fe",         # every column ending in _Fe
     "bhb": true | false | "column",                     # a BHB classification, constant or per row
     "exclude": {"in_xue2011_bhb": 1}}                   # rows to leave out

Mappings are given as a preset name (``PRESETS``) or a YAML/JSON file.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table

from catalog.ingest.records import BadInput, BHBLabelRecord, LabelRecord, StarIdentity, sdss_designation

LABEL_FIELDS = ("teff", "teff_err", "logg", "logg_err", "fe_h", "fe_h_err", "alpha_fe", "alpha_fe_err")
MATCH_KINDS = ("designation", "apogee_id", "gaia_source_id", "sdss")
# The values a label may take (inclusive; units K, dex, dex): a row outside them is a unit or column
# mix-up, and the whole file is refused. Uncertainties (*_err) must be >= 0.
BOUNDS = {"teff": (2_000.0, 50_000.0, "K"), "logg": (-1.0, 6.0, "dex"), "abundance": (-5.0, 2.0, "dex")}
MISSING = ("", "nan", "--", "null", "none")  # cells read as "no value"
MAX_REPORTED = 20  # bad cells listed in the refusal (the count is always given)


@dataclass
class CatalogueMapping:
    name: str
    match: dict
    format: str = "auto"
    readme: str | None = None
    coordinates: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    abundances: dict | str = field(default_factory=dict)
    bhb: bool | str | None = None
    exclude: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.name:
            raise BadInput("mapping needs a 'name' (the catalogue or label source)")
        if len(self.match) != 1 or next(iter(self.match)) not in MATCH_KINDS:
            raise BadInput(f"mapping 'match' must have exactly one of {', '.join(MATCH_KINDS)}")
        unknown = set(self.labels) - set(LABEL_FIELDS)
        if unknown:
            raise BadInput(f"unknown label field(s) {', '.join(sorted(unknown))}; known: {', '.join(LABEL_FIELDS)}")
        if not self.labels and not self.abundances and self.bhb is None:
            raise BadInput("mapping maps nothing: give 'labels', 'abundances' or 'bhb'")

    @classmethod
    def from_dict(cls, data: dict) -> "CatalogueMapping":
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise BadInput(f"unknown mapping key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
        return cls(**data)


PRESETS = {
    # Xue et al. 2011, ApJ 738, 79 (J/ApJ/738/79): 4985 SDSS DR8 BHB stars.
    "xue2011": {"name": "xue2011", "match": {"sdss": ["plate", "mjd", "fiber"]},
                "coordinates": {"ra": ["ra", "RAdeg"], "dec": ["dec", "DEdeg"]}, "bhb": True},
    # Xue et al. 2008 field blue stragglers (non-BHB A stars), less the 45 that Xue 2011 calls BHB.
    "xue2008_bs": {"name": "xue2008_bs", "match": {"sdss": ["plate", "mjd", "fiber"]},
                   "coordinates": {"ra": "ra", "dec": "dec"}, "bhb": False, "exclude": {"in_xue2011_bhb": 1}},
    # The labels CSV that `generate_grid` writes next to its files.
    "grid": {"name": "grid", "match": {"designation": "designation"},
             "labels": {"teff": "teff", "logg": "logg", "fe_h": "fe_h", "alpha_fe": "alpha_fe"},
             "abundances": "*_Fe"},
    # The truth CSV that `generate_bhb` writes (synthetic sample, known classes).
    "bhb_truth": {"name": "synthetic", "match": {"sdss": ["plate", "mjd", "fiber"]},
                  "coordinates": {"ra": "ra", "dec": "dec"}, "bhb": "is_bhb"},
}


def load_mapping(spec: str | dict) -> CatalogueMapping:
    """A preset name, a path to a YAML/JSON mapping, or a dict."""
    if isinstance(spec, dict):
        return CatalogueMapping.from_dict(spec)
    if spec in PRESETS:
        return CatalogueMapping.from_dict(PRESETS[spec])
    path = Path(spec)
    if not path.exists():
        raise BadInput(f"mapping {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    try:
        data = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise BadInput(f"mapping file {path.name} does not parse ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BadInput(f"mapping file {path.name} must hold a mapping (key: value)")
    return CatalogueMapping.from_dict(data)


def read_table(path: str | Path, table_format: str = "auto", readme: str | None = None) -> Table:
    path = Path(path)
    if not path.exists():
        raise BadInput("no such file")
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    name = path.name.lower()
    if table_format == "auto":
        if name.endswith((".fits", ".fit", ".fits.gz")):
            table_format = "fits"
        elif name.endswith(".csv"):
            table_format = "csv"
        elif name.endswith(".dat") or readme:
            table_format = "cds"
        else:
            raise BadInput("cannot tell the table format from the name; give format csv, fits or cds")
    kwargs = {}
    if table_format == "cds":
        readme_path = Path(readme) if readme else next(iter(sorted(path.parent.glob("ReadMe*"))), None)
        if readme_path is None or not readme_path.exists():
            raise BadInput("a CDS table needs its ReadMe (none found beside it; pass --readme)")
        kwargs["readme"] = str(readme_path)
    astropy_format = {"csv": "ascii.csv", "fits": "fits", "cds": "ascii.cds"}.get(table_format)
    if astropy_format is None:
        raise BadInput(f"unknown table format {table_format!r}; use csv, fits or cds")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = Table.read(path, format=astropy_format, **kwargs)
    except Exception as error:  # astropy raises many types for malformed tables
        raise BadInput(f"cannot read the {table_format} table ({str(error).splitlines()[0][:140]})") from None
    if len(table) == 0:
        raise BadInput("the table has no rows")
    return table


class _Columns:
    def __init__(self, table: Table):
        self.table = table
        self.lookup = {name.lower(): name for name in table.colnames}

    def resolve(self, spec, what: str) -> str:
        candidates = [spec] if isinstance(spec, str) else list(spec)
        for candidate in candidates:
            if str(candidate).lower() in self.lookup:
                return self.lookup[str(candidate).lower()]
        raise BadInput(f"{what}: column {' / '.join(map(str, candidates))} not in the catalogue "
                       f"(columns: {', '.join(self.table.colnames[:40])})")

    def values(self, spec, what: str) -> np.ndarray:
        column = self.table[self.resolve(spec, what)]
        return np.ma.filled(np.ma.asarray(column), np.nan) if column.dtype.kind == "f" else np.asarray(column)

    def cells(self, spec, what: str) -> list:
        """The column's cells as read (numbers or text), None where masked."""
        column = self.table[self.resolve(spec, what)]
        mask = np.ma.getmaskarray(np.ma.asarray(column))
        return [None if masked else value for value, masked in zip(np.asarray(column).tolist(), mask)]


def _bounds(name: str) -> tuple[float, float, str]:
    """(low, high, unit) a label may take: BOUNDS by name, any abundance, or an uncertainty ≥ 0."""
    if name.endswith("_err"):
        return (0.0, float("inf"), "")
    return BOUNDS.get(name, BOUNDS["abundance"])


def _label(value, name: str) -> tuple[float | None, str | None]:
    """A cell as a number (None when empty) and, when it is not a valid ``name``, the reason."""
    if value is None or str(value).strip().lower() in MISSING:
        return None, None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{name} {str(value).strip()[:30]!r} is not a number"
    if np.isnan(number):
        return None, None
    low, high, unit = _bounds(name)
    if not low <= number <= high:
        if name.endswith("_err"):
            return None, f"{name} {number:g} is negative (uncertainties are >= 0)"
        return None, f"{name} {number:g} is outside {low:g} to {high:g} {unit}"
    return number, None


def _float_or_none(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def read_catalogue(path: str | Path, mapping: CatalogueMapping) -> list[LabelRecord | BHBLabelRecord]:
    """Rows of the catalogue as records, in file order. Bad mappings raise :class:`BadInput`."""
    table = read_table(path, mapping.format, mapping.readme)
    columns = _Columns(table)
    keep = np.ones(len(table), dtype=bool)
    for column, value in mapping.exclude.items():
        keep &= columns.values(column, "exclude") != value
    kind, spec = next(iter(mapping.match.items()))
    if kind == "sdss":
        if len(spec) != 3:
            raise BadInput("match 'sdss' needs three columns: plate, mjd, fiber")
        plate, mjd, fiber = (columns.values(column, "match sdss").astype(int) for column in spec)
    else:
        keys = columns.values(spec, f"match {kind}")
    ra = columns.values(mapping.coordinates["ra"], "coordinates ra") if mapping.coordinates else None
    dec = columns.values(mapping.coordinates["dec"], "coordinates dec") if mapping.coordinates else None
    label_values = {name: columns.cells(column, f"labels {name}") for name, column in mapping.labels.items()}
    if mapping.abundances == "*_Fe":
        abundance_columns = {name: name for name in table.colnames if name.endswith("_Fe") and name.lower() != "alpha_fe"}
    else:
        abundance_columns = dict(mapping.abundances or {})
    abundance_values = {name: columns.cells(column, f"abundances {name}") for name, column in abundance_columns.items()}
    bhb_values = None
    if isinstance(mapping.bhb, str):
        raw = columns.values(mapping.bhb, "bhb")
        bhb_values = np.array([str(v).strip().lower() in ("1", "true", "yes", "t", "bhb") for v in raw])
    records: list[LabelRecord | BHBLabelRecord] = []
    problems: list[str] = []
    first_line = 2 if mapping.format == "csv" or str(path).lower().endswith(".csv") else None  # header on line 1
    for row in np.flatnonzero(keep):
        where = f"line {row + first_line}" if first_line else f"row {row + 1}"
        values, abundances = {}, {}
        for target, source in ((values, label_values), (abundances, abundance_values)):
            for name, cells in source.items():
                number, problem = _label(cells[row], name)
                if problem:
                    problems.append(f"{where}: {problem}")
                elif number is not None or target is values:
                    target[name] = number
        if kind == "sdss":
            star = StarIdentity(designation=sdss_designation(plate[row], mjd[row], fiber[row]),
                                sdss_plate=int(plate[row]), sdss_mjd=int(mjd[row]), sdss_fiber=int(fiber[row]))
        elif kind == "gaia_source_id":
            star = StarIdentity(designation=f"Gaia DR3 {int(keys[row])}", gaia_source_id=int(keys[row]))
        elif kind == "apogee_id":
            star = StarIdentity(designation=str(keys[row]).strip(), apogee_id=str(keys[row]).strip())
        else:
            star = StarIdentity(designation=str(keys[row]).strip())
        if ra is not None:
            star.ra, star.dec = _float_or_none(ra[row]), _float_or_none(dec[row])
        if mapping.labels or abundance_values:
            records.append(LabelRecord(star=star, source=mapping.name, values=values, abundances=abundances))
        if mapping.bhb is not None:
            is_bhb = bool(bhb_values[row]) if bhb_values is not None else bool(mapping.bhb)
            records.append(BHBLabelRecord(star=star, is_bhb=is_bhb, catalogue=mapping.name))
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED])
        more = f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise BadInput(f"{len(problems)} bad value(s); nothing was imported:\n  {shown}{more}")
    return records


def write_labels_csv(path: str | Path, columns: dict[str, np.ndarray | list]) -> Path:
    """Write a label catalogue as CSV (used by the generators)."""
    path = Path(path)
    Table(columns).write(path, format="ascii.csv", overwrite=True)
    return path
