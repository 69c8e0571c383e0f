//! The unsafe part of the model, in one place: building the ring and probing
//! it, handing operations to the kernel, the ring of buffers the kernel
//! receives into, and taking ownership of an accepted fd.
//!
//! Why pushing an operation is unsafe: an entry holds raw pointers (the
//! bytes to send, a timespec, the pool's memory), and the kernel will read
//! or write through them *later*, after the Rust borrow that made them has
//! ended. The compiler cannot see that. Each caller below names who keeps
//! the memory alive until the completion arrives.

use std::fs::File;
use std::io;
use std::net::TcpStream;
use std::os::fd::{FromRawFd, RawFd};

use std::alloc::{Layout, alloc_zeroed};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::{IoUring, Probe, opcode, squeue};
use nix::libc;

/// Submission queue entries. The completion queue gets four times as many:
/// every connection has up to two operations in flight, and a burst of
/// completions must not overflow it (the kernel keeps overflowed ones too,
/// `IORING_FEAT_NODROP`, but at a cost).
pub const ENTRIES: u32 = 1024;

/// Buffers in the pool, and bytes in each: 1 MiB in all, whatever the
/// number of connections. Enough for every `recv` of a busy round (at 100
/// clients, at most 100 complete at once); a `recv` that finds the pool
/// empty fails with ENOBUFS and is simply submitted again.
const POOL_BUFFERS: u16 = 256;
pub const POOL_BUFFER_SIZE: usize = 4096;

/// `--sqpoll`: how long the kernel's polling thread spins on an empty
/// submission queue before it sleeps (and the next submit wakes it, with
/// an `io_uring_enter`). Under load it never sleeps; idle, it spins this
/// long after each burst: a second (the common example) would show as a
/// server spinning while it waits out of fds (the suite's `out_of_fds`).
const SQPOLL_IDLE_MS: u32 = 10;

/// The operations the server submits, by name, for the probe.
const NEEDED: [(u8, &str); 8] = [
    (opcode::Accept::CODE, "ACCEPT"),
    (opcode::Recv::CODE, "RECV"),
    (opcode::Send::CODE, "SEND"),
    (opcode::SendMsg::CODE, "SENDMSG"),
    (opcode::OpenAt::CODE, "OPENAT"),
    (opcode::Read::CODE, "READ"),
    (opcode::Timeout::CODE, "TIMEOUT"),
    (opcode::AsyncCancel::CODE, "ASYNC_CANCEL"),
];

/// The oldest kernel that can set up the ring: `IORING_SETUP_DEFER_TASKRUN`
/// came in Linux 6.1 (`SINGLE_ISSUER` in 6.0). Everything else the server
/// needs is older: multishot accept and the buffer ring (5.19), multishot
/// `recv` (6.0), the operations it probes for (5.6 at the latest).
pub const OLDEST_KERNEL: &str = "6.1";

/// Sets up a ring and checks that the kernel knows every operation the
/// server uses. The error is one line, for the start-up message: io_uring
/// can be missing, switched off (`sysctl kernel.io_uring_disabled`),
/// forbidden (a seccomp filter, as in many containers) or too old for
/// this ring, and each shows up here, not at the first request.
///
/// `sqpoll` (`--sqpoll`): a kernel thread polls the submission queue for
/// [`SQPOLL_IDLE_MS`] after the last submission before it sleeps. The kernel refuses
/// it together with `DEFER_TASKRUN` (whose deferred work runs in the
/// submitting thread, and there is none), so that one is left out.
pub fn ring(sqpoll: bool) -> Result<(IoUring, Pool), String> {
    let mut builder = IoUring::builder();
    builder.setup_cqsize(4 * ENTRIES).setup_single_issuer();
    match sqpoll {
        true => builder.setup_sqpoll(SQPOLL_IDLE_MS),
        false => builder.setup_defer_taskrun(),
    };
    let ring = builder.build(ENTRIES).map_err(|err| {
        let kernel = read_proc("/proc/sys/kernel/osrelease");
        let disabled = read_proc("/proc/sys/kernel/io_uring_disabled");
        setup_failed(&err, kernel.as_deref(), disabled.as_deref())
    })?;
    let mut probe = Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|err| format!("cannot probe the ring: {err}"))?;
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(code, _)| !probe.is_supported(*code))
        .map(|(_, name)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(format!("the kernel lacks {}", missing.join(", ")));
    }
    let pool = Pool::new(&ring, POOL_BUFFERS, POOL_BUFFER_SIZE)
        .map_err(|err| format!("cannot register a buffer ring: {err}"))?;
    Ok((ring, pool))
}

