# iomodels in a container: Rust 1.95 on Debian bookworm, everything the
# tests, CI and the book need (scripts/setup.sh, the same script .ci/run
# runs, so CI proves this recipe), and the workspace built in release.
#
# Build (from the repository's root):
#
#   docker build -t iomodels .
#
# Run, on a Linux host:
#
#   docker run -it --rm --name iomodels \
#       --security-opt seccomp=unconfined \
#       --cap-add PERFMON --cap-add SYS_PTRACE \
#       --ulimit nofile=20000:20000 \
#       -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
#       -p 3000:3000 -p 7001-7013:7001-7013 \
#       iomodels
#
# What each option is for:
#   --security-opt seccomp=unconfined
#       io_uring. Docker's default seccomp profile refuses io_uring_setup,
#       io_uring_enter and io_uring_register since Docker 25 (moby#46762,
#       2023): without this the uring server cannot start, and its tests are
#       reported as ignored, with that reason.
#   --cap-add PERFMON
#       perf events, which the bench counts a request's CPU time, system
#       calls and context switches with (`--pid`, bench/tests/costs.rs).
#       kernel.perf_event_paranoid is the HOST's sysctl, one for every
#       container, which none can change. With CAP_PERFMON its level does
#       not matter; without it, it must be 1 or below: on the host,
#       `sudo sysctl kernel.perf_event_paranoid=1`.
#   --cap-add SYS_PTRACE
#       strace (`bench timeline`, docs/walks.sh) and docs/rings.py, which
#       reads a running server's memory.
#   --ulimit nofile=20000:20000
#       holding 19,000 connections (`bench compare --book`, `--sweeps`)
#       needs about 20,000 fds in the server and in the bench; each raises
#       its soft limit to this hard one.
#   -v /sys/kernel/tracing:/sys/kernel/tracing:ro
#       the host's tracefs, where the bench reads the id of the
#       raw_syscalls tracepoints it counts system calls with. A container
#       cannot mount its own unless privileged. (No tracefs on the host?
#       `sudo mount -t tracefs nodev /sys/kernel/tracing` there first.)
#   -p 3000:3000      the book: `mdbook serve docs -n 0.0.0.0`, then open
#                     http://localhost:3000 on the host
#   -p 7001-7013:7001-7013
#                     the servers' ports (README, "The models"); a server
#                     reached from the host listens on 0.0.0.0, not its
#                     default 127.0.0.1: `--addr 0.0.0.0:7001`
#
# Or, for all of the above at once (what CI has: it runs as root on a
# machine), replace the seccomp, cap-add and -v options with --privileged;
# then `bash scripts/setup.sh` inside mounts tracefs itself.
#
# Inside (the shell starts in /iomodels, the workspace already built):
#
#   cargo run --release -p blocking                    # one server, on 127.0.0.1:7001
#   cargo run --release -p epoll -- --addr 0.0.0.0:7007  # one the host can reach
#   curl -s http://127.0.0.1:7001/numbers.txt          # in a second shell:
#                                                      #   docker exec -it iomodels bash
#   cargo test --workspace                             # the protocol tests and the conformance suite
#   cargo run --release -p bench -- compare --quick    # every model, side by side, in two minutes
#   cargo run --release -p bench -- compare            # the full table (about 15 minutes)
#   cargo run --release -p bench -- timeline           # who waits, under strace
#   mdbook serve docs -n 0.0.0.0                       # the book, on the host's port 3000
#   bash .ci/run                                       # what CI runs: it requires io_uring and
#                                                      #   perf events, which the options above give
#
# The image holds a copy of the repository. To work on your own checkout
# instead, mount it over the copy (`-v "$PWD":/iomodels`), or open the
# folder in a dev container (.devcontainer/devcontainer.json does that).

FROM rust:1.95-bookworm

WORKDIR /iomodels

# The setup script alone first, so that a change to the sources does not
# install the tools again. --all adds the optional peers (wrk, nginx,
# strace, perf, nc, curl); `--build-arg SETUP=` gives CI's set only.
ARG SETUP=--all
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh $SETUP

COPY . .
RUN cargo build --release --workspace --bins --examples

EXPOSE 3000 7001-7013
CMD ["bash"]
