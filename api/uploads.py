"""Uploaded files: type decided by the file's first bytes (never by the browser's word), size capped,
written atomically under the uploads folder, served only once the resource is public."""

from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from api.i18n import translator
from graph.contact import AT, PHONE, scrub
from graph.namespaces import slugify

OLE, ZIP = rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", rb"PK\x03\x04"
# extension → (media type, how its files begin): the bytes must agree with the extension. OpenDocument and
# OOXML files are zips: their parts are checked too.
TYPES = {
    "pdf": ("application/pdf", rb"%PDF-"),
    "png": ("image/png", rb"\x89PNG\r\n\x1a\n"),
    "jpg": ("image/jpeg", rb"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", rb"\xff\xd8\xff"),
    "gif": ("image/gif", rb"GIF8[79]a"),
    "webp": ("image/webp", rb"RIFF.{4}WEBP"),
    "odt": ("application/vnd.oasis.opendocument.text", ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    "odp": ("application/vnd.oasis.opendocument.presentation", ZIP),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "doc": ("application/msword", OLE),
    "xls": ("application/vnd.ms-excel", OLE),
    "ppt": ("application/vnd.ms-powerpoint", OLE),
}
OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
INLINE = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}


class UploadError(ValueError):
    """Why a file is refused (a contribution's, a spreadsheet to link): a key of api/i18n.py's table and
    its values, worded in the asker's language (French in logs)."""

    def __init__(self, key: str, **values: object):
        super().__init__(translator("fr")(key, **values))
        self.key, self.values = key, values


@dataclass
class Upload:
    name: str  # safe file name
    media_type: str
    data: bytes


def _zip_kind_ok(data: bytes, ext: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            if ext in OOXML_PARTS:
                return "[Content_Types].xml" in names and any(n.startswith(OOXML_PARTS[ext]) for n in names)
            return "mimetype" in names and z.read("mimetype").decode("ascii", "replace") == TYPES[ext][0]
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def check(filename: str, data: bytes, max_bytes: int) -> Upload:
    stem, dot, ext = (filename or "").rpartition(".")
    ext = ext.lower()
    if not dot or ext not in TYPES:
        raise UploadError("err_file_type")
    if len(data) > max_bytes:
        raise UploadError("err_file_size", kb=len(data) // 1024, max_kb=max_bytes // 1024)
    if not data:
        raise UploadError("err_file_empty")
    media_type, magic = TYPES[ext]
    if not re.match(magic, data, re.DOTALL) or (magic == ZIP and not _zip_kind_ok(data, ext)):
        raise UploadError("err_file_content", ext=ext)
    return Upload(f"{_public_stem(stem)}.{ext}", media_type, data)


def _public_stem(stem: str) -> str:
    """The name is published with the file (its name, its address): a contact detail or a person named
    with a civility in it is not, the rest is, with no placeholder. Phone numbers go first
    (« 06-12-34-56-78 »), then addresses piece by piece between - and _: whole, an address would take the
    words around it along (« fiche-paul.agent@fs05.fr-… »); a piece holding part
    of one cut by a hyphen (« paul@mairie » of « paul@mairie-x.fr ») goes whole."""
    pieces = [scrub(piece, "", "", name="") for piece in re.split(r"[-_]+", PHONE.sub(" ", stem))]
    return slugify(" ".join(p for p in pieces if not AT.search(p)), 60)


def save(root: Path, rid: str, upload: Upload) -> None:
    """Written to a temporary file of its own, flushed to disk, then linked under its name, which fails if
    the name is taken: a crash never leaves half a file, and two saves at once (moderation runs in a
    thread pool) never write one name. An existing file is never overwritten (old versions of the
    resource still point to it): the new one gets the next numbered name, and ``upload.name`` is updated."""
    folder = root / rid
    folder.mkdir(parents=True, exist_ok=True)
    stem, ext = upload.name.rsplit(".", 1)
    tmp = folder / f".{secrets.token_hex(8)}.part"
    try:
        with open(tmp, "xb") as f:
            f.write(upload.data)
            f.flush()
            os.fsync(f.fileno())
        n = 1
        while True:
            try:
                os.link(tmp, folder / upload.name)
                return
            except FileExistsError:
                n += 1
                upload.name = f"{stem}-{n}.{ext}"
    finally:
        tmp.unlink(missing_ok=True)


def locate(root: Path, rid: str, name: str) -> Path | None:
    if not re.fullmatch(r"[a-z0-9-]+", rid) or not re.fullmatch(r"[a-z0-9-]+\.[a-z]+", name):
        return None
    path = root / rid / name
    return path if path.is_file() else None