/// Why `io_uring_setup` failed, in one line: the error, then what most
/// likely caused it on this machine. `kernel` is the running kernel's
/// release, `disabled` the value of `sysctl kernel.io_uring_disabled`
/// (Linux 6.6 and later); `None` where they could not be read.
fn setup_failed(err: &io::Error, kernel: Option<&str>, disabled: Option<&str>) -> String {
    let why = match err.raw_os_error() {
        // The kernel refuses a setup flag it does not know.
        Some(libc::EINVAL) => format!(
            "the ring needs Linux {OLDEST_KERNEL} or later (IORING_SETUP_DEFER_TASKRUN); \
             this kernel is {}",
            kernel.unwrap_or("of unknown version")
        ),
        // 1: only for CAP_SYS_ADMIN and kernel.io_uring_group; 2: for none.
        Some(libc::EPERM) if disabled.is_some_and(|value| value != "0") => format!(
            "switched off by sysctl kernel.io_uring_disabled = {}",
            disabled.unwrap_or_default()
        ),
        Some(libc::EPERM) => {
            "forbidden, most likely by a seccomp filter (as in many containers)".into()
        }
        Some(libc::ENOSYS) => "this kernel has no io_uring (built without CONFIG_IO_URING, \
                               or before 5.1), or a seccomp filter answers ENOSYS"
            .into(),
        _ => return format!("io_uring_setup failed: {err}"),
    };
    format!("io_uring_setup failed: {err}: {why}")
}

/// A one-line file of /proc, trimmed; `None` where it cannot be read.
fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
}

/// Queues one operation; submits the queue first if it is full.
///
/// # Safety
/// Every pointer in `entry` must stay valid until the operation's
/// completion has been taken from the completion queue (a timespec: until
/// the next submit, when the kernel copies it).
pub unsafe fn push(ring: &mut IoUring, entry: &squeue::Entry) -> io::Result<()> {
    loop {
        // SAFETY: the caller keeps the entry's memory alive (above).
        if unsafe { ring.submission().push(entry) }.is_ok() {
            return Ok(());
        }
        // The submission queue is full: hand it to the kernel, then retry.
        ring.submit()?;
    }
}

/// A freshly accepted socket, from the fd a completion carries.
pub fn adopt(fd: RawFd) -> TcpStream {
    // SAFETY: `fd` is the result of an accept that just completed: a new
    // socket that nothing else in the process refers to, so the stream is
    // its only owner and closes it once.
    unsafe { TcpStream::from_raw_fd(fd) }
}

/// A file the ring opened, from the fd its `openat` completion carries.
pub fn adopt_file(fd: RawFd) -> File {
    // SAFETY: as for `adopt`: a new fd, just opened, that nothing else in
    // the process refers to.
    unsafe { File::from_raw_fd(fd) }
}

// ANCHOR: pool
/// The buffers the kernel receives into: `count` buffers of `size` bytes in
/// one allocation, handed to the kernel as a *provided buffer ring*. A
/// `recv` names the ring's group, not a buffer; the kernel takes a free
/// buffer only when data arrives, and says in the completion which one it
/// used. So an idle connection with a `recv` in flight holds no buffer at
/// all: that is how 19,000 waiting receives fit in a few hundred bytes each.
///
/// The ring is memory shared with the kernel, like the submission queue: a
/// circle of `(address, length, id)` entries and a `tail`. The program adds
/// a buffer by writing the entry at `tail` and moving `tail` on; the kernel
/// takes from the head. No system call and no operation per buffer.
pub struct Pool {
    /// The buffers, leaked on purpose: they live as long as the process,
    /// so no operation in flight, even at exit, can outlive them.
    memory: &'static mut [u8],
    /// Bytes per buffer.
    size: usize,
    /// The ring's entries (page-aligned, as the kernel wants), leaked too.
    entries: *mut BufRingEntry,
    /// Where the next buffer given back goes; wraps around.
    tail: u16,
}

/// The group id of the pool, as `recv` names it.
pub const GROUP: u16 = 0;

