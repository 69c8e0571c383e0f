#!/usr/bin/env bash
# Starts and stops a private nginx, by PID, for the bench scripts.
#   bench/nginx/nginx.sh start PORT [WORKERS]   prints the master's PID
#   bench/nginx/nginx.sh stop PID
# Installs nginx from Debian's packages when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

case "${1:-}" in
start)
    port=${2:?port}
    workers=${3:-1}
    if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >&2
    fi
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/iomodels-nginx.XXXXXX")
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|@ROOT@|$repo/www|g" "$here/nginx.conf.in" > "$dir/nginx.conf"
    "$nginx" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$pid"
            exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "nginx did not start:" >&2
    cat "$dir/error.log" "$dir/stdout" >&2 || true
    exit 1
    ;;
stop)
    pid=${2:?pid}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 start PORT [WORKERS] | stop PID" >&2
    exit 2
    ;;
esac
