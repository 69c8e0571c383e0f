//! Where files come from: the default site embedded in the binary, or a
//! directory given with `--root`, and the path rules that keep every request
//! inside it.
//!
//! Guarantee: [`Site::open`] only ever returns a file that lies under the root
//! after every symlink is resolved. A path with a `.`-led segment (`..`, `.`,
//! hidden files), an encoded `/` or `\`, a NUL, or an empty segment is refused
//! before the file system is asked at all; what is left is checked once more by
//! comparing the fully resolved path with the resolved root.

use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::Rejection;

/// `errno` when a process has no free file descriptor, and when the whole
/// system has none (Linux's values; `protocol` has no libc dependency).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

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
    /// A directory on disk (`--root DIR`), stored resolved (no symlinks, absolute).
    Directory(PathBuf),
}

/// An opened file, ready to be streamed as a response body.
#[derive(Debug)]
pub enum SiteFile {
    /// A file of the embedded site.
    Embedded(&'static [u8]),
    /// A file on disk and its length when it was opened.
    Disk(File, u64),
}

impl SiteFile {
    /// The body length to announce in `Content-Length`.
    pub fn len(&self) -> u64 {
        match self {
            SiteFile::Embedded(bytes) => bytes.len() as u64,
            SiteFile::Disk(_, len) => *len,
        }
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Site {
    /// A site served from `root`, which must be an existing directory.
    pub fn directory(root: &Path) -> io::Result<Site> {
        let resolved = root.canonicalize()?;
        if !resolved.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Site::Directory(resolved))
    }

    /// Opens the file for the decoded path segments of a request (`[]` is the
    /// root, a trailing `""` means "the directory's index.html").
    /// [`Rejection::NotFound`] for anything that is not a regular file under
    /// the root; [`Rejection::OutOfFiles`] when the file may well be there
    /// but the process has no fd to open it with.
    pub fn open(&self, segments: &[Vec<u8>]) -> Result<SiteFile, Rejection> {
        self.find(segments).map_err(|err| match err.raw_os_error() {
            Some(EMFILE | ENFILE) => Rejection::OutOfFiles,
            _ => Rejection::NotFound,
        })
    }

    /// [`Site::open`], with the reason a file was not opened.
    fn find(&self, segments: &[Vec<u8>]) -> io::Result<SiteFile> {
        let not_found = || io::Error::from(io::ErrorKind::NotFound);
        let mut relative = PathBuf::new();
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            if segment.is_empty() && last {
                relative.push("index.html"); // "/dir/" serves dir/index.html
            } else if is_safe_segment(segment) {
                relative.push(std::ffi::OsStr::from_bytes(segment));
            } else {
                return Err(not_found());
            }
        }
        if segments.is_empty() {
            relative.push("index.html");
        }
        match self {
            Site::Embedded => {
                let name = relative.to_str().ok_or_else(not_found)?;
                let (_, bytes) = EMBEDDED
                    .iter()
                    .find(|(file, _)| *file == name)
                    .ok_or_else(not_found)?;
                Ok(SiteFile::Embedded(bytes))
            }
            Site::Directory(root) => {
                // Resolve every symlink, then insist the result is still under the root.
                let resolved = root.join(&relative).canonicalize()?;
                if !resolved.starts_with(root) {
                    return Err(not_found());
                }
                // The one step that needs a free fd: EMFILE shows up here.
                let file = File::open(&resolved)?;
                let metadata = file.metadata()?;
                match metadata.is_file() {
                    true => Ok(SiteFile::Disk(file, metadata.len())),
                    false => Err(not_found()),
                }
            }
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
        let Ok(SiteFile::Embedded(numbers)) = Site::Embedded.open(&segments("/numbers.txt")) else {
            panic!("numbers.txt missing");
        };
        assert_eq!(numbers, b"zero\none\ntwo\nthree\nfour\nfive\n");
        assert!(Site::Embedded.open(&segments("/")).is_ok());
        assert!(Site::Embedded.open(&[]).is_ok());
        assert!(Site::Embedded.open(&segments("/missing.txt")).is_err());
    }

    /// Symlinks inside the root are followed; a symlink out of it is refused.
    #[test]
    fn symlinks_stay_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("in.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        let site = Site::directory(&root).unwrap();
        assert!(site.open(&segments("/a.txt")).is_ok());
        assert!(site.open(&segments("/in.txt")).is_ok());
        assert!(site.open(&segments("/out.txt")).is_err());
        assert!(site.open(&segments("/up/secret.txt")).is_err());
        assert!(site.open(&segments("/../secret.txt")).is_err());
        assert!(site.open(&segments("/")).is_err(), "no index.html there");
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