impl Pool {
    /// Allocates `count` buffers of `size` bytes (`count` a power of two),
    /// registers the ring with the kernel, and gives it every buffer.
    pub fn new(ring: &IoUring, count: u16, size: usize) -> io::Result<Pool> {
        assert!(
            count.is_power_of_two(),
            "a buffer ring's size is a power of two"
        );
        let memory = vec![0u8; usize::from(count) * size].leak();
        let layout = Layout::from_size_align(usize::from(count) * size_of::<BufRingEntry>(), 4096)
            .map_err(io::Error::other)?;
        // SAFETY: the layout has a non-zero size (count >= 1). The memory is
        // never freed: the kernel reads the ring for as long as the io_uring
        // lives, and the process ends first.
        let entries = unsafe { alloc_zeroed(layout) }.cast::<BufRingEntry>();
        if entries.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        // SAFETY: `entries` points to `count` zeroed entries, page-aligned,
        // valid for ever (above).
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(entries as u64, count, GROUP, 0)
        }?;
        let mut pool = Pool {
            memory,
            size,
            entries,
            tail: 0,
        };
        for id in 0..count {
            pool.give_back(id);
        }
        Ok(pool)
    }

    /// How many buffers there are.
    fn count(&self) -> u16 {
        (self.memory.len() / self.size) as u16
    }

    /// The first `len` bytes of buffer `id`, which a completion says the
    /// kernel has filled. It is the program's until [`Pool::give_back`].
    pub fn filled(&self, id: u16, len: usize) -> &[u8] {
        let start = usize::from(id) * self.size;
        &self.memory[start..start + len.min(self.size)]
    }

    /// Gives buffer `id` back to the kernel: writes its entry at the tail,
    /// then moves the tail on, so the kernel never sees a half-written entry.
    pub fn give_back(&mut self, id: u16) {
        let slot = usize::from(self.tail & (self.count() - 1));
        let address = self.memory[usize::from(id) * self.size..].as_mut_ptr();
        // SAFETY: `slot` < count, so the entry is inside the ring; the
        // kernel reads only entries between its head and the tail, and this
        // one is past the tail until the store below.
        let entry = unsafe { &mut *self.entries.add(slot) };
        entry.set_addr(address as u64);
        entry.set_len(self.size as u32);
        entry.set_bid(id);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: `tail` points into the ring's first entry (its last two
        // bytes), which is valid for ever; the kernel reads it, so it is
        // written as an atomic, with Release ordering: the entry's writes
        // above are visible to the kernel before the new tail is.
        unsafe {
            let tail = BufRingEntry::tail(self.entries).cast_mut();
            AtomicU16::from_ptr(tail).store(self.tail, Ordering::Release);
        }
    }
}
// ANCHOR_END: pool

#[cfg(test)]
mod tests {
    use super::*;

    fn setup_error(errno: i32, kernel: Option<&str>, disabled: Option<&str>) -> String {
        setup_failed(&io::Error::from_raw_os_error(errno), kernel, disabled)
    }

    /// Before 6.1 the kernel refuses the ring's flags with a bare EINVAL:
    /// the line says which kernel the ring needs and which one this is.
    #[test]
    fn an_old_kernel_hears_which_kernel_the_ring_needs() {
        let line = setup_error(libc::EINVAL, Some("5.15.0-91-generic"), Some("0"));
        assert_eq!(
            line,
            "io_uring_setup failed: Invalid argument (os error 22): the ring needs \
             Linux 6.1 or later (IORING_SETUP_DEFER_TASKRUN); this kernel is 5.15.0-91-generic"
        );
        let unknown = setup_error(libc::EINVAL, None, None);
        assert!(
            unknown.ends_with("this kernel is of unknown version"),
            "{unknown}"
        );
    }

    /// EPERM: the sysctl where it is set, a seccomp filter otherwise.
    #[test]
    fn forbidden_says_by_what() {
        let prefix = "io_uring_setup failed: Operation not permitted (os error 1): ";
        for (disabled, cause) in [
            (
                Some("2"),
                "switched off by sysctl kernel.io_uring_disabled = 2",
            ),
            (
                Some("1"),
                "switched off by sysctl kernel.io_uring_disabled = 1",
            ),
            (Some("0"), "forbidden, most likely by a seccomp filter"),
            (None, "forbidden, most likely by a seccomp filter"),
        ] {
            let line = setup_error(libc::EPERM, Some("6.8.0"), disabled);
            assert!(
                line.starts_with(&format!("{prefix}{cause}")),
                "{disabled:?}: {line}"
            );
        }
        let missing = setup_error(libc::ENOSYS, Some("6.8.0"), None);
        assert!(missing.contains("CONFIG_IO_URING"), "{missing}");
    }

    /// Any other error is passed on as the kernel gave it; every line is one line.
    #[test]
    fn other_errors_pass_through_on_one_line() {
        assert_eq!(
            setup_error(libc::ENOMEM, Some("6.8.0"), Some("0")),
            "io_uring_setup failed: Cannot allocate memory (os error 12)"
        );
        for errno in [libc::EINVAL, libc::EPERM, libc::ENOSYS, libc::ENOMEM] {
            let line = setup_error(errno, Some("5.15.0"), Some("2"));
            assert_eq!(line.lines().count(), 1, "{line:?}");
        }
    }
}
