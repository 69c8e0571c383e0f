#!/usr/bin/env bash
# Installs what iomodels' tests, CI and book need on a Debian or Ubuntu
# machine, and leaves alone what is there already: run it again at any time.
# `.ci/run` runs it, and so does the Dockerfile (with --all), so every CI
# run proves the container's recipe too.
#
#   bash scripts/setup.sh          the tools the tests, CI and the book need
#   bash scripts/setup.sh --all    and the optional peers (or IOMODELS_SETUP_ALL=1)
#
# Needed (what `.ci/run` runs):
#   python3        the book's checks (docs/check-book.py), the solutions' scripts
#   ps (procps)    forking's tests look at its children
#   ab (apache2-utils)  compare's `ab -n 10000 -c 100` scenario
#   rustfmt, clippy     `cargo fmt --check`, `cargo clippy` (rustup components)
#   mdbook 0.5.4   the book, pinned: see MDBOOK_VERSION below (needs rustc 1.88)
#   tracefs        mounted on /sys/kernel/tracing when it is not: the bench
#                  counts system calls through the raw_syscalls tracepoints
#   chromium, chromedriver  `bench live`'s test drives its page in a
#                  headless browser (bench/tests/live.rs)
# Optional (--all):
#   nginx          compare's reference row when installed (bench/nginx/nginx.sh)
#   wrk            run beside the bench by `compare --book` when installed
#   strace         bench timeline, docs/walks.sh
#   perf           docs/profile.sh (linux-perf; linux-tools on Ubuntu)
#   nc, curl       the README's "Poking a running server"
#
# As root, or as a user with sudo: apt-get and mount go through sudo, and
# mdbook is built by your own cargo into ${CARGO_HOME:-~/.cargo}/bin.
set -euo pipefail

# The book's mdbook, and the rustc it needs to build (its rust-version). The
# book needs 0.5: since 0.5 a preprocessor's command runs from the book's
# root, and docs/book.toml's `python3 check-book.py` counts on it. 0.4.52,
# the newest within the workspace's rust-version 1.85, runs it from where
# `mdbook build docs` was typed, finds no script there, and skips the anchor
# check without failing.
MDBOOK_VERSION=0.5.4
MDBOOK_RUSTC=1.88

all=${IOMODELS_SETUP_ALL:-}
for arg in "$@"; do
    case $arg in
        --all) all=1 ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "setup: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null; then
    as_root() { sudo "$@"; }
else
    as_root() { printf "setup: '%s' needs root: run this as root, or install sudo\n" "$*" >&2; return 1; }
fi

# --- Debian packages -------------------------------------------------------

# The packages to install, gathered first so that apt-get runs once.
missing=()

# `want COMMAND PACKAGE`: PACKAGE when COMMAND is not on PATH.
want() {
    if command -v "$1" >/dev/null; then
        say "$1: there ($(command -v "$1"))"
    else
        missing+=("$2")
    fi
}

# Whether apt knows a version of PACKAGE it could install. (Not `grep -q`:
# it stops reading at the first match, apt-cache dies of SIGPIPE, and
# pipefail calls the whole pipe failed.)
available() {
    apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null
}

want python3 python3
want ps procps
want ab apache2-utils
want chromium chromium
want chromedriver chromium-driver
if [ -n "$all" ]; then
    want wrk wrk
    want nginx nginx
    want strace strace
    want nc netcat-openbsd
    want curl curl
    if ! command -v perf >/dev/null; then
        # Debian's perf is linux-perf; Ubuntu's comes with its kernel's tools.
        missing+=(linux-perf)
    else
        say "perf: there ($(command -v perf))"
    fi
