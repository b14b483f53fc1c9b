"""SAMP: "Send to TOPCAT / Aladin" on the twins page reaches a SAMP client through a real hub's Web
Profile (pyvo.samp, the registration accepted as a user would), and the URL it sends loads as the
twins' VOTable; without a hub the page says how to start one."""
import io
import queue
import threading
import urllib.request
import warnings

import pytest

from tests.browser_fixtures import BROWSER_MARKS, browser, page  # noqa: F401 (fixtures)
from tests.conftest import build_active_disentangler

pytestmark = BROWSER_MARKS


class _Accept:
    """The hub's Web Profile dialog, answered "accept" for every registration (what a user does
    when the hub asks whether Doppel may connect)."""

    def start(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.queue_request.get(timeout=0.1)
            except queue.Empty:
                continue
            self.queue_result.put(True)


@pytest.fixture
def hub(tmp_path):
    samp = pytest.importorskip("pyvo.samp")
    dialog = _Accept()
    server = samp.SAMPHubServer(web_profile=True, web_profile_dialog=dialog, lockfile=str(tmp_path / "samp-hub"))
    server.start()
    dialog.start()
    received, arrived = [], threading.Event()
    receiver = samp.SAMPIntegratedClient(name="TOPCAT stand-in")
    receiver.connect(hub=server)

    def on_table(private_key, sender_id, mtype, params, extra):
        received.append(params)
        arrived.set()

    receiver.bind_receive_notification("table.load.votable", on_table)
    yield received, arrived
    receiver.disconnect()
    dialog.stopping.set()
    server.stop()


@pytest.fixture
def catalog(transactional_db):
    return build_active_disentangler()


def test_send_to_topcat_reaches_a_samp_client_with_the_twins_votable(live_server, page, catalog, hub):
    received, arrived = hub
    star = catalog[1][0].star
    page.goto(f"{live_server.url}/stars/{star.pk}/twins/?k=3")
    page.click(".samp-send")
    assert arrived.wait(20), f"no table.load.votable arrived; the page says {page.inner_text('.samp-status')!r}"
    page.wait_for_function("document.querySelector('.samp-status').textContent.startsWith('sent to')", timeout=10_000)
    assert page.inner_text(".samp-status") == "sent to 1 SAMP client." and page.console_errors == []
    url = received[0]["url"]
    assert url.startswith(live_server.url) and "format=votable" in url and "k=3" in url
    with urllib.request.urlopen(url) as answer:
        content = answer.read()
    from astropy.io.votable import parse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse(io.BytesIO(content)).get_first_table()
    assert len(table.array) == 3 and received[0]["name"] == f"Doppel twins of {star.designation}"


def test_without_a_hub_the_page_says_how_to_start_one(live_server, page, catalog):
    star = catalog[1][0].star
    page.goto(f"{live_server.url}/stars/{star.pk}/twins/?k=3")
    page.click(".samp-send")
    page.wait_for_function("document.querySelector('.samp-status').textContent.startsWith('no SAMP hub')", timeout=15_000)
    assert "start TOPCAT or Aladin" in page.inner_text(".samp-status")
