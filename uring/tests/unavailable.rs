//! Where io_uring is forbidden, the server says so in one line and exits 1
//! (docs/src/contract.md §2: a start-up failure), instead of panicking or failing at the
//! first request. The test forbids it the way containers do: a seccomp
//! filter, installed in the child just before it runs the server, that
//! makes `io_uring_setup` fail with EPERM.

use std::os::unix::process::CommandExt;
use std::process::Command;

mod common;

#[test]
fn without_io_uring_it_exits_1_with_one_line() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_uring"));
    command.args(["--addr", "127.0.0.1:0"]);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two prctl calls, which are async-signal-safe; it allocates
    // nothing and takes no lock.
    unsafe { command.pre_exec(common::forbid_io_uring) };
    let output = command.output().expect("the uring binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got {stderr:?}");
    assert!(
        stderr.starts_with("uring: io_uring is not available here:")
            && stderr.contains("Operation not permitted"),
        "the line should say io_uring is not available and why: {stderr:?}"
    );
    assert!(
        !stdout.contains("listening"),
        "it must not start: {stdout:?}"
    );
}