fi

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null ||
        die "no apt-get: install ${missing[*]} (or their equivalents) by hand"
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    if [ -n "$all" ]; then
        # An optional package this release does not have is skipped, not fatal.
        wanted=()
        for package in "${missing[@]}"; do
            if available "$package"; then
                wanted+=("$package")
            elif [ "$package" = linux-perf ] && available "linux-tools-$(uname -r)"; then
                wanted+=(linux-tools-common "linux-tools-$(uname -r)")
            else
                say "$package: not in this machine's apt sources, skipped"
            fi
        done
        missing=("${wanted[@]}")
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# --- Rust: the CI's components, and the pinned mdbook ------------------------

cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
callers_path=$PATH
export PATH="$cargo_bin:$PATH"
command -v cargo >/dev/null ||
    die "no cargo: install Rust with rustup first (the workspace needs rustc 1.85 or newer)"

for component in rustfmt clippy; do
    subcommand=${component/rustfmt/fmt}
    if cargo "$subcommand" --version >/dev/null 2>&1; then
        say "cargo $subcommand: there"
    else
        command -v rustup >/dev/null || die "no cargo $subcommand, and no rustup to add $component"
        say "adding the rustup component $component"
        rustup component add "$component"
    fi
done

installed=$(mdbook --version 2>/dev/null || true)  # "mdbook v0.5.4"
if [ "$installed" = "mdbook v$MDBOOK_VERSION" ]; then
    say "mdbook $MDBOOK_VERSION: there ($(command -v mdbook))"
else
    rustc=$(rustc --version | cut -d' ' -f2)
fi
if [ "$installed" != "mdbook v$MDBOOK_VERSION" ] &&
    [ "$(printf '%s\n' "$MDBOOK_RUSTC" "$rustc" | sort -V | head -n1)" != "$MDBOOK_RUSTC" ]; then
    # The servers, the bench and the tests build from 1.85: only the book's
    # builder is left out, and the rest of the setup goes on.
    say "mdbook $MDBOOK_VERSION needs rustc $MDBOOK_RUSTC or newer, and this is $rustc: skipped (\`rustup update\`, then run this again, to build the book)"
elif [ "$installed" != "mdbook v$MDBOOK_VERSION" ]; then
    say "installing mdbook $MDBOOK_VERSION (found: ${installed:-none}); a few minutes of compiling"
    # --force: replaces a different version, or a binary cargo did not install.
    cargo install mdbook --locked --version "$MDBOOK_VERSION" --force
    installed=$(mdbook --version 2>/dev/null || true)
    [ "$installed" = "mdbook v$MDBOOK_VERSION" ] ||
        die "mdbook on PATH is still '${installed:-none}' ($(command -v mdbook || true)), not $MDBOOK_VERSION"
fi
if [ "$(PATH=$callers_path command -v mdbook || true)" != "$cargo_bin/mdbook" ]; then
    say "note: put $cargo_bin first on your PATH to run this mdbook"
fi

# --- tracefs -----------------------------------------------------------------

# perf counts system calls through the raw_syscalls tracepoints, whose ids
# live in tracefs; a fresh machine may not have it mounted. Best effort: a
# container may not mount (see the Dockerfile), and the perf tests say why.
if [ -e /sys/kernel/tracing/events/raw_syscalls ] || [ -e /sys/kernel/debug/tracing/events/raw_syscalls ]; then
    say "tracefs: mounted"
elif as_root mount -t tracefs nodev /sys/kernel/tracing; then
    say "tracefs: mounted on /sys/kernel/tracing"
else
    say "tracefs could not be mounted: the perf tests will say why"
fi

# --- what this machine allows (read, never changed) --------------------------

kernel() { cat "/proc/sys/kernel/$1" 2>/dev/null || echo "?"; }
say "$(mdbook --version 2>/dev/null || echo "no mdbook"); $(python3 --version)"
say "kernel.io_uring_disabled=$(kernel io_uring_disabled) (0: the uring server runs)"
say "kernel.perf_event_paranoid=$(kernel perf_event_paranoid) (root or CAP_PERFMON count at any level; others need 1 or below)"
say "open files: $(ulimit -Sn) soft, $(ulimit -Hn) hard (the servers raise soft to hard; holding 19,000 connections needs about 20,000)"
