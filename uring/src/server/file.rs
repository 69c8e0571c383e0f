//! A `--root` file, through the ring: the protocol names the file and the
//! bytes (`Connection::file_wanted`), and the loop queues an `openat` and
//! `read`s for them, like any other operation. Nothing here blocks: a
//! lookup or a read that would wait for the disk is done by a kernel worker
//! while the loop serves everyone else, where every readiness model makes a
//! plain `open` and `pread` that stop its loop (`plumbing::files`).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;

use io_uring::IoUring;
use io_uring::types::Fd;
use nix::libc;
use plumbing::{files, trace};
use protocol::{FileError, FileWant};

use super::Loop;
use crate::client::Client;
use crate::ops::{self, Op, errno, queue};
use crate::sys;

// ANCHOR: queue_wanted
/// Queues what the connection wants of its file, if it wants anything and
/// nothing of the file is in flight already: the `openat`, or one `read` of
/// as many bytes as the output has room for.
pub(super) fn queue_wanted(
    ring: &mut IoUring,
    client: &mut Client,
    token: usize,
    now: Instant,
) -> io::Result<()> {
    if client.file_io.as_ref().is_some_and(|io| io.in_flight()) {
        return Ok(()); // one file operation at a time
    }
    match client.state.file_wanted() {
        Some(FileWant::Open { path, .. }) => {
            // A path with a NUL cannot name a file (the protocol refuses
            // one in a request already): answered as not found.
            let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
                client.state.file_opened(Err(FileError::NotFound), now);
                return Ok(());
            };
            let file_io = client.file_io.get_or_insert_default();
            let path = file_io.opening.insert(path);
            trace!("openat {path:?}: queued");
            queue(ring, ops::open(path), Op::Open(token))?;
        }
        Some(FileWant::Read { offset, len }) => {
            let Some(file_io) = client.file_io.as_mut() else {
                return Ok(());
            };
            let Some(file) = &file_io.file else {
                return Ok(());
            };
            let fd = Fd(file.as_raw_fd());
            let buf = file_io.reading.insert(vec![0; len]);
            queue(ring, ops::read(fd, buf, offset), Op::Read(token))?;
        }
        None => {
            if !client.state.file_in_use() {
                client.file_io = None; // the body is done: close the file
            }
        }
    }
    Ok(())
}
// ANCHOR_END: queue_wanted

impl Loop {
    // ANCHOR: on_open
    /// The `openat` completed: the new fd, or an error. The file is served
    /// only if it is a regular file under the root (`files::check`: an
    /// `fstat` and a `readlink` of `/proc/self/fd/N`, answered from the
    /// kernel's memory, never from the disk).
    pub(super) fn on_open(&mut self, token: usize, result: i32) -> io::Result<()> {
        let now = self.now;
        let root = self.service.site.root();
        let Some(client) = self.clients.get_mut(token) else {
            return Ok(());
        };
        let path = client.file_io.as_mut().and_then(|io| io.opening.take());
        let opened = match (result, root) {
            (fd, Some(root)) if fd >= 0 => {
                let file = sys::adopt_file(fd);
                let checked = files::check(file.as_fd(), root);
                if checked.is_ok() {
                    client.file_io.get_or_insert_default().file = Some(file);
                }
                checked
            }
            (fd, None) if fd >= 0 => Err(FileError::NotFound),
            (n, _) => Err(files::open_error(&errno(n))),
        };
        trace!("openat {path:?}: {result} -> {opened:?}");
        client.state.file_opened(opened, now);
        self.settle(token)
    }
    // ANCHOR_END: on_open

    // ANCHOR: on_read
    /// A file `read` completed: how many bytes are in the buffer, 0 at an
    /// early end of file (it shrank), or an error. The protocol takes the
    /// bytes (a copy into its output), and the buffer is freed: the kernel
    /// is done with it.
    pub(super) fn on_read(&mut self, token: usize, result: i32) -> io::Result<()> {
        let now = self.now;
        let Some(client) = self.clients.get_mut(token) else {
            return Ok(());
        };
        let Some(buf) = client.file_io.as_mut().and_then(|io| io.reading.take()) else {
            return Ok(());
        };
        match result {
            n if n >= 0 => {
                trace!("read (file) token={token}: {n} of {} bytes", buf.len());
                client.state.file_read(&buf[..n as usize], now);
            }
            // Nothing was read: `settle` queues the read again.
            n if -n == libc::EINTR || -n == libc::EAGAIN => {
                trace!("read (file) token={token}: {}, again", errno(n))
            }
            // An I/O error: the body cannot be completed, and the protocol
            // ends the connection (as for a file that shrank).
            n => {
                trace!("read (file) token={token}: {}", errno(n));
                client.state.file_read(&[], now);
            }
        }
        self.settle(token)
    }
    // ANCHOR_END: on_read
}
