"""Right of access and portability: one ZIP of a user's data, built by a task, streamed into
the media storage, downloaded through a signed link that works without credentials.

The ZIP is written to a temporary file, one entry at a time (JSON rows as they are read,
audio copied from the storage in chunks), then handed to the storage, which reads it in
chunks too (a multipart upload on S3): a large library never sits in memory.
"""

import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.text import slugify

from accounts.api.serializers import UserOutput
from accounts.models import User
from accounts.tasks import send_templated_email
from audit.services import record
from invoicing.documents import invoice_pdf
from invoicing.selectors import invoices_of_buyer
from marketplace.api.serializers import LicenseOutput, OrderOutput, ProductOutput
from marketplace.models import License, Order, OrderItem, Product
from moderation.api.serializers import DecisionOutput
from moderation.selectors import decisions_of, reports_sent_by
from payments.api.serializers import PayoutOutput
from payments.models import LedgerEntry, Payout
from payments.statements import seller_statement, statement_csv
from playlists.api.serializers import PlaylistDetailOutput
from playlists.models import Playlist, PlaylistTrack
from privacy import errors
from privacy.models import DataExport
from tracks.api.serializers import TrackOutput
from tracks.models import Track, TrackLike
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

DOWNLOAD_SALT = "veza.privacy.export-download"
COPY_CHUNK = 1024 * 1024
# A build that has not finished after this long is given up (its worker died): the user may
# ask again.
STALE_AFTER = timedelta(hours=6)


# --- request ------------------------------------------------------------------------------
def request_export(*, user: User, request=None) -> DataExport:
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            record(action="privacy.export_requested", actor=user, target=export, request=request)
            enqueue_on_commit("privacy.tasks.build_export", export_id=str(export.pk))
    except IntegrityError as exc:  # the partial UNIQUE: one pending export per user
        raise errors.ExportInProgress() from exc
    return export


def export_of(*, user: User, export_id) -> DataExport | None:
    return DataExport.objects.filter(pk=export_id, user=user).first()


# --- signed link --------------------------------------------------------------------------
def download_token(export: DataExport) -> str:
    return signing.dumps({"export": str(export.pk)}, salt=DOWNLOAD_SALT)


def download_path(export: DataExport) -> str:
    return f"/api/v1/exports/{export.pk}/download?token={download_token(export)}"


def export_for_download(*, export_id, token: str) -> DataExport:
    """The export a link names, if its signature holds for that very export and it is
    still downloadable. A tampered link is 404 (it names nothing); a genuine link past
    ``expires_at`` is 410."""
    try:
        payload = signing.loads(token or "", salt=DOWNLOAD_SALT)
    except signing.BadSignature as exc:
        raise errors.ExportLinkInvalid() from exc
    if not isinstance(payload, dict) or payload.get("export") != str(export_id):
        raise errors.ExportLinkInvalid()
    export = DataExport.objects.filter(pk=export_id).first()
    if export is None:
        raise errors.ExportLinkInvalid()
    if export.status_at(timezone.now()) != DataExport.Status.READY:
        raise errors.ExportExpired()
    return export


