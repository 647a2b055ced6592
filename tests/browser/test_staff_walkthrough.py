"""End to end in headless Chromium at 1,366 px: each staff group walks the back-office.

Find a refund by its short id, read its timeline and add an internal note, refund two items
from the order page, approve a four-eyes refund as a second Finance member (after failing to
approve one's own), export the ledger, follow an audit entry as Auditor. Screenshots go to
``test-artifacts/`` (``walk-NN-*.png``); ``docs/staff-guide/NN-*.png`` are copies of them.
"""

import base64
import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django_otp.oath import totp

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund
from tests.browser.test_admin_console import ARTIFACTS, browser_page  # noqa: F401 - fixture
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order, opened_refund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1366


def rebuild_staff_groups() -> None:
    """A transactional test's flush drops the data migrations' groups: grant them again from
    the migrations' own lists."""
    grants: dict[str, set[tuple[str, str]]] = {}

    def add(group, app_label, codename):
        grants.setdefault(group, set()).add((app_label, codename))

    staff = importlib.import_module("accounts.migrations.0002_staff_groups")
    for group, labels in staff.GROUPS.items():
        for label in labels:
            add(group, *label.split("."))
    for module, name in (
        ("0004_dispute_console_permissions", "GRANTS"),
        ("0004_payouts", "PAYOUT_PERMISSIONS"),
    ):
        lists = getattr(importlib.import_module(f"payments.migrations.{module}"), name)
        for group, codenames in lists.items():
            for codename in codenames:
                add(group, "payments", codename)
    auditor = importlib.import_module("payments.migrations.0007_auditor_reads_money")
    for app_label, codenames in auditor.AUDITOR_READS.items():
        for codename in codenames:
            add("Auditor", app_label, codename)
    add("Finance", "payments", "approve_refund")
    notes = importlib.import_module("payments.migrations.0009_notes_and_refund_sync_batches")
    for group, codenames in notes.GRANTS.items():
        for codename in codenames:
            add(group, "payments", codename)
    readers = importlib.import_module(
        "audit.migrations.0004_support_and_finance_read_the_audit_log"
    )
    for group in readers.READERS:
        add(group, "audit", "view_auditlog")
    for name, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def staff(username: str, *groups: str):
    user = UserFactory(username=username, email=f"{username}@veza.test", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def sign_in(page, live_server, user, next_url="/admin/"):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def fits(page) -> bool:
    """No horizontal scrolling at 1,366 px: neither the page nor a list's table."""
    hidden_columns = page.evaluate(
        "[...document.querySelectorAll('.results')].some(e => e.scrollWidth > e.clientWidth)"
    )
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH and not hidden_columns


def test_staff_walk_the_back_office(browser_page, live_server, psp):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    rebuild_staff_groups()
    fiona = staff("fiona", "Finance")
    felix = staff("felix", "Finance")
    aude = staff("aude", "Auditor")

    # 1. Find a refund by the short id the list shows, read its timeline, add a note.
    refunded = completed_order()
    refund = opened_refund(refunded, reason="customer asked", provider_refund_id="ref_walk")
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.REFUND_PENDING)
    for _ in range(3):
        opened_refund(completed_order())
    short = str(refund.pk)[:8]
    sign_in(page, live_server, fiona, "/admin/payments/refund/")
    page.wait_for_selector("#result_list")
    page.fill("#searchbar", short)
    page.press("#searchbar", "Enter")
    page.wait_for_url(f"**q={short}**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert fits(page)
    shot(page, "walk-01-refund-found-by-short-id.png")
    page.click(f"#result_list tbody tr a:text('{short}')")
    page.wait_for_selector("text=Everything that happened, oldest first")
    shot(page, "walk-02-refund-timeline.png")
    page.fill("#refund-note-form textarea", "Buyer phoned: the files were corrupt.")
    page.click("#refund-note-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Note added to the refund" in page.inner_text(".messagelist")
    timeline = page.inner_text("text=Everything that happened, oldest first >> xpath=../..")
    assert "Buyer phoned: the files were corrupt." in timeline
    assert refund.notes.get().author == fiona
    assert AuditLog.objects.filter(action="refund.note_added", target_id=str(refund.pk)).exists()
    assert fits(page)
    shot(page, "walk-03-refund-note-added.png")

    # 2. Refund two items of an order from the order page.
    order = completed_order(
        products=[ProductFactory(price=1000), ProductFactory(price=2500), ProductFactory(price=499)]
    )
    first, second, _ = order.items.order_by("position")
    page.goto(f"{live_server.url}/admin/marketplace/order/{order.pk}/change/")
    page.click("text=Refund…")
    page.wait_for_selector("text=Yes, refund")
    page.check(f"input[value='{first.pk}']")
    page.check(f"input[value='{second.pk}']")
    page.fill("#id_reason", "Wrong files delivered")
    shot(page, "walk-04-order-refund-form.png")
    page.click("input[type=submit][value='Yes, refund']")
    page.wait_for_selector(".messagelist")
    assert "pending — waiting for the provider" in page.inner_text(".messagelist")
    assert fits(page)
    shot(page, "walk-05-order-refunded-two-items.png")
    two = Refund.objects.get(order=order)
    assert (two.amount, two.status) == (3500, Refund.Status.PENDING)

    # 3. Four eyes: a large refund waits; its requester cannot approve it, a second can.
    large = completed_order(products=[ProductFactory(price=80_000)])
    page.goto(f"{live_server.url}/admin/marketplace/order/{large.pk}/refund/")
    page.fill("#id_reason", "Goodwill: double charge")
    page.click("input[type=submit][value='Yes, refund']")
    page.wait_for_selector(".messagelist")
    assert "awaiting approval" in page.inner_text(".messagelist")
    waiting = Refund.objects.get(order=large)
    assert waiting.status == Refund.Status.AWAITING_APPROVAL
    page.goto(f"{live_server.url}/admin/payments/refund/?status__exact=awaiting_approval")
    page.check("#result_list tbody tr input.action-select")
    page.select_option("select[name=action]", "approve_refunds")
    page.click("button[name=index]")
    page.wait_for_selector("text=You requested 1 of these")
    page.click("input[type=submit][value='Yes, approve']")
    page.wait_for_selector(".messagelist")
    assert "second Finance member must approve" in page.inner_text(".messagelist")
    assert fits(page)  # the "requested by" column is in view
    shot(page, "walk-06-own-approval-refused.png")
    waiting.refresh_from_db()
    assert waiting.status == Refund.Status.AWAITING_APPROVAL

    sign_in(page, live_server, felix, f"/admin/payments/refund/{waiting.pk}/change/")
    page.click("text=Approve…")
    page.wait_for_selector("#refund-decision")
    assert "€800.00" in page.inner_text("#refund-decision")
    waiting.refresh_from_db()
    assert waiting.status == Refund.Status.AWAITING_APPROVAL  # the page only shows what happens
    page.click("input[type=submit][value='Yes, approve']")
    page.wait_for_selector(".messagelist")
    assert "approved (€800.00), now pending" in page.inner_text(".messagelist")
    shot(page, "walk-07-approved-by-second-finance-member.png")
    waiting.refresh_from_db()
    assert waiting.status == Refund.Status.PENDING and waiting.provider_refund_id

    # 4. Export the ledger entries.
    page.goto(f"{live_server.url}/admin/payments/ledgerentry/?kind__exact=sale_credit")
    page.wait_for_selector("#result_list")
    assert fits(page)
    shot(page, "walk-08-ledger-list.png")
    with page.expect_download() as download:
        page.click("text=Export CSV")
    path = ARTIFACTS / "walk-ledger-export.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("created_at,entry_id") and lines[-1].startswith("TOTAL")
    assert AuditLog.objects.filter(action="admin.export", actor=felix).exists()

    # 5. The Auditor follows an audit entry to its refund.
    sign_in(page, live_server, aude, "/admin/audit/auditlog/?action=refund.approved")
    page.wait_for_selector("#result_list")
    shot(page, "walk-09-audit-log.png")
    page.click("#result_list tbody tr:first-child th a")
    page.wait_for_selector("text=Details")
    assert "(€800.00)" in page.content()
    page.click(f"a[href='/admin/payments/refund/{waiting.pk}/change/']")
    page.wait_for_selector("text=Everything that happened, oldest first")
    assert "refund.approved" in page.content()
    assert fits(page)
    shot(page, "walk-10-auditor-follows-entry-to-refund.png")


def test_a_staff_member_enrols_the_second_factor(browser_page, live_server, settings):  # noqa: F811
    """With STAFF_REQUIRE_2FA: the password, then enrolment (QR code and secret), the first
    code from the app, the recovery codes once, and only then the back-office."""
    settings.STAFF_REQUIRE_2FA = True
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    rebuild_staff_groups()
    sofia = staff("sofia", "Support")

    sign_in(page, live_server, sofia, "/admin/")
    page.wait_for_selector("#otp-secret")
    assert "/admin/second-factor/enrol/" in page.url
    assert page.locator("#otp-qr svg").count() == 1
    assert fits(page)
    shot(page, "walk-11-second-factor-enrolment.png")

    # What the authenticator app does with the secret typed in by hand.
    secret = page.inner_text("#otp-secret").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#id_code", f"{totp(key):06d}")
    page.click("#otp-enrol-form input[type=submit]")
    page.wait_for_selector("#recovery-codes")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shot(page, "walk-12-second-factor-recovery-codes.png")

    page.click("#otp-continue")
    page.wait_for_selector("#content-main")
    assert page.url == f"{live_server.url}/admin/"
    assert "Run the platform" in page.inner_text("#content")
    shot(page, "walk-13-admin-index-after-second-factor.png")
    assert AuditLog.objects.filter(action="admin.otp_enrolled", actor=sofia).count() == 1

    # The next sign-in asks for the code only; a wrong one is refused and audited.
    page.context.clear_cookies()
    sign_in(page, live_server, sofia, "/admin/audit/auditlog/")
    page.wait_for_selector("#otp-verify-form")
    page.fill("#id_code", "000000" if f"{totp(key):06d}" != "000000" else "111111")
    page.click("#otp-verify-form input[type=submit]")
    page.wait_for_selector("#otp-error")
    shot(page, "walk-14-second-factor-wrong-code.png")
    assert AuditLog.objects.filter(action="admin.otp_failed", actor=sofia).count() == 1
    page.fill("#id_code", codes[0])
    page.click("#otp-verify-form input[type=submit]")
    page.wait_for_selector("#result_list")
    assert "/admin/audit/auditlog/" in page.url
