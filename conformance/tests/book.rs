//! The book checked without mdBook: every chapter SUMMARY.md lists exists,
//! every `{{#include}}` names a file and an anchor that exist, every
//! relative link and image leads somewhere, and no "What it costs" section
//! types a figure that a run produced, and every exercise has a solution
//! (a code exercise, its patch under docs/solutions). The rules live in one place,
//! `docs/check-book.py`, which is also the preprocessor that fails
//! `mdbook build docs`; this test runs its `check` mode on the real book,
//! and on a broken one to show that each fault is caught.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root: this crate's parent.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance/ sits in the workspace")
        .to_path_buf()
}

/// `python3 docs/check-book.py check SRC`.
fn check(src: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("docs/check-book.py"))
        .arg("check")
        .arg(src)
        .output()
        .expect("python3 runs (.ci/run installs it)")
}

/// The book in docs/src has no missing chapter, anchor or link.
#[test]
fn the_book_has_no_missing_chapter_anchor_or_link() {
    let output = check(&root().join("docs/src"));
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A book with one of each fault: the check names every one and fails.
#[test]
fn each_kind_of_fault_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    write(
        "SUMMARY.md",
        "# Summary\n\n- [A](a.md)\n- [Gone](gone.md)\n",
    );
    write(
        "code.rs",
        "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n// ANCHOR: open\n",
    );
    write(
        "a.md",
        "# A\n\n## Where it blocks\n\n\
         {{#include code.rs:here}}\n{{#include code.rs:not_here}}\n\
         {{#include code.rs:open}}\n{{#include code.rs:1:3}}\n{{#include nofile.rs}}\n\
         [fine](a.md#where-it-blocks) [dead](b.md) [no heading](a.md#nowhere)\n\
         ![no picture](pic.svg) [web](https://example.com/x.md)\n\
         `[in code](c.md)`\n\n\
         ## What it costs\n\n\
         It answered 118,000 req/s, 1.63× epoll.\n\
         Half a second, `/delay/500`, `--stack-size 8192`, ten sleepers: parameters.\n\n\
         ## Try it\n\nOutside the section 12 ms is not checked.\n\n\
         ## Exercises\n\n1. Read it.\n2. **Change the code:** break it.\n\n\
         ### Solutions\n\n<details>\n<summary>Solution to exercise 1</summary>\n\n\
         Read.\n\n</details>\n",
    );
    let output = check(src);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{text}");
    for fault in [
        "SUMMARY.md: no chapter gone.md",
        "no `ANCHOR: not_here`",
        "no `ANCHOR_END: open`",
        "line numbers drift",
        "nofile.rs",
        "link b.md: no file",
        "link a.md#nowhere: no heading #nowhere",
        "link pic.svg: no file",
        "a typed figure '118,000 req/s' in What it costs",
        "a typed figure '1.63×' in What it costs",
        "exercises [1, 2], but solutions for [1]",
        "exercise 2 changes the code, and docs/solutions/a-2.patch does not exist",
    ] {
        assert!(text.contains(fault), "missing {fault:?} in:\n{text}");
    }
    // What is fine is not reported: the anchor that exists, the heading
    // that exists, a web link, a link inside code, a parameter written as
    // code or in words, a figure outside "What it costs".
    assert_eq!(text.lines().count(), 12, "{text}");
}

/// The headings every model chapter has, in this order: the same skeleton
/// for every model, so two chapters can be read side by side.
const HEADINGS: [&str; 7] = [
    "## The idea in one picture",
    "## Where it blocks",
    "## The code",
    "## What it costs",
    "## Try it",
    "## Pitfalls",
    "## Exercises",
];

/// Every binary of the workspace but `bench`, from `cargo metadata`.
fn binaries() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut binaries = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            let is_bin = target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "bin");
            let name = target["name"].as_str().unwrap();
            if is_bin && name != "bench" {
                binaries.push(name.to_string());
            }
        }
    }
    binaries
}

/// Every server binary has its chapter, `docs/src/BINARY.md`, listed in
/// SUMMARY.md, with every heading of the skeleton in order (a chapter may
/// add its own in between), and its cost tables (what a request costs, and
/// the scenarios) and `strace` walk included.
#[test]
fn every_binary_has_a_chapter_with_every_heading() {
    let src = root().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let binaries = binaries();
    assert!(binaries.len() >= 12, "{binaries:?}");
    for binary in binaries {
        let chapter = format!("{binary}.md");
        assert!(
            summary.contains(&format!("]({chapter})")),
            "SUMMARY.md does not list {chapter}"
        );
        let text = std::fs::read_to_string(src.join(&chapter))
            .unwrap_or_else(|e| panic!("{binary} has no chapter {chapter}: {e}"));
        let mut from = 0;
        for heading in HEADINGS {
            let at = text[from..]
                .find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| {
                    panic!("{chapter}: no `{heading}` after the headings before it")
                });
            from += at + heading.len();
        }
        for include in [
            format!("{{{{#include results/chapters.md:{binary}-costs}}}}"),
            format!("{{{{#include results/chapters.md:{binary}}}}}"),
            format!("{{{{#include walks/{binary}.txt}}}}"),
        ] {
            assert!(
                text.contains(&include),
                "{chapter} does not include {include}"
            );
        }
    }
}
