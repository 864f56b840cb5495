#!/bin/bash
# Creates Osmo's own role and database next to Temporal's (which the postgres image and
# Temporal's auto-setup create). Run by the postgres image on first start only, i.e. when
# the data volume is empty; later password changes need `ALTER ROLE osmo PASSWORD ...`.
set -euo pipefail

: "${POSTGRES_OSMO_PASSWORD:?POSTGRES_OSMO_PASSWORD must be set (password of the osmo role)}"

# psql quotes :'osmo_password' itself, so any password is safe here (the database URL in
# docker-compose.yml still needs it URL-safe).
psql -v ON_ERROR_STOP=1 \
    --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v osmo_password="$POSTGRES_OSMO_PASSWORD" <<'SQL'
CREATE ROLE osmo LOGIN PASSWORD :'osmo_password';
CREATE DATABASE osmo OWNER osmo;
REVOKE ALL ON DATABASE osmo FROM PUBLIC;
SQL
