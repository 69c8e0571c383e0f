//! The chapter shows `diff -w async_await/src/server.rs
//! tokio_ref/src/server.rs` as it is: the committed copy,
//! `docs/src/results/tokio_ref-diff.txt`, must be what `diff` prints now.
//! After a change to either file, write it again:
//!
//! ```text
//! diff -w async_await/src/server.rs tokio_ref/src/server.rs > docs/src/results/tokio_ref-diff.txt
//! ```

use std::path::Path;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new("diff")
        .args(["-w", "async_await/src/server.rs", "tokio_ref/src/server.rs"])
        .current_dir(&root)
        .output();
    let output = match output {
        Ok(output) if output.status.code() == Some(1) => output.stdout,
        Ok(output) => {
            eprintln!("diff did not find the files different: {:?}", output.status);
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("diff: {err} (it is in diffutils)");
            return ExitCode::FAILURE;
        }
    };
    let committed = root.join("docs/src/results/tokio_ref-diff.txt");
    let committed = std::fs::read(&committed).unwrap_or_default();
    let changed = |marker: u8| {
        output
            .split(|&b| b == b'\n')
            .filter(|l| l.first() == Some(&marker))
            .count()
    };
    if committed != output {
        eprintln!(
            "docs/src/results/tokio_ref-diff.txt is not what diff -w prints now; write it again with\n\
             diff -w async_await/src/server.rs tokio_ref/src/server.rs > docs/src/results/tokio_ref-diff.txt"
        );
        return ExitCode::FAILURE;
    }
    println!(
        "ok: the chapter's diff is current ({} lines out of async_await's server, {} in)",
        changed(b'<'),
        changed(b'>')
    );
    ExitCode::SUCCESS
}
