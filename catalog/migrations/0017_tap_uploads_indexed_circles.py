import django.db.models.functions.math
from django.db import migrations, models

# ADQL's CONTAINS(POINT, CIRCLE) becomes spoint @ scircle (migration 0008), a SQL function the planner
# inlines. Its first condition, the point's latitude within the circle's band, is what an index on
# radians(dec) answers: a cone, or a crossmatch of an uploaded list (TAP_UPLOAD) joined on CONTAINS,
# looks up that band instead of computing a distance to every star.
IN_CIRCLE_BY_BAND = """
CREATE OR REPLACE FUNCTION doppel.spoint_in_scircle(doppel.spoint, doppel.scircle) RETURNS boolean
    AS $$ SELECT ($1).lat BETWEEN (($2).center).lat - ($2).radius AND (($2).center).lat + ($2).radius
                 AND doppel.spoint_distance($1, ($2).center) <= ($2).radius $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
"""
IN_CIRCLE = """
CREATE OR REPLACE FUNCTION doppel.spoint_in_scircle(doppel.spoint, doppel.scircle) RETURNS boolean
    AS $$ SELECT doppel.spoint_distance($1, ($2).center) <= ($2).radius $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
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
        migrations.RunSQL(IN_CIRCLE_BY_BAND, IN_CIRCLE),
    ]
