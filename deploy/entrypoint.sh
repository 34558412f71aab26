#!/bin/sh
# Entry point of the image: refuse to start with the placeholder secrets of deploy/.env.example,
# then run the command (compose's `command:`) as PID 1's child.
set -eu
case "${BOT_SECRET_KEY:-} ${DATABASE_URL:-} $*" in
  *CHANGE-ME*)
    echo "refusing to start: deploy/.env still has CHANGE-ME values (BOT_SECRET_KEY, RASA_TOKEN, POSTGRES_PASSWORD)" >&2
    exit 64
    ;;
esac
exec "$@"
