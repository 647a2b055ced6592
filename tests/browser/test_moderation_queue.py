"""End to end in headless Chromium: a moderator works the queue — reads a grouped target with
its reports, takes it down with a statement of reasons, and sees the queue empty."""

import pytest
from django.contrib.auth.models import Group, Permission

from moderation.models import Decision, Report
from tests.browser.test_admin_console import ARTIFACTS, browser_page  # noqa: F401 - fixture
from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_moderator_takes_down_a_reported_track_from_the_queue(browser_page, live_server):  # noqa: F811
    page = browser_page
    moderator = UserFactory(username="mona", email="mona@veza.test", is_staff=True)
    moderator.set_password("Correct-Horse-42!")
    moderator.save()
    # A transactional test's flush drops the data migration's groups: rebuilt here.
    group, _ = Group.objects.get_or_create(name="Moderation")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="moderation", codename__startswith="view"
        )
    )
    moderator.groups.add(group)
    track = TrackFactory(title="Suspicious Upload", artist="Someone Else")
    for category, text in (
        ("copyright", "This is my label's record, uploaded without a licence."),
        ("spam", "The description links to a pirate site."),
    ):
        Report.objects.create(
            target_type="track",
            target_id=track.pk,
            target_owner=track.creator,
            category=category,
            description=text,
            reporter_email="rights@label.example",
            copyright={"work_title": "Original", "rights_holder": "Label Ltd"}
            if category == "copyright"
            else None,
        )

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "mona@veza.test")
    page.fill("#id_password", "Correct-Horse-42!")
    page.click("input[type=submit]")
    page.wait_for_selector("#veza-moderation-link")
    page.click("text=Moderation queue")
    page.wait_for_selector("#moderation-queue")
    section = page.locator(f"section[data-target-id='{track.pk}']")
    assert "2 open reports" in section.inner_text()
    assert "Suspicious Upload" in section.inner_text() and "Label Ltd" in section.inner_text()
    page.screenshot(path=ARTIFACTS / "moderation-01-queue.png", full_page=True)

    section.locator("input[value=take_down]").check()
    section.locator("select[name=ground]").select_option("law")
    section.locator("input[name=provision]").fill("Copyright Directive 2019/790, art. 17")
    section.locator("textarea[name=explanation]").fill(
        "The rights holder identified the recording; the uploader holds no licence."
    )
    section.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist")
    assert "Take down" in page.inner_text(".messagelist")
    assert page.locator("#queue-empty").count() == 1
    page.screenshot(path=ARTIFACTS / "moderation-02-decided.png", full_page=True)

    track.refresh_from_db()
    assert track.status == Track.Status.TAKEN_DOWN
    decision = Decision.objects.get()
    assert decision.category == "copyright" and decision.moderator == moderator
    assert Report.objects.filter(status=Report.Status.DECIDED).count() == 2

    page.goto(f"{live_server.url}/admin/moderation/transparency/")
    page.wait_for_selector("#transparency table")
    page.screenshot(path=ARTIFACTS / "moderation-03-transparency.png", full_page=True)
