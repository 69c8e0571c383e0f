//! What the uring tests share: a seccomp filter that forbids io_uring, the
//! way containers do, for running the server (or this suite) where io_uring
//! is not available.

use std::io;

use nix::libc;

/// Offsets into the kernel's `struct seccomp_data`: the syscall number, the
/// architecture.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// The classic BPF instructions the filter needs.
const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_IF_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K
const RET_ALLOW: u32 = 0x7fff_0000; // SECCOMP_RET_ALLOW
const RET_ERRNO: u32 = 0x0005_0000; // SECCOMP_RET_ERRNO

/// The architectures the filter knows: the name Rust gives the target it
/// compiled for (`std::env::consts::ARCH`), and the number the kernel puts
/// in `seccomp_data.arch` for a process of that architecture
/// (`AUDIT_ARCH_*` in include/uapi/linux/audit.h: the ELF machine number,
/// plus 0x8000_0000 for 64-bit and 0x4000_0000 for little-endian).
///
/// Why a table: a system call *number* means something only together with
/// the architecture, so a filter must check the architecture first, and
/// each architecture has its own value. The number of `io_uring_setup` is
/// libc's for the same target (425 on both; x86-64's x32 ABI adds its
/// 0x4000_0000 bit, and libc's number has it there too). One row per
/// architecture, looked up at run time: no `cfg` per architecture.
const ARCHES: [(&str, u32); 2] = [
    ("x86_64", 0xc000_003e),  // AUDIT_ARCH_X86_64: EM_X86_64 (62)
    ("aarch64", 0xc000_00b7), // AUDIT_ARCH_AARCH64: EM_AARCH64 (183)
];

/// The `seccomp_data.arch` value of this process, from [`ARCHES`]; an
/// error naming the architecture where the table does not know it. A filter
/// that matched no architecture would forbid nothing, and the server it
/// was meant to stop would start and serve: refuse instead.
///
/// The error allocates. In a forked child (`Command::pre_exec`) nothing
/// may: call this in the parent first, so that the child's
/// [`forbid_io_uring`] never takes that path.
pub fn seccomp_arch() -> io::Result<u32> {
    let this = std::env::consts::ARCH;
    match ARCHES.iter().find(|(name, _)| *name == this) {
        Some(&(_, audit_arch)) => Ok(audit_arch),
        None => {
            let known = ARCHES.map(|(name, _)| name).join(", ");
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "no AUDIT_ARCH value for {this} (the filter knows {known}): \
                     add it to ARCHES in uring/tests/common/mod.rs"
                ),
            ))
        }
    }
}

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Installs the filter: `io_uring_setup` fails with EPERM; every other
/// system call of this architecture is allowed. A system call made through
/// another architecture's convention (32-bit `int 0x80` on x86-64) fails
/// with EPERM too: its numbers are another table's, so the filter cannot
/// tell which call it is, and refuses rather than allows. Runs in the child
/// between fork and exec (`Command::pre_exec`), and the filter stays on
/// across `exec`. An architecture [`ARCHES`] does not know is an error.
pub fn forbid_io_uring() -> io::Result<()> {
    let arch = seccomp_arch()?;
    let forbidden = libc::SYS_io_uring_setup as u32;
    let mut filter = [
        op(LOAD_WORD, 0, 0, ARCH),
        op(JUMP_IF_EQUAL, 0, 3, arch), // another architecture: EPERM
        op(LOAD_WORD, 0, 0, NR),
        op(JUMP_IF_EQUAL, 1, 0, forbidden), // io_uring_setup: EPERM
        op(RETURN, 0, 0, RET_ALLOW),
        op(RETURN, 0, 0, RET_ERRNO | libc::EPERM as u32),
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
        true => Err(io::Error::last_os_error()),
        false => Ok(()),
    }
}
