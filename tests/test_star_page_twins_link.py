"""The star page offers "Chemical twins" only to a star that has a latent under the active model;
any other star is told why not, instead of being sent to an error."""
import pytest

from tests.factories import StarFactory

pytestmark = pytest.mark.django_db


def test_the_twins_link_needs_a_latent(client, active_disentangler):
    version, spectra = active_disentangler
    with_latent = client.get(f"/stars/{spectra[0].star_id}/").content.decode()
    assert f'href="/stars/{spectra[0].star_id}/twins/"' in with_latent
    lonely = StarFactory()
    page = client.get(f"/stars/{lonely.pk}/").content.decode()
    assert "/twins/" not in page.split("<h1>")[1].split("</p>")[0]
    assert "no chemical twins: this star has no latent under the active model" in page


def test_without_an_active_model_the_page_says_so(client):
    page = client.get(f"/stars/{StarFactory().pk}/").content.decode()
    assert "no chemical twins: no disentangler is active" in page
