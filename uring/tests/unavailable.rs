//! Where io_uring is forbidden, the server says so in one line and exits 1
//! (SPEC §2: a start-up failure), instead of panicking or failing at the
//! first request. The test forbids it the way containers do: a seccomp
//! filter, installed in the child just before it runs the server, that
//! makes `io_uring_setup` fail with EPERM.

use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::libc;

/// Offsets into the kernel's `struct seccomp_data`: the syscall number, the
/// architecture.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// The classic BPF instructions the filter needs.
const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const RET_ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
const RET_ERRNO: u32 = 0x0005_0000; // SECCOMP_RET_ERRNO

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Installs the filter: on x86-64, `io_uring_setup` fails with EPERM;
/// everything else is allowed. Runs in the child between fork and exec.
fn forbid_io_uring() -> std::io::Result<()> {
    let mut filter = [
        op(LOAD_WORD, 0, 0, ARCH),
        op(JUMP_IF_EQUAL, 0, 3, AUDIT_ARCH_X86_64), // another arch: allow
        op(LOAD_WORD, 0, 0, NR),
        op(JUMP_IF_EQUAL, 0, 1, libc::SYS_io_uring_setup as u32),
        op(RETURN, 0, 0, RET_ERRNO | libc::EPERM as u32),
        op(RETURN, 0, 0, RET_ALLOW),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: plain prctl calls with valid arguments; `program` and the
    // filter it points to live until the call returns (the kernel copies them).
    let failed = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &program as *const libc::sock_fprog,
            ) != 0
    };
    match failed {
        true => Err(std::io::Error::last_os_error()),
        false => Ok(()),
    }
}

#[test]
fn without_io_uring_it_exits_1_with_one_line() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_uring"));
    command.args(["--addr", "127.0.0.1:0"]);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two prctl calls, which are async-signal-safe; it allocates
    // nothing and takes no lock.
    unsafe { command.pre_exec(forbid_io_uring) };
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
