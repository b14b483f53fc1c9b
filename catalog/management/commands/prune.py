"""manage.py prune — apply retention now: old versions' outputs and the snapshot cache's size.

The retrain chain does this after every activation; run it by hand after lowering
DOPPEL_KEEP_ARCHIVED or DOPPEL_SNAPSHOT_CACHE_BYTES.
"""
from django.conf import settings
from django.core.management.base import BaseCommand

from catalog import services


class Command(BaseCommand):
    help = "Drop outputs of versions past retention (DOPPEL_KEEP_ARCHIVED) and trim the snapshot cache."

    def handle(self, *args, **options):
        report = services.versions_prune(keep_archived=settings.KEEP_ARCHIVED, artifact_root=settings.ARTIFACT_ROOT)
        evicted = services.snapshots_prune(cache_root=settings.ARTIFACT_ROOT, max_bytes=settings.SNAPSHOT_CACHE_BYTES)
        self.stdout.write(f"pruned {len(report.pruned)} version(s) ({', '.join(f'v{pk}' for pk in report.pruned) or 'none'}; "
                          f"{report.rows_deleted} output rows); evicted {len(evicted)} training snapshot(s); removed "
                          f"{report.copies_removed} local artifact copies")
