"""End to end in headless Chromium: a finance staff member settles a stuck refund.

Starts the real server (pytest-django's live_server), logs into /admin/, filters the refund
list, runs "Sync with provider now" against the fake provider, reads the result, opens the
overview and the audit log. Screenshots go to ``test-artifacts/`` (CI keeps them).
"""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from marketplace.models import Order
from payments.models import Refund
from tests.factories import UserFactory
from tests.marketplace.factories import completed_order, opened_refund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page():
    if CHROMIUM is None:
        if os.environ.get("VEZA_REQUIRE_BROWSER"):
            pytest.fail("VEZA_REQUIRE_BROWSER is set but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_finance_staff_syncs_a_stuck_refund_in_the_admin(browser_page, live_server, psp, settings):
    page = browser_page
    settings.REFUND_RECONCILE_AFTER = 60
    staff = UserFactory(username="fiona", email="fiona@veza.test", is_staff=True)
    staff.groups.add(*Group.objects.filter(name__in=["Finance", "Auditor"]))

    order = completed_order()
    refund = opened_refund(order, reason="stuck", provider_refund_id=None)
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(hours=2))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUND_PENDING)
    psp.refund_mode = "succeeded"  # the provider takes it and settles at once

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "fiona@veza.test")
    page.fill("#id_password", "Correct-Horse-42!")
    page.click("input[type=submit]")
    page.wait_for_selector("#veza-overview-link")
    page.screenshot(path=ARTIFACTS / "01-admin-index.png", full_page=True)

    page.goto(f"{live_server.url}/admin/payments/refund/")
    page.click("text=Stuck (pending too long)")
    page.wait_for_url("**stuck=yes**")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    page.screenshot(path=ARTIFACTS / "02-refund-list-stuck.png", full_page=True)

    page.check("#result_list tbody tr input.action-select")
    page.select_option("select[name=action]", "sync_with_provider")
    page.click("button[name=index]")
    page.wait_for_selector("text=Sync with the payment provider")
    page.screenshot(path=ARTIFACTS / "03-sync-confirmation.png", full_page=True)
    page.click("input[type=submit][value*='Yes']")
    page.wait_for_selector(".messagelist")
    message = page.inner_text(".messagelist")
    assert "succeeded" in message
    page.screenshot(path=ARTIFACTS / "04-sync-result.png", full_page=True)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert order.status == Order.Status.REFUNDED

    page.goto(f"{live_server.url}/admin/payments/overview/")
    page.wait_for_selector("#refund-overview svg")
    page.screenshot(path=ARTIFACTS / "05-overview.png", full_page=True)

    page.goto(f"{live_server.url}/admin/audit/auditlog/?action=admin.refund_sync")
    page.wait_for_selector("#result_list")
    assert "admin.refund_sync" in page.inner_text("#result_list")
    page.screenshot(path=ARTIFACTS / "06-audit-log.png", full_page=True)


def test_finance_follows_a_dispute_in_the_console(browser_page, live_server):
    """The dispute console: the list (overdue first) and one dispute's page with a note."""
    from payments.disputes.services import apply_dispute_event, event_from

    page = browser_page
    staff = UserFactory(username="dora", email="dora@veza.test", is_staff=True)
    staff.set_password("Correct-Horse-42!")
    staff.save()
    # A transactional test's flush drops the groups of the data migration; permissions are
    # re-created by post_migrate, so the group is rebuilt with what the console needs.
    finance, _ = Group.objects.get_or_create(name="Finance")
    finance.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="payments",
            codename__in=["view_dispute", "view_disputenote", "add_disputenote"],
        )
    )
    staff.groups.add(finance)
    for n, due in enumerate(["2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z"]):
        order = completed_order()
        apply_dispute_event(
            event_from(
                event_type="dispute_opened",
                obj={
                    "dispute_id": f"dp_browser_{n}",
                    "payment_id": order.hyperswitch_payment_id,
                    "amount": str(order.total_amount),
                    "currency": "EUR",
                    "dispute_stage": "dispute",
                    "connector_reason": "fraudulent",
                    "challenge_required_by": due,
                },
            )
        )

    page.goto(f"{live_server.url}/admin/login/?next=/admin/payments/dispute/")
    page.fill("#id_username", "dora@veza.test")
    page.fill("#id_password", "Correct-Horse-42!")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    rows = page.inner_text("#result_list")
    assert "overdue" in rows
    page.screenshot(path=ARTIFACTS / "dispute-01-list.png", full_page=True)

    page.click("#result_list tbody tr:first-child th a")
    page.wait_for_selector("#dispute-note-form")
    assert "Dispute hold" in page.content()
    page.fill("#dispute-note-form textarea", "Evidence sent to the bank.")
    page.click("#dispute-note-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Evidence sent to the bank." in page.content()
    page.screenshot(path=ARTIFACTS / "dispute-02-detail.png", full_page=True)


def test_finance_follows_a_seller_from_sale_to_paid_payout(browser_page, live_server, settings):
    """Sale → pending → released → payout → paid (sandbox webhooks), read in the console."""
    from marketplace.services import end_refund_window
    from payments.models import Payout, SellerBalance
    from payments.payouts.methods import set_payout_method
    from payments.payouts.release import release_order
    from payments.payouts.services import run_payouts
    from tests.marketplace.factories import ProductFactory

    settings.HYPERSWITCH_BASE_URL = ""  # the sandbox settles payouts by signed webhook
    page = browser_page
    order = completed_order(products=[ProductFactory(price=5000)])
    seller = order.items.get().seller
    end_refund_window(order_id=order.pk, now=timezone.now() - timedelta(minutes=1))
    assert release_order(order_id=order.pk) == 1
    set_payout_method(seller=seller, payout_type="bank", payout_token="tok_demo")
    summary = run_payouts()
    assert summary.get("created") == 1
    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.amount) == (Payout.Status.PAID, 4500)
    balance = SellerBalance.objects.get(seller=seller)
    assert (balance.pending, balance.available) == (0, 0)

    staff = UserFactory(username="fred", email="fred@veza.test", is_staff=True)
    staff.set_password("Correct-Horse-42!")
    staff.save()
    finance, _ = Group.objects.get_or_create(name="Finance")
    finance.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="payments",
            codename__in=[
                "view_payout",
                "view_payoutmethod",
                "manage_payouts",
                "view_sellerbalance",
                "view_ledgerentry",
                "view_sellertransfer",
            ],
        )
    )
    staff.groups.add(finance)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/payments/payout/")
    page.fill("#id_username", "fred@veza.test")
    page.fill("#id_password", "Correct-Horse-42!")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    assert "€45.00" in page.inner_text("#result_list")
    page.screenshot(path=ARTIFACTS / "payout-01-list.png", full_page=True)

    page.goto(f"{live_server.url}/admin/payments/payout/{payout.pk}/change/")
    page.wait_for_selector("#content-main")
    assert "Paid" in page.content() or "paid" in page.content()
    page.screenshot(path=ARTIFACTS / "payout-02-detail.png", full_page=True)

    page.goto(f"{live_server.url}/admin/payments/sellerbalance/{balance.pk}/change/")
    page.wait_for_selector("#content-main")
    text = page.inner_text("#content-main")
    assert "Sale credit" in text and "Release" in text and "Payout" in text
    assert "equals the sum of its entries" in text
    page.screenshot(path=ARTIFACTS / "payout-03-seller.png", full_page=True)
