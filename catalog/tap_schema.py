"""What TAP serves: the tables of the ``doppel`` schema (views over the catalog, created by migration
0008) with their columns' types, units and UCDs. ``TAP_SCHEMA`` and VOSI ``/tap/tables`` are both
written from this one description.

Each column: (name, ADQL datatype, unit, UCD, description); ``principal`` columns are what a client
shows first, ``indexed`` ones are cheap to filter on.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    datatype: str  # ADQL/VOTable: BIGINT, INTEGER, DOUBLE, REAL, BOOLEAN, VARCHAR
    unit: str = ""
    ucd: str = ""
    description: str = ""
    principal: bool = False
    indexed: bool = False


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified, as in ADQL
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _parameters(prefix: str = "") -> tuple[Column, ...]:
    return (
        Column("teff", "DOUBLE", "K", "phys.temperature.effective", f"{prefix}effective temperature", True),
        Column("logg", "DOUBLE", "log(cm.s**-2)", "phys.gravity", f"{prefix}surface gravity, log10 cgs", True),
        Column("fe_h", "DOUBLE", "dex", "phys.abund.Fe", f"{prefix}[Fe/H]", True),
        Column("alpha_fe", "DOUBLE", "dex", "phys.abund", f"{prefix}[alpha/Fe]"),
    )


# the Teff and logg a latent was encoded at (the disentangler's conditional parameters)
ENCODED_AT = (Column("teff", "DOUBLE", "K", "phys.temperature.effective", "Teff the spectrum was encoded at", True),
              Column("logg", "DOUBLE", "log(cm.s**-2)", "phys.gravity", "logg the spectrum was encoded at", True))
STAR_ID = Column("star_id", "BIGINT", "", "meta.id;meta.main", "Doppel star id", True, True)
SPECTRUM_ID = Column("spectrum_id", "BIGINT", "", "meta.id", "Doppel spectrum id", True, True)

TABLES = (
    Table("doppel.stars", "Every star: position, survey identifiers, the preferred labels (ASPCAP, then grid, then "
          "synthetic) and the active BATMM's P(BHB).", (
              STAR_ID,
              Column("designation", "VARCHAR", "", "meta.id", "designation (APOGEE id, SDSS J name or generator name)", True, True),
              Column("ra", "DOUBLE", "deg", "pos.eq.ra;meta.main", "right ascension, ICRS", True, True),
              Column("dec", "DOUBLE", "deg", "pos.eq.dec;meta.main", "declination, ICRS", True, True),
              Column("apogee_id", "VARCHAR", "", "meta.id.cross", "APOGEE identifier"),
              Column("gaia_source_id", "BIGINT", "", "meta.id.cross", "Gaia DR3 source_id", indexed=True),
              Column("sdss_plate", "INTEGER", "", "meta.id.part", "SDSS plate"),
              Column("sdss_mjd", "INTEGER", "d", "time.epoch", "SDSS MJD of the plate"),
              Column("sdss_fiber", "INTEGER", "", "meta.id.part", "SDSS fiber"),
              *_parameters(),
              Column("bhb_score", "DOUBLE", "", "stat.probability", "calibrated P(BHB) from the active BATMM", True),
          )),
    Table("doppel.labels", "Stellar labels, one row per star and label source.", (
        STAR_ID,
        Column("source", "VARCHAR", "", "meta.ref", "label source: aspcap, grid, synthetic, a catalogue", True),
        Column("teff", "DOUBLE", "K", "phys.temperature.effective", "effective temperature", True),
        Column("teff_err", "DOUBLE", "K", "stat.error;phys.temperature.effective", "its 1-sigma error"),
        Column("logg", "DOUBLE", "log(cm.s**-2)", "phys.gravity", "surface gravity", True),
        Column("logg_err", "DOUBLE", "log(cm.s**-2)", "stat.error;phys.gravity", "its 1-sigma error"),
        Column("fe_h", "DOUBLE", "dex", "phys.abund.Fe", "[Fe/H]", True),
        Column("fe_h_err", "DOUBLE", "dex", "stat.error;phys.abund.Fe", "its 1-sigma error"),
        Column("alpha_fe", "DOUBLE", "dex", "phys.abund", "[alpha/Fe]"),
        Column("alpha_fe_err", "DOUBLE", "dex", "stat.error;phys.abund", "its 1-sigma error"),
    )),
    Table("doppel.spectra", "Spectra held by the catalog (metadata; the fluxes are at /api/stars/{star_id}/spectrum/).", (
        SPECTRUM_ID, STAR_ID,
        Column("survey", "VARCHAR", "", "meta.id;instr", "apogee, gaia_rvs or sdss", True),
        Column("snr", "DOUBLE", "", "stat.snr", "median S/N per pixel", True),
        Column("source_file", "VARCHAR", "", "meta.file", "file the spectrum was ingested from"),
    )),
    Table("doppel.bhb_scores", "P(BHB) of every star with an SDSS spectrum and a cutout, from the active BATMM.", (
        STAR_ID,
        Column("model_version", "INTEGER", "", "meta.version", "BATMM model version", True),
        Column("score", "DOUBLE", "", "stat.probability", "calibrated P(BHB)", True, True),
    )),
    Table("doppel.balmer_lines", "Balmer-line measurements of SDSS spectra (Xue et al. 2008 Sersic fits).", (
        SPECTRUM_ID, STAR_ID,
        Column("d02", "DOUBLE", "Angstrom", "spect.line.width", "H delta full width at 20 % below the continuum", True),
        Column("fm", "DOUBLE", "", "spect.line.intensity", "H delta core flux relative to the continuum", True),
        Column("c", "DOUBLE", "", "stat.fit.param", "H gamma Sersic shape c", True),
        Column("b", "DOUBLE", "Angstrom", "stat.fit.param", "H gamma Sersic scale width b", True),
        Column("converged", "BOOLEAN", "", "meta.code.qual", "both fits converged"),
        Column("xue_bhb", "BOOLEAN", "", "meta.code.class", "passes the Xue et al. 2011 BHB cuts", True),
    )),
    Table("doppel.peculiarity", "How peculiar each spectrum is under the active disentangler: how isolated what its "
          "decoder cannot explain (the residual flux - D(z, Teff, logg)) is, as the mean distance to the 20 nearest "
          "residuals over the neighbours' own (1 ordinary, larger more isolated).", (
              SPECTRUM_ID, STAR_ID,
              Column("model_version", "INTEGER", "", "meta.version", "disentangler model version", True),
              Column("score", "DOUBLE", "", "stat.value", "peculiarity score", True, True),
              Column("spread", "DOUBLE", "", "stat.value", "mean distance to the 20 nearest decoder residuals (basis units)"),
              *ENCODED_AT,
          )),
    Table("doppel.chemical_groups", "Chemical groups of the active disentangler: HDBSCAN of its latents; stars in no "
          "dense region are not listed.", (
              SPECTRUM_ID, STAR_ID,
              Column("model_version", "INTEGER", "", "meta.version", "disentangler model version", True),
              Column("group_id", "INTEGER", "", "meta.id;meta.dataset", "group number, 0 the largest", True, True),
              Column("probability", "DOUBLE", "", "stat.probability", "membership strength (HDBSCAN)", True),
              *ENCODED_AT,
          )),
    Table("doppel.latents", "The active disentangler's latent z (25 values) of each spectrum, with the Teff and "
          "logg it was encoded at; nearest neighbours in z are chemical twins.", (
              SPECTRUM_ID, STAR_ID,
              Column("model_version", "INTEGER", "", "meta.version", "disentangler model version", True),
              *ENCODED_AT,
              *(Column(f"z_{k:02d}", "REAL", "", "src.var", f"latent component {k}", True) for k in range(1, 26)),
          )),
)


# Queries the VO page (/tap/) offers to start from: (what it finds, ADQL). Each runs on any catalog.
EXAMPLES = (
    ("Stars within 0.5° of a position, with their labels",
     "SELECT TOP 100 designation, ra, dec, teff, logg, fe_h FROM doppel.stars\n"
     "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 150.0, 2.2, 0.5))"),
    ("Giants, the most metal-poor first",
     "SELECT TOP 100 designation, teff, logg, fe_h, alpha_fe FROM doppel.stars\n"
     "WHERE logg < 3.0 AND fe_h IS NOT NULL ORDER BY fe_h"),
    ("The best BHB candidates and their Balmer lines",
     "SELECT TOP 50 s.designation, b.score, l.d02, l.fm, l.c, l.b, l.xue_bhb\n"
     "FROM doppel.bhb_scores AS b JOIN doppel.stars AS s ON s.star_id = b.star_id\n"
     "LEFT JOIN doppel.balmer_lines AS l ON l.star_id = b.star_id ORDER BY b.score DESC"),
    ("Chemical groups: how many stars, over what Teff and logg",
     "SELECT group_id, COUNT(*) AS stars, MIN(teff) AS teff_min, MAX(teff) AS teff_max,\n"
     "       MIN(logg) AS logg_min, MAX(logg) AS logg_max\n"
     "FROM doppel.chemical_groups GROUP BY group_id ORDER BY group_id"),
    ("The most peculiar spectra",
     "SELECT TOP 50 s.designation, p.score, p.teff, p.logg FROM doppel.peculiarity AS p\n"
     "JOIN doppel.stars AS s ON s.star_id = p.star_id ORDER BY p.score DESC"),
    ("Spectra by survey",
     "SELECT survey, COUNT(*) AS spectra, AVG(snr) AS mean_snr FROM doppel.spectra GROUP BY survey"),
    ("Every column, with its unit and UCD",
     "SELECT table_name, column_name, unit, ucd, description FROM TAP_SCHEMA.columns\n"
     "WHERE table_name LIKE 'doppel.%'"),
)


def table(name: str) -> Table | None:
    """The table of that ADQL name (case-insensitive, ``doppel.`` optional)."""
    wanted = name.lower() if "." in name else f"doppel.{name.lower()}"
    return next((t for t in TABLES if t.name == wanted), None)
