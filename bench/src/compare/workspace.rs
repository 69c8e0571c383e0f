//! The workspace as `cargo metadata` describes it, building its binaries,
//! and the forking chapter's measurement of a fork against a thread.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::pin;
use super::record::Spawn;

/// What `cargo metadata` says of the workspace.
pub struct Workspace {
    /// Every binary target but `bench`'s.
    pub binaries: Vec<String>,
    /// Where their release builds land.
    pub bin_dir: PathBuf,
    /// cargo's target directory: where a run writes unless told otherwise.
    pub target_dir: PathBuf,
    /// The repository (for `bench/nginx/nginx.sh`).
    pub root: PathBuf,
}

impl Workspace {
    /// The book's results directory, which a run writes only when asked
    /// (`--book`), wherever it is run from.
    pub fn results(&self) -> PathBuf {
        self.root.join("docs/src/results")
    }

    /// Where a run writes: the book's results with `book`, otherwise
    /// `target/NAME`, so that a reader's run never rewrites the book.
    pub fn out(&self, book: bool, name: &str) -> PathBuf {
        match book {
            true => self.results(),
            false => self.target_dir.join(name),
        }
    }
}

/// Every binary target of the workspace but `bench`, with the directory
/// its release build lands in: from `cargo metadata` of the workspace this
/// bench was built in, wherever it is run from (or of the directory it is
/// run in, if that workspace is gone).
pub fn workspace() -> io::Result<Workspace> {
    let output = cargo_command()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other("cargo metadata failed"));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(io::Error::other)?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| io::Error::other("cargo metadata: no target_directory"))?;
    let mut binaries = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        if package["name"] == "bench" {
            continue;
        }
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bin = target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
            if let (true, Some(name)) = (is_bin, target["name"].as_str()) {
                binaries.push(name.to_string());
            }
        }
    }
    let root = metadata["workspace_root"]
        .as_str()
        .ok_or_else(|| io::Error::other("cargo metadata: no workspace_root"))?;
    Ok(Workspace {
        binaries,
        bin_dir: Path::new(target_dir).join("release"),
        target_dir: PathBuf::from(target_dir),
        root: PathBuf::from(root),
    })
}

/// The forking chapter's measurement apart: what a new process costs next
/// to a new thread (`cargo run --release -p forking --example spawn_cost --
/// --json`), pinned to CPU 0 like the servers. Its JSON object, as printed.
pub fn spawn_cost() -> io::Result<Spawn> {
    let mut child = cargo_command()
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "forking",
            "--example",
            "spawn_cost",
        ])
        .args(["--", "--json"])
        .stdout(Stdio::piped())
        .spawn()?;
    // cargo builds, then runs the example as its child: pin the example
    // once it is there (its forks and threads inherit the pin).
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        let tree = loadgen::procfs::tree(child.id());
        if let Some(&example) = tree.get(1) {
            for thread in loadgen::procfs::threads(example) {
                pin(thread, 0);
            }
            break;
        }
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!("spawn_cost: {}", output.status)));
    }
    serde_json::from_slice(&output.stdout).map_err(io::Error::other)
}

/// Builds every server's `targets` (`--bins`, or `--examples` for the
/// cores) in release mode; cargo skips what is fresh.
pub fn build(targets: &str) -> io::Result<()> {
    let status = cargo_command()
        .args([
            "build",
            "--release",
            "--workspace",
            "--exclude",
            "bench",
            targets,
        ])
        .status()?;
    match status.success() {
        true => Ok(()),
        false => Err(io::Error::other("cargo build failed")),
    }
}

/// The cargo that runs us (`CARGO` under `cargo run`), or `cargo`, in the
/// workspace this bench was built in, wherever it is run from (or in the
/// directory it is run in, if that workspace is gone).
fn cargo_command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built_in.join("Cargo.toml").exists() {
        command.current_dir(built_in);
    }
    command
}
