"""Photo ids that say who uploaded them. Intake owns photos; handling and feedback take photo ids
in progress notes, resolutions and verifications, and may accept only the actor's own uploads. No
service asks another (docs/decisions.md, "Photo ids carry their uploader's seal"), so intake gives
out ids sealed with an HMAC over the photo and its uploader, under a key the services share
(GRIDLOOP_PHOTO_KEY): any of them proves who uploaded a photo from the id alone.

Intake gives out an id only after the photo is stored, and never deletes one, so a sealed id also
says the photo exists."""

import base64
import hashlib
import hmac
from collections.abc import Sequence

SEPARATOR = "."


class UnknownPhotos(ValueError):
    """Photo ids that are not the actor's own uploads (or no uploads at all)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = ids


class PhotoSeal:
    """Seals a photo id to its uploader, and tells whether ids are someone's own."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def _mac(self, photo_id: str, owner: str) -> str:
        message = f"gridloop-photo\x00{photo_id}\x00{owner}".encode(errors="surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, photo_id: str, owner: str) -> str:
        """The id a photo is given out (and stored) under: its own id and the uploader's seal."""
        return f"{photo_id}{SEPARATOR}{self._mac(photo_id, owner)}"

    def is_own(self, sealed: str, owner: str) -> bool:
        photo_id, _, mac = sealed.rpartition(SEPARATOR)
        # as bytes: compare_digest refuses str with characters beyond ASCII, which a caller may send
        given = mac.encode(errors="surrogatepass")
        return bool(photo_id) and hmac.compare_digest(given, self._mac(photo_id, owner).encode())

    def check_own(self, photos: Sequence[str], owner: str) -> None:
        """Refuses a list naming any photo that is not the owner's own upload."""
        foreign = sorted({photo for photo in photos if not self.is_own(photo, owner)})
        if foreign:
            raise UnknownPhotos(foreign)
