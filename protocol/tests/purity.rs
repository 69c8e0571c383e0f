//! The protocol crate stays sans-IO: no `unsafe`, no clock read, no socket,
//! no file system (a `--root` file is opened and read by the model).
//! This reads its own sources, so a change that breaks the rule fails here.

use std::path::Path;

/// Things that must not appear in `protocol/src`: each would mean the crate
/// reads a clock, opens a socket, touches the file system, or contains
/// unsafe code.
const FORBIDDEN: &[&str] = &[
    "Instant::now",
    "SystemTime",
    "std::net",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "unsafe ",
    "unsafe{",
    "thread::sleep",
    "std::fs",
    "fs::File",
    "File::open",
    "File::create",
    "OpenOptions",
    "canonicalize",
    "read_dir",
    "metadata(",
    "std::io::Read",
    "io::Read",
];

#[test]
fn protocol_sources_read_no_clock_and_open_no_socket_or_file() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for word in FORBIDDEN {
                    assert!(
                        !code.contains(word),
                        "{}:{}: `{word}` in {line:?}",
                        path.display(),
                        number + 1
                    );
                }
            }
        }
    }
    assert!(
        files >= 8,
        "found only {files} source files in {}",
        src.display()
    );
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        lib.contains("#![forbid(unsafe_code)]"),
        "lib.rs must forbid unsafe code"
    );
}
