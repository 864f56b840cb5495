"""`osmo` command line: development tokens, the dev launcher, migrations, key rotation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.logging import configure_logging
from core.settings import get_settings
from core.tokens import mint_token


def cmd_token(args: argparse.Namespace) -> None:
    settings = get_settings()
    print(
        mint_token(
            settings.workspace_secret,
            settings.workspace_key,
            tenant_key=args.tenant or None,
            name=args.name,
            is_admin=args.admin or not args.tenant,
            ttl_seconds=args.ttl,
            algorithm=args.algorithm,
        )
    )


def cmd_migrate(_: argparse.Namespace) -> None:
    from core.db import create_db_engine, migrate

    migrate(create_db_engine(get_settings().database_url))
    print("database is at the latest migration")


def cmd_rotate_keys(_: argparse.Namespace) -> None:
    from core.crypto import Encryptor
    from core.db import create_db_engine, migrate
    from core.rotation import reencrypt_all

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    count = reencrypt_all(engine, Encryptor.from_setting(settings.encryption_keys))
    print(f"re-encrypted {count} secret values with the active key")


def cmd_generate_key(_: argparse.Namespace) -> None:
    from core.crypto import generate_key

    print(generate_key())


def cmd_prune_blobs(args: argparse.Namespace) -> None:
    from datetime import timedelta

    from core.blobs import LocalBlobStore, blob_store

    store = blob_store(get_settings())
    if not isinstance(store, LocalBlobStore):
        sys.exit("S3 blob stores expire objects with a bucket lifecycle rule instead")
    removed = store.prune(timedelta(days=args.days))
    print(f"removed {removed} blobs unused for {args.days} days from {store.root}")


def cmd_dev(_: argparse.Namespace) -> None:
    from dev import run_dev

    sys.exit(run_dev(get_settings()))


def cmd_import_openapi(args: argparse.Namespace) -> None:
    from connectors.openapi import (
        OpenApiProblem,
        build_connector,
        read_document,
        summarize,
        write_connector,
    )
    from connectors.registry import BUILTIN
    from core.errors import OsmoError

    try:
        result = build_connector(read_document(args.spec), args.key, name=args.name)
        path = write_connector(result.connector, args.output or BUILTIN, force=args.force)
    except (OSError, OpenApiProblem, OsmoError) as exc:
        sys.exit(f"osmo connectors import-openapi: {exc}")
    print(f"wrote {path}")
    print(summarize(result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="osmo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="mint an API token (admin unless --tenant is given)")
    token.add_argument("--tenant", help="tenantKey of the customer")
    token.add_argument("--name", help="customer name claim")
    token.add_argument("--admin", action="store_true", help="add isAdmin: true")
    token.add_argument("--ttl", type=int, default=24 * 3600, help="lifetime in seconds")
    token.add_argument("--algorithm", choices=["HS256", "HS512"], default="HS256")
    token.set_defaults(func=cmd_token)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser(
        "rotate-keys", help="re-encrypt every secret with the first OSMO_ENCRYPTION_KEYS key"
    ).set_defaults(func=cmd_rotate_keys)
    sub.add_parser("generate-key", help="print a new encryption key").set_defaults(
        func=cmd_generate_key
    )
    sub.add_parser("dev", help="run Temporal, the worker and the API").set_defaults(func=cmd_dev)
    prune = sub.add_parser(
        "prune-blobs", help="delete claim-check blobs not written or read for --days days"
    )
    prune.add_argument("--days", type=float, default=90, help="age in days (default 90)")
    prune.set_defaults(func=cmd_prune_blobs)
    connectors = sub.add_parser("connectors", help="connector tools").add_subparsers(
        dest="connectors_command", required=True
    )
    importer = connectors.add_parser(
        "import-openapi", help="generate DIR/KEY/connector.yaml from an OpenAPI description"
    )
    importer.add_argument("spec", type=Path, metavar="SPEC", help="OpenAPI 3.x / Swagger 2.0 file")
    importer.add_argument("--key", required=True, help="connector key, e.g. my-app")
    importer.add_argument("--name", help="connector name (default: the description's title)")
    importer.add_argument(
        "--output", type=Path, metavar="DIR", help="folder of connectors (default: connectors/)"
    )
    importer.add_argument("--force", action="store_true", help="replace an existing file")
    importer.set_defaults(func=cmd_import_openapi)
    args = parser.parse_args(argv)
    configure_logging()
    args.func(args)


if __name__ == "__main__":
    main()
