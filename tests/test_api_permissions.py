"""Anonymous users read; only staff with catalog.change_modelversion start training runs."""
import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token

from catalog.models import ModelVersion
from tests.factories import TOY_TRAINING, toy_grid

pytestmark = pytest.mark.django_db

PAYLOAD = {"kind": "disentangler", "config": {"training": TOY_TRAINING}}


def test_anonymous_reads_but_cannot_write(client):
    assert client.get("/api/training-runs/").status_code == 200
    response = client.post("/api/training-runs/", PAYLOAD, content_type="application/json")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["status"] == response.status_code
    for url in ("/api/stars/", "/api/models/"):
        assert client.post(url, {}, content_type="application/json").status_code in (401, 403, 405)


def test_staff_without_permission_is_refused(client):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    token = Token.objects.create(user=user)
    response = client.post("/api/training-runs/", PAYLOAD, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403 and "change_modelversion" in response.json()["error"]["detail"]


def test_staff_with_permission_starts_a_run_by_token(client, django_capture_on_commit_callbacks):
    toy_grid(n_groups=1, per_group=4)
    user = User.objects.create_user("trainer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_modelversion"))
    token = client.post("/api/token/", {"username": "trainer", "password": "pw"}).json()["token"]
    response = client.post("/api/training-runs/", PAYLOAD, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 201
    version = ModelVersion.objects.get()
    assert response.json()["model_version"] == version.pk and version.created_by == user
    bad = client.post("/api/training-runs/", {"kind": "disentangler", "config": {"training": {"epoch": 1}}},
                      content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")
    assert bad.status_code == 400 and "training: unknown disentangler setting(s): epoch" in str(bad.json()["error"]["detail"])
    for training, reason in (({"latent_noise": 0.6}, "training: retired research setting(s): latent_noise"),
                             ({"decoder": "opacity"}, "training: decoder must be one of joint")):
        refused = client.post("/api/training-runs/", {"kind": "disentangler", "config": {"training": training}},
                              content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")
        assert refused.status_code == 400 and reason in str(refused.json()["error"]["detail"])
    assert ModelVersion.objects.count() == 1  # nothing was created for the refused configs
