#!/bin/sh
# Registers Osmo's custom search attributes, all of type Keyword, on a Temporal namespace.
#
#   register-search-attributes.sh NAME...
#
# Idempotent: attributes already registered as Keyword are left alone, so the one-shot
# `temporal-search-attributes` compose service can run on every `docker compose up`.
# Environment: TEMPORAL_ADDRESS (temporal:7233), TEMPORAL_NAMESPACE (default),
# REGISTER_ATTEMPTS (60 tries, 2 s apart, while the namespace is not reachable yet).
set -eu

address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
attempts="${REGISTER_ATTEMPTS:-60}"

if [ "$#" -eq 0 ]; then
    echo "usage: $0 NAME..." >&2
    exit 2
fi

list_attributes() {
    temporal operator search-attribute list --address "$address" --namespace "$namespace"
}

# True when `$1` is listed with type Keyword (the list prints a `Name  Type` table).
is_registered() {
    list_attributes 2>/dev/null | grep -Eq "(^|[[:space:]])$1[[:space:]]+Keyword([[:space:]]|\$)"
}

tries=0
until list_attributes >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$attempts" ]; then
        echo "namespace '$namespace' is not reachable at $address" >&2
        list_attributes >&2 || true
        exit 1
    fi
    echo "waiting for namespace '$namespace' at $address..."
    sleep 2
done

for name in "$@"; do
    if is_registered "$name"; then
        echo "search attribute $name (Keyword) already registered"
        continue
    fi
    echo "registering search attribute $name (Keyword) on namespace '$namespace'"
    if ! temporal operator search-attribute create \
        --address "$address" --namespace "$namespace" --name "$name" --type Keyword; then
        # Another run may have registered it meanwhile; anything else is a real failure.
        is_registered "$name" || exit 1
    fi
done

for name in "$@"; do
    if ! is_registered "$name"; then
        echo "search attribute $name is still missing on namespace '$namespace'" >&2
        exit 1
    fi
done
echo "Osmo's search attributes are registered on namespace '$namespace': $*"
