//! Where io_uring is forbidden, the server says so in one line and exits 1
//! (docs/src/contract.md §2: a start-up failure), instead of panicking or failing at the
//! first request. The test forbids it the way containers do: a seccomp
//! filter, installed in the child just before it runs the server, that
//! makes `io_uring_setup` fail with EPERM.

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod common;

/// How long the server may take to refuse. It fails at its first io_uring
/// call, within milliseconds; one still running after this has started,
/// the filter notwithstanding, and would serve for ever.
const REFUSAL_TIME: Duration = Duration::from_secs(10);

#[test]
fn without_io_uring_it_exits_1_with_one_line() {
    // Checked here, in the parent: the child may not allocate the error.
    if let Err(err) = common::seccomp_arch() {
        panic!("cannot forbid io_uring on this machine: {err}");
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_uring"));
    command
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two prctl calls, which are async-signal-safe; it allocates
    // nothing (the architecture was checked above) and takes no lock.
    unsafe { command.pre_exec(common::forbid_io_uring) };
    let output = refusal(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got {stderr:?}");
    assert!(
        stderr.starts_with("uring: io_uring is not available here:")
            && stderr.contains("Operation not permitted")
            && (stderr.contains("seccomp") || stderr.contains("kernel.io_uring_disabled")),
        "the line should say io_uring is not available and why: {stderr:?}"
    );
    assert!(
        !stdout.contains("listening"),
        "it must not start: {stdout:?}"
    );
}

/// Runs `command` and returns what it printed once it has exited; a
/// command still running after [`REFUSAL_TIME`] is killed, and the test
/// fails saying so, instead of waiting for ever.
fn refusal(mut command: Command) -> Output {
    let mut child = command.spawn().expect("the uring binary runs");
    let deadline = Instant::now() + REFUSAL_TIME;
    while child.try_wait().expect("waitpid").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("its output");
            panic!(
                "the server still ran after {REFUSAL_TIME:?} with io_uring forbidden: \
                 the filter forbade nothing here (stdout: {:?})",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("its output")
}

/// The filter's architecture value is the one the kernel gives this
/// process: the kernel derives `AUDIT_ARCH_*` from the ELF header (the
/// machine, 64-bit, little-endian), so the test reads its own binary's.
/// A wrong value would make every system call fail with EPERM, `execve`
/// first.
#[test]
fn the_filter_matches_this_architecture() {
    let arch = match common::seccomp_arch() {
        Ok(arch) => arch,
        Err(err) => panic!("{err}"),
    };
    let mut header = [0u8; 20];
    File::open("/proc/self/exe")
        .and_then(|mut exe| exe.read_exact(&mut header))
        .expect("this test's own ELF header");
    assert_eq!(&header[..4], b"\x7fELF");
    let bits_64 = if header[4] == 2 { 0x8000_0000 } else { 0 }; // EI_CLASS: ELFCLASS64
    let little_endian = if header[5] == 1 { 0x4000_0000 } else { 0 }; // EI_DATA: ELFDATA2LSB
    let machine = u32::from(u16::from_le_bytes([header[18], header[19]])); // e_machine
    assert_eq!(
        arch,
        machine | bits_64 | little_endian,
        "ARCHES in tests/common/mod.rs has the wrong AUDIT_ARCH for {}",
        std::env::consts::ARCH
    );
}
