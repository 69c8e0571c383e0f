//! Where files come from: the default site embedded in the binary, or a
//! directory given with `--root`, and the path rules that keep every request
//! inside it.
//!
//! No file is opened here: the protocol has no file system. For a `--root`
//! site, [`Site::find`] names the path, and the model opens and reads it when
//! the connection asks ([`crate::Connection::file_wanted`]); `plumbing::files`
//! does it for every model but io_uring, which does it through its ring.
//!
//! Guarantee, in two halves: a path with a `.`-led segment (`..`, `.`,
//! hidden files), an encoded `/` or `\`, a NUL, or an empty segment is
//! refused here, before the file system is asked at all; and the model
//! serves what it opened only if the kernel says the opened file really lies
//! under the root, every symlink resolved ([`FileWant::Open`]'s contract).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::Rejection;

/// The default site, compiled into every server binary from `www/`.
const EMBEDDED: &[(&str, &[u8])] = &[
    ("index.html", include_bytes!("../../www/index.html")),
    ("numbers.txt", include_bytes!("../../www/numbers.txt")),
    ("style.css", include_bytes!("../../www/style.css")),
];

/// The set of files a server serves.
#[derive(Debug, Clone)]
pub enum Site {
    /// The files of `www/`, compiled in: no disk access while serving.
    Embedded,
    /// A directory on disk (`--root DIR`), resolved by the model at start
    /// (absolute, no symlinks): see [`Site::directory`].
    Directory(PathBuf),
}

/// The file a request names.
#[derive(Debug)]
pub enum SiteFile {
    /// A file of the embedded site: its bytes.
    Embedded(&'static [u8]),
    /// A file on disk, by path (the root joined with the request's
    /// segments): not opened yet, and perhaps not there.
    Disk(PathBuf),
}

/// What a connection needs from the file system before it can go on; the
/// model does it and reports back (the protocol has no file system).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileWant<'a> {
    /// Open `path` for reading and report its length with
    /// [`crate::Connection::file_opened`]. Report [`FileError::NotFound`]
    /// unless it is a regular file whose real path (every symlink resolved,
    /// as the kernel sees the opened file) lies under `root`.
    Open {
        /// The file: the root joined with the request's path.
        path: &'a Path,
        /// The site's root, resolved at start.
        root: &'a Path,
    },
    /// Read at most `len` bytes at `offset` of the file opened last, and
    /// hand them over with [`crate::Connection::file_read`].
    Read {
        /// Where in the file.
        offset: u64,
        /// At most this many bytes (never 0).
        len: usize,
    },
}

/// Why a file could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    /// Not there, not a regular file, or not under the root: a 404.
    NotFound,
    /// The process has no free fd to open it with (EMFILE, ENFILE): a 503,
    /// since the file may well be there.
    OutOfFiles,
}

impl Site {
    /// A site served from `root`, which the caller has checked is a
    /// directory and resolved (absolute, every symlink resolved): the
    /// containment check compares real paths with it.
    pub fn directory(root: PathBuf) -> Site {
        Site::Directory(root)
    }

    /// The root of a `--root` site.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Site::Embedded => None,
            Site::Directory(root) => Some(root),
        }
    }

    /// The file for the decoded path segments of a request (`[]` is the
    /// root, a trailing `""` means "the directory's index.html").
    /// [`Rejection::NotFound`] for a segment no file name may have, and for
    /// a name the embedded site does not have.
    pub fn find(&self, segments: &[Vec<u8>]) -> Result<SiteFile, Rejection> {
        let mut relative = PathBuf::new();
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            if segment.is_empty() && last {
                relative.push("index.html"); // "/dir/" serves dir/index.html
            } else if is_safe_segment(segment) {
                relative.push(OsStr::from_bytes(segment));
            } else {
                return Err(Rejection::NotFound);
            }
        }
        if segments.is_empty() {
            relative.push("index.html");
        }
        match self {
            Site::Embedded => {
                let name = relative.to_str().ok_or(Rejection::NotFound)?;
                EMBEDDED
                    .iter()
                    .find(|(file, _)| *file == name)
                    .map(|(_, bytes)| SiteFile::Embedded(bytes))
                    .ok_or(Rejection::NotFound)
            }
            Site::Directory(root) => Ok(SiteFile::Disk(root.join(relative))),
        }
    }
}

/// A decoded path segment we are willing to look up: not empty, not starting
/// with `.` (which covers `.` and `..` and hidden files), and free of `/`, `\`
/// and NUL (which can only get here percent-encoded).
fn is_safe_segment(segment: &[u8]) -> bool {
    !segment.is_empty()
        && segment[0] != b'.'
        && !segment.iter().any(|&b| b == b'/' || b == b'\\' || b == 0)
}

/// The content type for a file name, by extension (docs/src/contract.md §3).
pub fn content_type(name: &[u8]) -> &'static str {
    let extension = name.rsplit(|&b| b == b'.').next().unwrap_or_default();
    match extension {
        b"txt" => "text/plain",
        b"html" => "text/html",
        b"css" => "text/css",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<Vec<u8>> {
        path.split('/')
            .skip(1)
            .map(|s| s.as_bytes().to_vec())
            .collect()
    }

    /// The embedded site has the files docs/src/contract.md §3 names, with the right content.
    #[test]
    fn embedded_site() {
        let Ok(SiteFile::Embedded(numbers)) = Site::Embedded.find(&segments("/numbers.txt")) else {
            panic!("numbers.txt missing");
        };
        assert_eq!(numbers, b"zero\none\ntwo\nthree\nfour\nfive\n");
        assert!(Site::Embedded.find(&segments("/")).is_ok());
        assert!(Site::Embedded.find(&[]).is_ok());
        assert!(Site::Embedded.find(&segments("/missing.txt")).is_err());
    }

    /// A directory site names paths under its root and refuses, before any
    /// file system, every segment that could climb out of it.
    #[test]
    fn directory_paths_stay_under_root() {
        let site = Site::directory(PathBuf::from("/srv/www"));
        let disk = |path: &str| match site.find(&segments(path)) {
            Ok(SiteFile::Disk(path)) => Some(path),
            _ => None,
        };
        assert_eq!(disk("/a.txt"), Some(PathBuf::from("/srv/www/a.txt")));
        assert_eq!(disk("/"), Some(PathBuf::from("/srv/www/index.html")));
        assert_eq!(
            disk("/sub/"),
            Some(PathBuf::from("/srv/www/sub/index.html"))
        );
        for escape in [
            "/../secret.txt",
            "/sub/../../x",
            "/.hidden",
            "/a//b",
            "/a\\b",
        ] {
            assert_eq!(disk(escape), None, "{escape}");
        }
        assert_eq!(
            site.find(&[b"a\0b".to_vec()]).map(|_| ()),
            Err(Rejection::NotFound)
        );
        assert_eq!(site.root(), Some(Path::new("/srv/www")));
        assert_eq!(Site::Embedded.root(), None);
    }

    /// Content types by extension.
    #[test]
    fn content_types() {
        assert_eq!(content_type(b"a.txt"), "text/plain");
        assert_eq!(content_type(b"index.html"), "text/html");
        assert_eq!(content_type(b"style.css"), "text/css");
        assert_eq!(content_type(b"blob"), "application/octet-stream");
        assert_eq!(content_type(b"x.tar.gz"), "application/octet-stream");
    }
}
