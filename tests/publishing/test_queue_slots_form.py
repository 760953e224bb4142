"""The posting-times form keeps what was typed when one entry is wrong, and shows no grey
example times that look like saved ones."""

import pytest
from tests.publishing.test_views import account, client_for  # noqa: F401  (fixture)

from chorus.publishing.models import QueueSlot

pytestmark = pytest.mark.django_db


def test_a_wrong_entry_keeps_every_other_entry_and_marks_its_day(owner, account):  # noqa: F811
    client = client_for(owner)
    client.post(f"/queue/{account.pk}/", {"day-2": "07:15"})
    response = client.post(
        f"/queue/{account.pk}/", {"day-0": "09:00, 13:30", "day-1": "25:99", "day-4": "18:00"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="09:00, 13:30"' in page and 'value="18:00"' in page and 'value="25:99"' in page
    wrong = page.split(f'id="slots-{account.pk}-1"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in wrong
    assert "“25:99” is not a time" in page and "Nothing was saved" in page
    # nothing half-saved: the earlier times stand until the form is right
    assert [(s.weekday, s.time.strftime("%H:%M")) for s in QueueSlot.objects.all()] == [
        (2, "07:15")
    ]


def test_empty_days_show_no_example_times(owner, account):  # noqa: F811
    page = client_for(owner).get("/queue/").content.decode()
    assert f'id="slots-{account.pk}-0"' in page
    assert "placeholder=" not in page.split('class="slots"', 1)[1].split("</table>", 1)[0]
    assert "Write times like 09:00, 13:30" in page
