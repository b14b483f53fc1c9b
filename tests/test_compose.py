"""docker/compose.yaml parses and defines the production topology (compose cannot run in CI): five
services that share nothing but PostgreSQL and Redis, static files in the image."""
import yaml

from tests.conftest import ROOT


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def test_compose_names_all_five_services():
    assert set(_compose()["services"]) == {"db", "redis", "web", "worker-cpu", "worker-gpu"}


def test_database_is_pgvector_and_broker_is_redis():
    services = _compose()["services"]
    assert services["db"]["image"].startswith("pgvector/pgvector:pg17")
    assert services["redis"]["image"].startswith("redis:7")


def test_gpu_worker_requests_an_nvidia_device_and_consumes_the_gpu_queue():
    worker = _compose()["services"]["worker-gpu"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(device.get("driver") == "nvidia" and "gpu" in device.get("capabilities", []) for device in devices)
    command = " ".join(worker["command"]) if isinstance(worker["command"], list) else worker["command"]
    assert "-Q gpu" in command and "--pool solo" in command


def test_web_runs_gunicorn_and_every_app_service_gets_the_service_urls():
    services = _compose()["services"]
    web_command = services["web"]["command"]
    assert "gunicorn" in (" ".join(web_command) if isinstance(web_command, list) else web_command)
    for name in ("web", "worker-cpu", "worker-gpu"):
        env = services[name]["environment"]
        assert "DATABASE_URL" in env and "CELERY_BROKER_URL" in env, name


def test_the_web_server_s_settings_reach_the_web_container():
    """portal/gunicorn.py reads them; compose passes only what it names."""
    env = _compose()["services"]["web"]["environment"]
    for name in ("DOPPEL_WEB_WORKERS", "DOPPEL_WEB_THREADS", "DOPPEL_WEB_TIMEOUT_S"):
        assert env[name] == f"${{{name}:-}}"
    assert env["DATABASE_URL"].startswith("${DATABASE_URL")  # and the app's own still


def test_services_share_nothing_but_the_database_and_the_broker():
    compose = _compose()
    for name in ("web", "worker-cpu", "worker-gpu"):
        service = compose["services"][name]
        assert "volumes" not in service, f"{name} mounts a volume: hosts would have to share it"
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("${DATABASE_URL") and env["CELERY_BROKER_URL"].startswith("${CELERY_BROKER_URL")
        assert all(dependency.get("required") is False for dependency in service["depends_on"].values())
    assert set(compose["volumes"]) == {"pgdata", "redisdata"}
    for name in ("db", "redis"):  # bundled on one host only; a managed service replaces them elsewhere
        assert compose["services"][name]["profiles"] == ["bundled"]


def test_static_files_are_built_into_the_image():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "DOPPEL_STATIC_ROOT=/app/static" in dockerfile and "collectstatic" in dockerfile
    example = (ROOT / "docker" / ".env.example").read_text()
    assert "DATABASE_URL=" in example and "CELERY_BROKER_URL=" in example
