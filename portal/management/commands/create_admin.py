"""Create (or keep) the superuser 'admin'.

The password is ``$DOPPEL_ADMIN_PASSWORD`` when set, otherwise a random one that is printed once
and kept in ``$DOPPEL_VAR/admin_password`` (mode 600) so the demo can tell it again.
"""
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the superuser 'admin' if it does not exist, and print its password."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username: str, email: str, **options):
        password_file = settings.VAR_DIR / "admin_password"
        from_env = os.environ.get("DOPPEL_ADMIN_PASSWORD", "")
        users = get_user_model()
        user = users.objects.filter(username=username).first()
        if user is not None and not from_env:
            known = password_file.read_text().strip() if password_file.exists() else "(unchanged; set DOPPEL_ADMIN_PASSWORD to reset)"
            self.stdout.write(f"Admin user '{username}' exists. Password: {known}")
            return
        password = from_env or secrets.token_urlsafe(12)
        if user is None:
            users.objects.create_superuser(username=username, email=email, password=password)
            action = "Created"
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
            action = "Updated"
        if not from_env:
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        shown = "(from DOPPEL_ADMIN_PASSWORD)" if from_env else password
        self.stdout.write(self.style.SUCCESS(f"{action} admin user '{username}'. Password: {shown}"))
