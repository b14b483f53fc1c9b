"""Each star carries its preferred labels (Teff, logg, [Fe/H], [α/Fe]) as indexed columns, copied
from ``catalog_labels`` by statement-level triggers on every insert, update and delete there
(``COPY`` included), so that a search filters and sorts on them instead of running a subquery per
star. The preference is ``catalog.selectors.stars.LABEL_PREFERENCE``: aspcap, grid, synthetic, then
any other source by name. Existing stars are filled once, and the TAP view ``doppel.stars`` reads
the columns.
"""
from django.db import migrations, models


REFRESH_SQL = """
CREATE FUNCTION catalog_star_parameters_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE catalog_star st SET teff = p.teff, logg = p.logg, fe_h = p.fe_h, alpha_fe = p.alpha_fe
    FROM (SELECT s.id, l.teff, l.logg, l.fe_h, l.alpha_fe
          FROM unnest(ids) AS s(id)
          LEFT JOIN LATERAL (SELECT teff, logg, fe_h, alpha_fe FROM catalog_labels WHERE star_id = s.id
                             ORDER BY CASE source WHEN 'aspcap' THEN 0 WHEN 'grid' THEN 1 WHEN 'synthetic' THEN 2
                                      ELSE 3 END, source
                             LIMIT 1) l ON true) p
    WHERE st.id = p.id
      AND (st.teff, st.logg, st.fe_h, st.alpha_fe) IS DISTINCT FROM (p.teff, p.logg, p.fe_h, p.alpha_fe);
$$;
CREATE FUNCTION catalog_labels_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_star_parameters_refresh(ARRAY(SELECT DISTINCT star_id FROM new_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION catalog_labels_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_star_parameters_refresh(ARRAY(SELECT star_id FROM new_rows UNION SELECT star_id FROM old_rows));
    RETURN NULL;
END $$;
CREATE FUNCTION catalog_labels_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_star_parameters_refresh(ARRAY(SELECT DISTINCT star_id FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER labels_inserted AFTER INSERT ON catalog_labels REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_labels_inserted();
CREATE TRIGGER labels_updated AFTER UPDATE ON catalog_labels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_labels_updated();
CREATE TRIGGER labels_deleted AFTER DELETE ON catalog_labels REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_labels_deleted();
SELECT catalog_star_parameters_refresh(ARRAY(SELECT DISTINCT star_id FROM catalog_labels));
CREATE OR REPLACE VIEW doppel.stars AS
SELECT st.id AS star_id, st.designation, st.ra, st.dec, NULLIF(st.apogee_id, '') AS apogee_id, st.gaia_source_id,
       st.sdss_plate, st.sdss_mjd, st.sdss_fiber, st.teff, st.logg, st.fe_h, st.alpha_fe, b.score AS bhb_score
FROM catalog_star st
LEFT JOIN catalog_bhbscore b ON b.star_id = st.id AND b.model_version_id =
    (SELECT id FROM catalog_modelversion WHERE kind = 'bhb' AND state = 'active' LIMIT 1);
"""

REFRESH_REVERSE_SQL = """
CREATE OR REPLACE VIEW doppel.stars AS
SELECT st.id AS star_id, st.designation, st.ra, st.dec, NULLIF(st.apogee_id, '') AS apogee_id, st.gaia_source_id,
       st.sdss_plate, st.sdss_mjd, st.sdss_fiber, l.teff, l.logg, l.fe_h, l.alpha_fe, b.score AS bhb_score
FROM catalog_star st
LEFT JOIN LATERAL (SELECT teff, logg, fe_h, alpha_fe FROM catalog_labels WHERE star_id = st.id
                   ORDER BY CASE source WHEN 'aspcap' THEN 0 WHEN 'grid' THEN 1 WHEN 'synthetic' THEN 2 ELSE 3 END, source
                   LIMIT 1) l ON true
LEFT JOIN catalog_bhbscore b ON b.star_id = st.id AND b.model_version_id =
    (SELECT id FROM catalog_modelversion WHERE kind = 'bhb' AND state = 'active' LIMIT 1);
DROP TRIGGER IF EXISTS labels_inserted ON catalog_labels;
DROP TRIGGER IF EXISTS labels_updated ON catalog_labels;
DROP TRIGGER IF EXISTS labels_deleted ON catalog_labels;
DROP FUNCTION IF EXISTS catalog_labels_inserted();
DROP FUNCTION IF EXISTS catalog_labels_updated();
DROP FUNCTION IF EXISTS catalog_labels_deleted();
DROP FUNCTION IF EXISTS catalog_star_parameters_refresh(bigint[]);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0013_score_partitions'),
    ]

    operations = [
        migrations.AddField(
            model_name='star',
            name='alpha_fe',
            field=models.FloatField(blank=True, editable=False, help_text='dex, preferred label source', null=True),
        ),
        migrations.AddField(
            model_name='star',
            name='fe_h',
            field=models.FloatField(blank=True, editable=False, help_text='dex, preferred label source', null=True),
        ),
        migrations.AddField(
            model_name='star',
            name='logg',
            field=models.FloatField(blank=True, editable=False, help_text='dex, preferred label source', null=True),
        ),
        migrations.AddField(
            model_name='star',
            name='teff',
            field=models.FloatField(blank=True, editable=False, help_text='K, preferred label source', null=True),
        ),
        migrations.AddIndex(
            model_name='star',
            index=models.Index(fields=['teff'], name='star_teff'),
        ),
        migrations.AddIndex(
            model_name='star',
            index=models.Index(fields=['logg'], name='star_logg'),
        ),
        migrations.AddIndex(
            model_name='star',
            index=models.Index(fields=['fe_h'], name='star_fe_h'),
        ),
        migrations.RunSQL(REFRESH_SQL, REFRESH_REVERSE_SQL),
    ]
