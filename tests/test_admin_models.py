"""The model registry admin: the start form validates configs, the change page shows progress and
loss curves, and only users with catalog.change_modelversion can act."""
import pytest
from django.contrib.auth.models import Permission, User

from catalog import services
from catalog.models import ModelVersion
from tests.factories import EmbeddingFactory, LabelsFactory, ModelVersionFactory, SpectrumFactory, TrainingRunFactory, toy_grid

pytestmark = pytest.mark.django_db

URL = "/admin/catalog/modelversion/"
CONFIG = {"survey": "apogee", "label_source": "grid", "conditional": ["teff", "logg"]}


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def _staff(client, *perms):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    client.force_login(user)
    return client


def _ready_version():
    spectrum = SpectrumFactory()
    LabelsFactory(star=spectrum.star)
    version = ModelVersionFactory(state=ModelVersion.State.READY, config=CONFIG)
    EmbeddingFactory(model_version=version, spectrum=spectrum)
    services.embedding_index_build(version=version)
    return version


def test_change_page_shows_progress_metrics_and_loss_curves(admin_client):
    version = ModelVersionFactory(metrics={"twin_recall_at_10": 0.42, "r2_latent": {"teff": 0.1}}, config=CONFIG)
    TrainingRunFactory(model_version=version, state="running", epoch=2, progress=0.2, loss_history=[
        {"epoch": 1, "train_reconstruction": 0.5, "val_reconstruction": 0.6, "train_disc_ce": 2.0},
        {"epoch": 2, "train_reconstruction": 0.3, "val_reconstruction": 0.4, "train_disc_ce": 2.1}])
    page = admin_client.get(f"{URL}{version.pk}/change/").content.decode()
    assert 'id="loss-curves"' in page and "bokeh.min.js" in page and "loss-curves-item" in page
    assert "twin_recall_at_10" in page and "r2_latent.teff" in page
    assert 'name="_save"' not in page  # changed through the actions only
    assert "epoch 2 (20%" in admin_client.get(URL).content.decode()


def test_start_form_rejects_bad_configs(admin_client):
    toy_grid(n_groups=1, per_group=4)
    response = admin_client.post(f"{URL}add/", {"kind": "disentangler", "config": '{"training": {"epoch": 3}}'})
    assert response.status_code == 200
    assert "training: unknown disentangler setting(s): epoch" in response.content.decode()
    response = admin_client.post(f"{URL}add/", {"kind": "disentangler", "config": '{"training": {"latent_noise": 0.6}}'})
    assert "training: retired research setting(s): latent_noise" in response.content.decode()
    response = admin_client.post(f"{URL}add/", {"kind": "disentangler", "config": '{"selection": {"teff": [9000, 9900]}}'})
    assert "the selection matches no apogee spectrum" in response.content.decode()
    assert not ModelVersion.objects.exists()


def test_start_form_queues_a_version(admin_client, django_capture_on_commit_callbacks):
    toy_grid(n_groups=1, per_group=4)
    response = admin_client.post(f"{URL}add/", {"kind": "disentangler", "config": '{"training": {"epochs": 2}}'})
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert version.state == "queued" and version.config["training"] == {"preset": "twins", "epochs": 2}
    assert version.created_by.username == "root" and version.latest_run.state == "pending"


def test_activate_action_needs_change_permission(client):
    version = _ready_version()
    _staff(client, "view_modelversion")
    page = client.get(URL).content.decode()
    assert "activate_action" not in page
    client.post(URL, {"action": "activate_action", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.state == ModelVersion.State.READY
    assert client.get(f"{URL}add/").status_code == 403


def test_activate_action_with_permission(client):
    version = _ready_version()
    _staff(client, "view_modelversion", "change_modelversion")
    client.post(URL, {"action": "activate_action", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.state == ModelVersion.State.ACTIVE


def test_cancel_and_incomplete_activation_report_errors(admin_client):
    queued = ModelVersionFactory(config=CONFIG)
    TrainingRunFactory(model_version=queued, celery_task_id="abc")
    response = admin_client.post(URL, {"action": "cancel_action", "_selected_action": [queued.pk]}, follow=True)
    queued.refresh_from_db()
    assert queued.state == ModelVersion.State.CANCELLED and "cancelled" in response.content.decode()
    response = admin_client.post(URL, {"action": "activate_action", "_selected_action": [queued.pk]}, follow=True)
    assert "cannot be activated: it is cancelled" in response.content.decode()
