#!/bin/sh
# The container's start (Dockerfile). With no arguments, or only options for `siaga112 run`:
# create or upgrade the database, then become the bot, so that `docker stop`'s SIGTERM reaches it
# and unsent messages stay in the database. WEBHOOK_URL set means webhook mode (`run --webhook`,
# behind compose.yaml's proxy); unset, long polling. Any other command runs as given, e.g.
# `docker compose run --rm bot siaga112 check`.
set -eu
case "${1:-}" in
    "" | -*)
        siaga112 migrate
        if [ -n "${WEBHOOK_URL:-}" ]; then
            set -- --webhook "$@"
        fi
        exec siaga112 run "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