# --- build --------------------------------------------------------------------------------
class ArchiveWriter:
    """Entries of one ZIP, and the build's progress written back to the export row."""

    def __init__(self, archive: zipfile.ZipFile, export: DataExport, steps: int):
        self.archive = archive
        self.export = export
        self.steps = max(steps, 1)
        self.done = 0
        self.reported = 0

    def step(self) -> None:
        self.done += 1
        # 99 at most: 100 means ready, which only the final transaction says.
        percent = min(99, 100 * self.done // self.steps)
        if percent >= self.reported + 5:
            DataExport.objects.filter(pk=self.export.pk).update(progress=percent)
            self.reported = percent

    def json_list(self, name: str, rows: Iterable[dict]) -> None:
        with self.archive.open(name, "w") as entry:
            entry.write(b"[")
            for index, row in enumerate(rows):
                entry.write(b",\n  " if index else b"\n  ")
                entry.write(json.dumps(row, cls=DjangoJSONEncoder).encode())
            entry.write(b"\n]\n")
        self.step()

    def json_object(self, name: str, value: dict) -> None:
        self.archive.writestr(name, json.dumps(value, cls=DjangoJSONEncoder, indent=2))
        self.step()

    def text(self, name: str, value: str) -> None:
        self.archive.writestr(name, value)
        self.step()

    def folder(self, name: str) -> None:
        self.archive.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")

    def stored_file(self, name: str, storage_name: str) -> bool:
        """Copy a file of the storage into the ZIP in chunks; False when it is missing."""
        info = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED  # audio does not compress
        try:
            with (
                default_storage.open(storage_name, "rb") as source,
                self.archive.open(info, "w", force_zip64=True) as target,
            ):
                shutil.copyfileobj(source, target, COPY_CHUNK)
        except FileNotFoundError:
            logger.warning("export %s: %s is missing from the storage", self.export.pk, name)
            return False
        finally:
            self.step()
        return True


@dataclass(frozen=True)
class InvoicePdf:
    name: str  # e.g. "VZ-2025-000001.pdf"
    open: Callable[[], object]  # a binary file object


def invoice_pdfs(user: User) -> Iterator[InvoicePdf]:
    """The buyer's invoices and credit notes as PDFs, each rendered when the ZIP asks for it
    (one document in memory at a time)."""
    for invoice in invoices_of_buyer(user).iterator(chunk_size=100):
        yield InvoicePdf(
            name=f"{invoice.number}.pdf",
            open=lambda invoice=invoice: io.BytesIO(invoice_pdf(invoice)),
        )


def build_export(*, export_id) -> DataExport | None:
    """Build the ZIP of a pending export, store it, mark it ready and email the link.
    Anything but a pending export is left alone (a task delivered twice builds once)."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    user = export.user
    with tempfile.TemporaryFile(suffix=".zip") as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_archive(ArchiveWriter(archive, export, _steps(user)), user)
        size = spool.tell()
        spool.seek(0)
        stored = default_storage.save(
            f"exports/{user.pk}/{export.pk}.zip", File(spool, name=f"{export.pk}.zip")
        )
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().filter(pk=export.pk).first()
        # Built meanwhile, given up, or gone with an erasure: this copy is not wanted.
        if locked is None or locked.status != DataExport.Status.PENDING:
            transaction.on_commit(lambda: default_storage.delete(stored))
            return locked
        now = timezone.now()
        locked.status = DataExport.Status.READY
        locked.file, locked.size, locked.progress = stored, size, 100
        locked.ready_at, locked.expires_at = now, now + timedelta(hours=settings.EXPORT_TTL_HOURS)
        locked.save()
        record(action="privacy.export_ready", target=locked, details={"size": size})
        enqueue_on_commit(
            send_templated_email,
            template="data_export_ready",
            to=[user.email],
            context={
                "username": user.username,
                "url": settings.API_PUBLIC_URL + download_path(locked),
                "hours": settings.EXPORT_TTL_HOURS,
            },
        )
    return locked


def mark_failed(*, export_id, reason: str) -> None:
    DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED, failure_reason=reason[:500]
    )


def _steps(user: User) -> int:
    # Eleven JSON files and one step per audio file (seller files included, they are cheap).
    return 14 + Track.objects.filter(creator=user).exclude(file="").count()


def _is_seller(user: User) -> bool:
    return (
        Product.objects.filter(seller=user).exists()
        or LedgerEntry.objects.filter(seller=user).exists()
        or Payout.objects.filter(seller=user).exists()
    )


def _write_archive(writer: ArchiveWriter, user: User) -> None:
    writer.json_object(
        "profile.json",
        {
            **UserOutput(user).data,
            "last_login": user.last_login,
            "exported_at": timezone.now(),
        },
    )
    writer.json_list("sessions.json", _sessions(user))
    _write_tracks(writer, user)
    writer.json_list("playlists.json", _playlists(user))
    writer.json_list("likes.json", _likes(user))
    writer.json_list("orders.json", _orders(user))
    licences = License.objects.filter(buyer=user).select_related("product__seller")
    writer.json_list("licences.json", (LicenseOutput(row).data for row in licences.iterator()))
    writer.folder("invoices/")
    for invoice in invoice_pdfs(user):
        info = zipfile.ZipInfo(f"invoices/{PurePosixPath(invoice.name).name}")
        with invoice.open() as source, writer.archive.open(info, "w") as target:
            shutil.copyfileobj(source, target, COPY_CHUNK)
    writer.json_list("moderation_reports.json", reports_sent_by(user=user))
    writer.json_list(
        "moderation_decisions.json",
        (DecisionOutput(d).data for d in decisions_of(user=user).iterator()),
    )
    if _is_seller(user):
        products = Product.objects.filter(seller=user).select_related("seller")
        writer.json_list("products.json", (ProductOutput(p).data for p in products.iterator()))
        writer.text("statement.csv", _statement(user))
        payouts = Payout.objects.filter(seller=user).order_by("created_at")
        writer.json_list("payouts.json", (PayoutOutput(p).data for p in payouts.iterator()))


def _sessions(user: User) -> Iterator[dict]:
    """The caller's sessions, when the sessions model exists (it may not yet)."""
    try:
        session_model = apps.get_model("accounts", "Session")
    except LookupError:
        return iter(())
    fields = [
        f.attname
        for f in session_model._meta.concrete_fields
        if not any(secret in f.name for secret in ("token", "jti", "secret", "hash"))
    ]
    owner = _user_field(session_model)
    if owner is None:
        return iter(())
    return session_model.objects.filter(**{owner: user}).values(*fields).iterator()


def _user_field(model) -> str | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is User:
            return field.name
    return None


def _write_tracks(writer: ArchiveWriter, user: User) -> None:
    tracks = Track.objects.filter(creator=user).select_related("creator").order_by("created_at")

    def rows() -> Iterator[dict]:
        for track in tracks.iterator():
            audio = None
            if track.file:
                suffix = PurePosixPath(track.file.name).suffix
                name = f"tracks/{slugify(track.title)[:60] or 'track'}-{track.pk}{suffix}"
                if writer.stored_file(name, track.file.name):
                    audio = name
            yield {**TrackOutput(track).data, "audio_file": audio}

    # A ZIP is written one entry at a time: the audio entries first, while the (small)
    # rows naming them are collected, then tracks.json.
    writer.json_list("tracks.json", list(rows()))


def _playlists(user: User) -> Iterator[dict]:
    entries = PlaylistTrack.objects.select_related("track__creator", "added_by").order_by(
        "position"
    )
    playlists = (
        Playlist.objects.filter(owner=user)
        .select_related("owner")
        .annotate(track_count=Count("entries"))
        .prefetch_related(Prefetch("entries", queryset=entries), "collaborators__user")
        .order_by("created_at")
    )
    for playlist in playlists.iterator(chunk_size=100):
        yield PlaylistDetailOutput(playlist).data


def _likes(user: User) -> Iterator[dict]:
    likes = TrackLike.objects.filter(user=user).select_related("track").order_by("created_at")
    for like in likes.iterator():
        yield {
            "track_id": str(like.track_id),
            "title": like.track.title,
            "artist": like.track.artist,
            "liked_at": like.created_at,
        }


def _orders(user: User) -> Iterator[dict]:
    items = OrderItem.objects.select_related("product__seller", "seller")
    orders = (
        Order.objects.filter(buyer=user)
        .select_related("buyer")
        .prefetch_related(Prefetch("items", queryset=items), "refunds", "disputes")
        .order_by("created_at")
    )
    for order in orders.iterator(chunk_size=100):
        yield OrderOutput(order).data


def _statement(user: User) -> str:
    """Every currency's statement in one CSV: one header, each row names its currency."""
    currencies = (
        LedgerEntry.objects.filter(seller=user)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    parts = []
    for index, currency in enumerate(currencies):
        csv_text = statement_csv(seller_statement(seller=user, currency=currency))
        parts.append(csv_text if index == 0 else csv_text.split("\n", 1)[1])
    if not parts:
        return statement_csv(seller_statement(seller=user, currency="EUR"))
    return "".join(parts)


# --- clean-up -----------------------------------------------------------------------------
def expire_exports(*, now=None) -> int:
    """Delete the files of exports past ``expires_at``; give up builds that never ended."""
    now = now or timezone.now()
    expired = 0
    for export in DataExport.objects.filter(
        status=DataExport.Status.READY, expires_at__lte=now
    ).iterator():
        with transaction.atomic():
            locked = DataExport.objects.select_for_update().filter(pk=export.pk).first()
            if locked is None or locked.status != DataExport.Status.READY:
                continue
            name = locked.file
            locked.status, locked.file = DataExport.Status.EXPIRED, ""
            locked.save(update_fields=["status", "file"])
            record(action="privacy.export_expired", target=locked)
            if name:
                transaction.on_commit(lambda name=name: default_storage.delete(name))
            expired += 1
    DataExport.objects.filter(
        status=DataExport.Status.PENDING, created_at__lte=now - STALE_AFTER
    ).update(status=DataExport.Status.FAILED, failure_reason="The build did not finish.")
    return expired


def delete_exports_of(*, user: User) -> int:
    """Erasure: the user's exports go, files first once the transaction commits."""
    names = [name for name in user.data_exports.values_list("file", flat=True) if name]
    deleted, _ = user.data_exports.all().delete()
    for name in names:
        transaction.on_commit(lambda name=name: default_storage.delete(name))
    return deleted
