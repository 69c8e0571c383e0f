//! What the real server adds that makes each case pass, in the book's
//! words: the right-hand column of `cores.md`.

/// What the real server of `binary` adds that makes `case` pass, in the
/// book's words, or `None` where no one has said yet (then `bench cores`
/// refuses to write the table: every failure is explained or none is).
pub fn fix(binary: &str, case: &str) -> Option<&'static str> {
    let threads = matches!(binary, "threaded" | "forking" | "coroutine");
    Some(match case {
        "trace_lines" => {
            "`--trace`: a line for each kernel interaction (`plumbing::trace`), from \
             `plumbing::conn`, `plumbing::nonblocking_accept` and the model's own wait"
        }
        "max_conns" => {
            "admission: a place under `--max-conns` for each client \
             (`plumbing::admission::Places`, taken in each model's `admit`), a `503` past it \
             (`refuse`)"
        }
        "root_site"
        | "traversal"
        | "missing_root_exit_1"
        | "file_changes_while_sent"
        | "out_of_fds_root"
            if binary == "uring" =>
        {
            "files from `--root`: opened and read through the ring when the protocol asks \
             (`server/file.rs`); a core serves the compiled-in site only, and refuses `--root`"
        }
        "root_site"
        | "traversal"
        | "missing_root_exit_1"
        | "file_changes_while_sent"
        | "out_of_fds_root" => {
            "files from `--root`: opened with `open` and read with `pread` when the protocol \
             asks (`plumbing::files`); a core serves the compiled-in site only, and refuses \
             `--root`"
        }
        "out_of_fds" if threads => {
            "the blocking acceptor's reserve fd (`plumbing::blocking_accept`): on `EMFILE` it is \
             closed, the waiting client accepted into it and refused with a `503`"
        }
        "out_of_fds" if binary == "uring" => {
            "after a failed accept, no new one for `ACCEPT_PAUSE` or until a close \
             (`accept_after`), and the reserve fd refuses the waiting clients"
        }
        "out_of_fds" => {
            "`on_accept` over `plumbing::nonblocking_accept`: on `EMFILE` the reserve fd refuses the \
             waiting clients with a `503`, or accepting pauses; a failed accept never \
             ends the loop"
        }
        "shutdown_under_load" | "sigint_exit_0" | "sigterm_exit_0" | "sigterm_in_flight"
            if threads =>
        {
            "shutdown: the accept loop ends when `shutdown::requested()`, and the \
             server waits for the answers in flight before it exits 0"
        }
        "shutdown_under_load" | "sigint_exit_0" | "sigterm_exit_0" | "sigterm_in_flight" => {
            "step 1, shutdown (`stop`): stop accepting, close the idle connections, finish \
             the answers in flight, return `Ok` (exit 0); the core's accept fails on the \
             shut listener and it exits 1 mid-answer"
        }
        "echo_backpressure" => {
            "read interest only while `Conn::wants_read` (the protocol has room): a client \
             that does not read its answers is not read from, so it costs at most 1 MiB"
        }
        "reset_mid_response" | "resets_everywhere" => {
            "a failed connection ends only itself: `serve_client` traces the error and \
             the accept loop goes on"
        }
        "eleven_hundred_connections" => {
            "admission with `FD_LIMIT`: a client whose fd select cannot watch \
             (FD_SETSIZE, 1024) is refused with a `503`"
        }
        "echo_8mib_random_chunks"
        | "echo_half_close"
        | "route_bytes"
        | "slow_reader"
        | "idle_timeout"
        | "keepalive_http10"
        | "pipelined_100"
        | "slowloris_408"
        | "thousand_idle"
            if binary == "signal_driven" =>
        {
            "`drain` and `again`: a signal is an edge, so each read goes on until \
             `EAGAIN`, and a connection left with work is served again without a signal"
        }
        _ => return None,
    })
}
