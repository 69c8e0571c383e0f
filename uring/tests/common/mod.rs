//! What the uring tests share: a seccomp filter that forbids io_uring, the
//! way containers do, for running the server (or this suite) where io_uring
//! is not available.

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
/// everything else is allowed. Runs in the child between fork and exec
/// (`Command::pre_exec`), and the filter stays on across `exec`.
pub fn forbid_io_uring() -> std::io::Result<()> {
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
