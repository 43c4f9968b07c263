"""`gridloop-directory export|import`: the directory to and from directory.yaml + grids.geojson,
through the directory service's admin API, so every change is announced to the other services.

The bearer token comes from --token or GRIDLOOP_TOKEN (an admin's)."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from gridloop.directory.interchange import InvalidFile, Records, from_documents, to_documents
from gridloop.shared.directory import Kind

COLLECTIONS = {
    Kind.DISTRICT: "districts",
    Kind.STREET: "streets",
    Kind.COMMUNITY: "communities",
    Kind.GRID: "grids",
    Kind.DEPARTMENT: "departments",
    Kind.CATEGORY: "categories",
    Kind.RULE: "rules",
    Kind.SLA: "slas",
    Kind.CALENDAR: "calendars",
}
DOCUMENT, GRIDS = "directory.yaml", "grids.geojson"


def export(client: httpx.Client, out: Path) -> Records:
    records: Records = []
    for kind, collection in COLLECTIONS.items():
        response = client.get(f"/v1/directory/{collection}")
        response.raise_for_status()
        for data in response.json()["items"]:
            records.append((kind, data["id"] if kind == Kind.RULE else data["code"], data))
    document, grids = to_documents(records)
    out.mkdir(parents=True, exist_ok=True)
    (out / DOCUMENT).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (out / GRIDS).write_text(json.dumps(grids, ensure_ascii=False, indent=1), encoding="utf-8")
    return records


def read_files(source: Path) -> Records:
    """Both files parsed and every record checked before anything is sent."""
    try:
        document = yaml.safe_load((source / DOCUMENT).read_text(encoding="utf-8"))
        grids = json.loads((source / GRIDS).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidFile(f"cannot read the directory files in {source}: {exc}") from exc
    return from_documents(document, grids)


def upload(client: httpx.Client, records: Records) -> dict[str, int]:
    """PUT each record in dependency order; an unchanged record is left as it is."""
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    for kind, code, data in records:
        response = client.put(f"/v1/directory/{COLLECTIONS[kind]}/{code}", json=data)
        if response.status_code >= 400:
            raise InvalidFile(f"{kind.value} {code} refused ({response.status_code}): {response.text[:500]}")
        counts[response.json()["outcome"]] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gridloop-directory", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("GRIDLOOP_DIRECTORY_URL", "http://127.0.0.1:8006"))
    parser.add_argument("--token", default=os.environ.get("GRIDLOOP_TOKEN", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    out = sub.add_parser("export", help=f"write {DOCUMENT} and {GRIDS}")
    out.add_argument("directory", type=Path)
    into = sub.add_parser("import", help=f"check {DOCUMENT} and {GRIDS}, then create or replace every record")
    into.add_argument("directory", type=Path)
    into.add_argument("--check", action="store_true", help="only check the files; send nothing")
    args = parser.parse_args(argv)
    headers: dict[str, Any] = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30.0) as client:
        try:
            if args.command == "export":
                records = export(client, args.directory)
                print(f"exported {len(records)} records to {args.directory}")
                return
            records = read_files(args.directory)
            if args.check:
                print(f"{len(records)} records checked, nothing sent")
                return
            counts = upload(client, records)
            print(", ".join(f"{n} {what}" for what, n in counts.items()))
        except InvalidFile as exc:
            sys.exit(f"refused: {exc}")
        except httpx.HTTPError as exc:
            sys.exit(f"the directory service at {args.url} did not answer as expected: {exc}")


if __name__ == "__main__":
    main()
