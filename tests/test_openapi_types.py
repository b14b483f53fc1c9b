"""Every JSON answer in the OpenAPI schema has a typed shape (no bare ``object``), the errors share
one schema, and the shapes match what the endpoints return."""
import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return yaml.safe_load(Client().get("/api/schema/").content)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _json_responses(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if content:
                    yield f"{method.upper()} {path} {status}", _resolve(schema, content["schema"])


def test_no_json_answer_is_a_bare_object(schema):
    untyped = [name for name, body in _json_responses(schema)
               if body.get("type") == "object" and not body.get("properties") and not body.get("additionalProperties")
               and not name.startswith("GET /api/schema/ ")]  # the schema itself is a free-form document
    assert untyped == []


def test_errors_share_one_shape(schema):
    errors = {name: body for name, body in _json_responses(schema) if name.split()[-1] in ("400", "404", "409")}
    assert len(errors) >= 8
    assert all(set(body["properties"]) == {"error"} for body in errors.values())


@pytest.mark.parametrize("path, names", [
    ("/api/stars/{id}/twins/", {"model_version", "plan", "latent", "warnings", "twins"}),
    ("/api/stars/{id}/spectrum/", {"wavelength", "flux", "error", "units", "files", "air_or_vacuum"}),
    ("/api/stars/{id}/generate/", {"parameters", "training_range", "wavelength", "flux"}),
    ("/api/stars/{id}/", {"designation", "labels", "spectra", "images"}),
])
def test_the_shapes_name_what_the_endpoints_return(schema, path, names):
    body = _resolve(schema, schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert names <= set(body["properties"])


def test_the_documented_twins_shape_matches_an_answer(client, active_disentangler, schema):
    star = active_disentangler[1][0].star
    answer = client.get(f"/api/stars/{star.pk}/twins/", {"k": 2}).json()
    body = _resolve(schema, schema["paths"]["/api/stars/{id}/twins/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(answer) == set(body["properties"])
    row = _resolve(schema, body["properties"]["twins"]["items"])
    assert set(answer["twins"][0]) == set(row["properties"])


def test_bhb_candidates_are_a_typed_page(schema):
    body = _resolve(schema, schema["paths"]["/api/bhb-candidates/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    row = _resolve(schema, body["properties"]["results"]["items"])
    assert {"score", "xue_bhb", "d02"} <= set(row["properties"]) and {"count", "next"} <= set(body["properties"])
