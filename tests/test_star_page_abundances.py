"""The star page shows abundances as a table (one row per element, one column per label source,
value ± error, written [X/Fe]) instead of an unformatted block."""
import re

import pytest

from portal.templatetags.doppel import abundance_name
from tests.factories import LabelsFactory, StarFactory

pytestmark = pytest.mark.django_db


def test_names_are_written_as_astronomers_write_them():
    assert abundance_name("Mg_Fe") == "[Mg/Fe]" and abundance_name("Fe_H") == "[Fe/H]" and abundance_name("vmicro") == "vmicro"


def test_abundances_table_with_errors_and_a_dash_where_a_source_lacks_an_element(client):
    star = StarFactory()
    LabelsFactory(star=star, source="aspcap", abundances={"Mg_Fe": 0.123456, "Mn_Fe": -0.2},
                  abundance_errors={"Mg_Fe": 0.031})
    LabelsFactory(star=star, source="grid", abundances={"Mg_Fe": 0.1})
    page = client.get(f"/stars/{star.pk}/").content.decode()
    table = page.split('<table id="abundances">')[1].split("</table>")[0]
    cells = lambda name: re.findall(r'<td class="num">\s*([^<]*?)\s*</td>',  # noqa: E731
                                    table.split(f"<td>{name}</td>")[1].split("</tr>")[0])
    assert "<th class=\"num\">aspcap</th><th class=\"num\">grid</th>" in table
    assert cells("[Mg/Fe]") == ["0.12 ± 0.03", "0.10"]
    assert cells("[Mn/Fe]") == ["-0.20", "—"]
    assert "0.123456" not in page


def test_no_abundances_no_table(client):
    star = StarFactory()
    LabelsFactory(star=star, abundances={})
    assert 'id="abundances"' not in client.get(f"/stars/{star.pk}/").content.decode()
