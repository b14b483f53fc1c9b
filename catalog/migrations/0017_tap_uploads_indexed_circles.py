import django.db.models.functions.math
from django.db import migrations, models

# The ADQL geometry queryparser writes, on the sphere in radians (migration 0008 began it), as SQL
# functions the planner inlines. Each test of "within r of" first asks that either point's
# latitude lie within r of the other's: a band of radians(dec) that the index answers, whichever
# side the catalog is on. So a cone, DISTANCE(...) < r, and a crossmatch of an uploaded list
# (TAP_UPLOAD) joined on CONTAINS or DISTANCE look up a band of stars instead of computing a
# distance to every star. Added: DISTANCE in WHERE (spoint_dwithin), INTERSECTS (&&) and
# CONTAINS(CIRCLE, CIRCLE).
GEOMETRY = """
CREATE FUNCTION doppel.spoint_dwithin(doppel.spoint, doppel.spoint, double precision) RETURNS boolean
    AS $$ SELECT ($1).lat BETWEEN ($2).lat - $3 AND ($2).lat + $3 AND ($2).lat BETWEEN ($1).lat - $3 AND ($1).lat + $3
                 AND doppel.spoint_distance($1, $2) <= $3 $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION doppel.spoint_in_scircle(doppel.spoint, doppel.scircle) RETURNS boolean
    AS $$ SELECT doppel.spoint_dwithin($1, ($2).center, ($2).radius) $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION doppel.scircle_holds_spoint(doppel.scircle, doppel.spoint) RETURNS boolean
    AS $$ SELECT doppel.spoint_dwithin($2, ($1).center, ($1).radius) $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION doppel.scircle_overlaps(doppel.scircle, doppel.scircle) RETURNS boolean
    AS $$ SELECT doppel.spoint_dwithin(($1).center, ($2).center, ($1).radius + ($2).radius) $$
    LANGUAGE sql IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION doppel.scircle_in_scircle(doppel.scircle, doppel.scircle) RETURNS boolean
    AS $$ SELECT doppel.spoint_dwithin(($1).center, ($2).center, ($2).radius - ($1).radius) $$
    LANGUAGE sql IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR doppel.&& (LEFTARG = doppel.spoint, RIGHTARG = doppel.scircle, FUNCTION = doppel.spoint_in_scircle,
                           COMMUTATOR = OPERATOR(doppel.&&));
CREATE OPERATOR doppel.&& (LEFTARG = doppel.scircle, RIGHTARG = doppel.spoint, FUNCTION = doppel.scircle_holds_spoint,
                           COMMUTATOR = OPERATOR(doppel.&&));
CREATE OPERATOR doppel.&& (LEFTARG = doppel.scircle, RIGHTARG = doppel.scircle, FUNCTION = doppel.scircle_overlaps,
                           COMMUTATOR = OPERATOR(doppel.&&));
CREATE OPERATOR doppel.@ (LEFTARG = doppel.scircle, RIGHTARG = doppel.scircle, FUNCTION = doppel.scircle_in_scircle);
"""
GEOMETRY_BEFORE = """
DROP OPERATOR doppel.@ (doppel.scircle, doppel.scircle);
DROP OPERATOR doppel.&& (doppel.scircle, doppel.scircle);
DROP OPERATOR doppel.&& (doppel.scircle, doppel.spoint);
DROP OPERATOR doppel.&& (doppel.spoint, doppel.scircle);
DROP FUNCTION doppel.scircle_in_scircle(doppel.scircle, doppel.scircle);
DROP FUNCTION doppel.scircle_overlaps(doppel.scircle, doppel.scircle);
DROP FUNCTION doppel.scircle_holds_spoint(doppel.scircle, doppel.spoint);
CREATE OR REPLACE FUNCTION doppel.spoint_in_scircle(doppel.spoint, doppel.scircle) RETURNS boolean
    AS $$ SELECT doppel.spoint_distance($1, ($2).center) <= ($2).radius $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
DROP FUNCTION doppel.spoint_dwithin(doppel.spoint, doppel.spoint, double precision);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0016_spectrum_error_uniform'),
    ]

    operations = [
        migrations.AddField(
            model_name='tapjob',
            name='uploads',
            field=models.JSONField(blank=True, default=list, help_text='tables sent with the query (TAP_UPLOAD): [{"name", "columns": [[name, type]], "rows"}]'),
        ),
        migrations.AddIndex(
            model_name='star',
            index=models.Index(django.db.models.functions.math.Radians('dec'), name='star_dec_radians'),
        ),
        migrations.RunSQL(GEOMETRY, GEOMETRY_BEFORE),
    ]
