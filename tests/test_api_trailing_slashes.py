"""Every documented API path ends in a slash; the two first published without one (/api/twins,
/api/token) still answer there, with the same view and the same login throttle, and stay out of
the schema."""
import pytest
import yaml
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_every_path_in_the_schema_ends_in_a_slash(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = list(schema["paths"])
    assert "/api/twins/" in paths and "/api/token/" in paths
    assert [path for path in paths if not path.endswith("/")] == []


def test_the_slash_less_addresses_still_answer(client):
    User.objects.create_user("ann", password="right-horse-battery")
    with_slash = client.post("/api/token/", {"username": "ann", "password": "right-horse-battery"})
    without = client.post("/api/token", {"username": "ann", "password": "right-horse-battery"})
    assert with_slash.status_code == without.status_code == 200 and without.json()["token"]
    assert client.post("/api/twins", {}).json() == client.post("/api/twins/", {}).json()
    assert client.post("/api/twins", {}).status_code == 400
