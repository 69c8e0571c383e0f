//! The file system side of a `--root` site, for every model but io_uring:
//! the protocol names the file and the bytes ([`Connection::file_wanted`]),
//! and [`FileReader`] opens it with `open(2)` and reads it with `pread(2)`.
//!
//! **Both calls can block.** A regular file is always "ready": `select`,
//! `poll` and `epoll` report it readable whether its bytes are in the page
//! cache or on a disk 10 ms away, so no readiness model can wait for a file
//! the way it waits for a socket. A cold read stops the whole loop (every
//! client of an event loop, one thread's client in the thread models). On a
//! page-cached file the call is short, which is why readiness servers get
//! away with it, and why nginx has its thread pool for `aio threads`. The
//! io_uring server does not use this module: it opens and reads through its
//! ring, so nothing in its loop blocks (the uring chapter).
//!
//! The containment check is the kernel's: the file is opened first (every
//! symlink followed), then the kernel is asked where the opened file really
//! is (`/proc/self/fd/N`, a path the kernel keeps in memory: no disk), and
//! it is served only if that lies under the root. Checking the file that was
//! opened, not a path resolved beforehand, leaves no window in which a
//! symlink swapped under the server could lead it out of the root.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use nix::libc;
use protocol::{Connection, FileError, FileWant};

use crate::{interrupted, trace};

// ANCHOR: reader
/// The file a connection is sending, if any: opened when the protocol asks,
/// read with `pread` as the output has room, closed when the body is done.
#[derive(Debug, Default)]
pub struct FileReader {
    file: Option<File>,
    /// Where `pread` puts the bytes before the protocol takes them: held
    /// only while a file is sent (an idle connection holds no buffer).
    buf: Vec<u8>,
}

/// Does what `conn` wants of the file system now, if anything, with the
/// connection's reader in `slot` ([`FileReader::serve`]): the reader is
/// made when a file is first wanted and dropped when it is closed again,
/// so a connection that never opens a file (most) holds only the `None`.
pub fn serve_file(slot: &mut Option<Box<FileReader>>, conn: &mut Connection, now: Instant) {
    if slot.is_none() && conn.file_wanted().is_none() {
        return;
    }
    let reader = slot.get_or_insert_default();
    reader.serve(conn, now);
    if !reader.is_open() {
        *slot = None;
    }
}

impl FileReader {
    /// Does what `conn` wants of the file system, until it wants nothing
    /// more now: opens the file a request named, reads as many of its bytes
    /// as the output has room for. Call it after anything that may have
    /// changed the connection (bytes received, bytes sent, a deadline
    /// fired). Each call can block on the disk (module docs).
    pub fn serve(&mut self, conn: &mut Connection, now: Instant) {
        while let Some(want) = conn.file_wanted() {
            match want {
                FileWant::Open { path, root } => {
                    let opened = open(path, root);
                    trace!(
                        "open {}: {:?}",
                        path.display(),
                        opened.as_ref().map(|o| o.1)
                    );
                    let (file, opened) = match opened {
                        Ok((file, len)) => (Some(file), Ok(len)),
                        Err(err) => (None, Err(err)),
                    };
                    self.file = file;
                    conn.file_opened(opened, now);
                }
                FileWant::Read { offset, len } => {
                    let n = self.pread(offset, len);
                    conn.file_read(&self.buf[..n], now);
                }
            }
        }
        if !conn.file_in_use() && self.file.is_some() {
            self.file = None; // closes it
            self.buf = Vec::new();
        }
    }

    /// A file is open (the body being sent is a file's).
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// One `pread(2)` of at most `len` bytes at `offset` into `buf`: how
    /// many it read. EINTR is retried (nothing was read); an error reads as
    /// 0 bytes, which the protocol takes as a file that ended early.
    fn pread(&mut self, offset: u64, len: usize) -> usize {
        let Some(file) = &self.file else { return 0 };
        self.buf.resize(len, 0);
        loop {
            match file.read_at(&mut self.buf[..len], offset) {
                Ok(n) => {
                    trace!("pread fd={}: {n} bytes at {offset}", file.as_raw_fd());
                    return n;
                }
                Err(err) if interrupted(&err) => {}
                Err(err) => {
                    trace!("pread fd={}: {err}", file.as_raw_fd());
                    return 0;
                }
            }
        }
    }
}
// ANCHOR_END: reader

/// Opens `path` for reading: the file and its length, if it is a regular
/// file under `root` ([`check`]). `O_NONBLOCK`: opening a FIFO someone put
/// in the root would otherwise wait for a writer (a regular file ignores
/// the flag). Out of fds is [`FileError::OutOfFiles`], anything else
/// [`FileError::NotFound`].
pub fn open(path: &Path, root: &Path) -> Result<(File, u64), FileError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|err| open_error(&err))?;
    let len = check(file.as_fd(), root)?;
    Ok((file, len))
}

/// What an error from `open` means for the request: no fd left (EMFILE,
/// ENFILE) is a 503, since the file may well be there; the rest a 404.
pub fn open_error(err: &io::Error) -> FileError {
    match err.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE) => FileError::OutOfFiles,
        _ => FileError::NotFound,
    }
}

/// Whether the opened `file` may be served: a regular file whose real path
/// lies under `root` (as the kernel sees it, every symlink resolved). Its
/// length if so. Both questions are answered from memory (`fstat`, and
/// `readlink` of `/proc/self/fd/N`), never from the disk.
pub fn check(file: BorrowedFd<'_>, root: &Path) -> Result<u64, FileError> {
    let stat = nix::sys::stat::fstat(file).map_err(|_| FileError::NotFound)?;
    if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(FileError::NotFound);
    }
    let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|_| FileError::NotFound)?;
    match real.starts_with(root) {
        true => Ok(stat.st_size as u64),
        false => Err(FileError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Symlinks inside the root are followed, a symlink out of it is
    /// refused, and so are a directory and a missing file.
    #[test]
    fn only_regular_files_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("in.txt")).unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("relative.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        let root = root.canonicalize().unwrap();
        let open = |name: &str| open(&root.join(name), &root).map(|(_, len)| len);
        assert_eq!(open("a.txt"), Ok(1));
        assert_eq!(open("in.txt"), Ok(1));
        assert_eq!(open("relative.txt"), Ok(1));
        assert_eq!(open("out.txt"), Err(FileError::NotFound));
        assert_eq!(open("up/secret.txt"), Err(FileError::NotFound));
        assert_eq!(open("missing.txt"), Err(FileError::NotFound));
        assert_eq!(
            open(""),
            Err(FileError::NotFound),
            "the root is a directory"
        );
    }

    /// No fd left is a 503's reason, anything else a 404's.
    #[test]
    fn out_of_fds_is_not_a_missing_file() {
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(open_error(&emfile), FileError::OutOfFiles);
        let enfile = io::Error::from_raw_os_error(libc::ENFILE);
        assert_eq!(open_error(&enfile), FileError::OutOfFiles);
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(open_error(&enoent), FileError::NotFound);
    }
}
