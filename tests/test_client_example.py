"""docs/client.md is a notebook: its Python blocks run, in order, against a live server with an
active disentangler, through the installed ``doppel.client``; then what they printed is checked."""
import re
from pathlib import Path

import pytest

from catalog.ingest.apogee import write_aspcapstar
from tests.conftest import build_active_disentangler

DOC = Path(__file__).resolve().parent.parent / "docs" / "client.md"


def _blocks() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S))


@pytest.fixture
def served(transactional_db):
    return build_active_disentangler(n_groups=4, per_group=8, pixels=7214)


def test_the_client_page_runs_against_a_live_server(live_server, served, tmp_path, monkeypatch, capsys):
    version, spectra = served
    source = spectra[5]
    write_aspcapstar(tmp_path / "aspcapStar-example.fits", "2M99999999+9999999", 10.0, 20.0, source.flux_array, None)
    monkeypatch.chdir(tmp_path)
    code = _blocks()
    assert 'URL = "http://127.0.0.1:8000"' in code
    namespace: dict = {}
    exec(compile(code.replace("http://127.0.0.1:8000", live_server.url), str(DOC), "exec"), namespace)

    assert len(namespace["stars"]) == len(spectra) and namespace["twins"].meta["model_version"] == version.pk
    assert len(namespace["twins"]) == 5 and len(namespace["from_file"]) == 5
    assert namespace["from_file"]["designation"][0] == source.star.designation  # the file's own star comes first
    assert len(namespace["spectrum"].flux) == 7214 and namespace["spectrum"].spectral_axis.unit == "Angstrom"
    assert len(namespace["hot_giants"]) == 5 and list(namespace["hot_giants"]["teff"]) == sorted(
        namespace["hot_giants"]["teff"], reverse=True)
    assert len(namespace["candidates"]) == 0  # no BHB model here: an empty table, not an error
    printed = capsys.readouterr().out
    assert "refused: 400 k: k must be between 1 and 100" in printed


def test_errors_name_the_reason(live_server, served):
    from doppel.client import Doppel, DoppelError

    doppel = Doppel(live_server.url)
    with pytest.raises(DoppelError, match="matches 0 stars") as missing:
        doppel.star("no such star")
    assert missing.value.status == 404
    with pytest.raises(DoppelError, match="no spectrum from that survey"):
        doppel.spectrum(int(served[1][0].star_id), survey="sdss")
    with pytest.raises(DoppelError, match="ADQL syntax error"):
        doppel.tap("SELECT FROM doppel.stars")
    with pytest.raises(DoppelError) as unreachable:
        Doppel("http://127.0.0.1:9", timeout=2).search()
    assert unreachable.value.status is None and "cannot reach" in str(unreachable.value)
