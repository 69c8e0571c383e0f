//! The book checked without mdBook: every chapter SUMMARY.md lists exists,
//! every `{{#include}}` names a file and an anchor that exist, every
//! relative link and image leads somewhere, and no "What it costs" section
//! types a figure that a run produced, every exercise has a solution
//! (a code exercise, its patch under docs/solutions), every included table
//! has a caption and renders as a table, and every lesson fits a sitting
//! and has its three self-check questions. The rules live in one place,
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

/// A course with one of each fault of a lesson: the check names every one
/// and fails. (Words are counted as rendered: with includes resolved, code
/// and tables counted.)
#[test]
fn each_kind_of_lesson_fault_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    let words = |n: usize| "word ".repeat(n);
    let answer = "   <details><summary>Answer</summary>\n\n   Yes.\n\n   </details>\n\n";
    write(
        "SUMMARY.md",
        "# Summary\n\n[Start here](start-here.md)\n\n# Lessons\n\n- [L](l.md)\n- [M](m.md)\n\n\
         # Reference\n\n- [L, the reference](l-reference.md)\n",
    );
    write("start-here.md", &format!("# Start\n\n{}\n", words(1600)));
    write(
        "table.md",
        "<!-- ANCHOR: tab -->\n| a | b |\n| --- | --- |\n| 1 | 2 |\n<!-- ANCHOR_END: tab -->\n",
    );
    write(
        "l.md",
        &format!(
            "# L\n\n{}\n\n\
             *Table: a captioned table, as it should be.*\n\n{{{{#include table.md:tab}}}}\n\n\
             A paragraph, then a table with no caption:\n\n{{{{#include table.md:tab}}}}\n\n\
             - a list item holding a table, rendered as text:\n  {{{{#include table.md:tab}}}}\n\n\
             *Table: no blank line after.*\n\n{{{{#include table.md:tab}}}}\nThe text goes on.\n\n\
             ## Check yourself\n\n1. One?\n\n{answer}2. Two?\n\n{answer}\
             ## Exercises\n\n1. Read it.\n2. Read it again.\n",
            words(2600)
        ),
    );
    write(
        "l-reference.md",
        "# L, the reference\n\n## Solutions\n\n<details>\n<summary>Solution to exercise 1</summary>\n\n\
         Read.\n\n</details>\n",
    );
    write(
        "m.md",
        &format!(
            "# M\n\n{}\n\n## Check yourself\n\n1. One?\n\n{answer}2. Two?\n\n{answer}3. Three?\n\n{answer}",
            words(27000)
        ),
    );
    let output = check(src);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{text}");
    for fault in [
        "start-here.md: 1,601 rendered words, over the 1,500 of a sitting",
        "l.md: 2,6",
        "m.md: 27,0",
        "l.md: 2 self-check question(s) and 2 answer(s)",
        "Start here and the lessons: 3",
        "over the course's 30,000",
        "l.md: {{#include table.md:tab}}: no caption",
        "l.md: {{#include table.md:tab}}: a table include stands alone at the start of its line",
        "l.md: {{#include table.md:tab}}: a table include needs a blank line before and after",
        "l.md: exercises [1, 2], but solutions for [1] in l-reference.md",
    ] {
        assert!(text.contains(fault), "missing {fault:?} in:\n{text}");
    }
    // The captioned table and M's three questions are not reported.
    assert_eq!(text.lines().count(), 9, "{text}");
}

/// The headings every model's lesson has, in this order: the same skeleton
/// for every model, so two lessons can be read side by side.
const LESSON: [&str; 8] = [
    "## The idea in one picture",
    "## The core",
    "## What the kernel does",
    "## Try it",
    "## What it costs",
    "## Check yourself",
    "## Exercises",
    "## Going further",
];

/// The headings of every model's reference page, in this order: what the
/// lesson leaves out, nothing measured lost.
const REFERENCE: [&str; 6] = [
    "## The real server",
    "## What the core leaves out",
    "## What it costs, in full",
    "## The strace walk",
    "## Pitfalls",
    "## Solutions",
];

/// `headings` appear in `text` in this order (a page may add its own in
/// between).
fn assert_headings(page: &str, text: &str, headings: &[&str]) {
    let mut from = 0;
    for heading in headings {
        let at = text[from..]
            .find(&format!("\n{heading}\n"))
            .unwrap_or_else(|| panic!("{page}: no `{heading}` after the headings before it"));
        from += at + heading.len();
    }
}

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

/// Every server binary has its lesson, `docs/src/BINARY.md`, listed in
/// SUMMARY.md under the lessons, with every heading of the skeleton in
/// order and its core included; and its reference page,
/// `docs/src/BINARY-reference.md`, listed too, with its headings, its cost
/// tables (what a request costs, and the scenarios), what the core leaves
/// out, and its `strace` walk.
#[test]
fn every_binary_has_a_lesson_and_a_reference_page() {
    let src = root().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let lessons = summary
        .split("\n# Lessons\n")
        .nth(1)
        .expect("SUMMARY.md has a `# Lessons` part")
        .split("\n# ")
        .next()
        .unwrap();
    let binaries = binaries();
    assert!(binaries.len() >= 12, "{binaries:?}");
    for binary in binaries {
        let lesson = format!("{binary}.md");
        assert!(
            lessons.contains(&format!("]({lesson})")),
            "SUMMARY.md does not list {lesson} under `# Lessons`"
        );
        let text = std::fs::read_to_string(src.join(&lesson))
            .unwrap_or_else(|e| panic!("{binary} has no lesson {lesson}: {e}"));
        assert_headings(&lesson, &text, &LESSON);
        let core = format!("/examples/{}_core.rs}}}}", binary.replace('-', "_"));
        assert!(
            binary == "tokio_ref" || text.contains(&core),
            "{lesson} does not include its core (…{core})"
        );
        let reference = format!("{binary}-reference.md");
        assert!(
            summary.contains(&format!("]({reference})")),
            "SUMMARY.md does not list {reference}"
        );
        let text = std::fs::read_to_string(src.join(&reference))
            .unwrap_or_else(|e| panic!("{binary} has no reference page {reference}: {e}"));
        // tokio_ref has no core: tokio is what the others are measured against.
        let headings: Vec<&str> = REFERENCE
            .into_iter()
            .filter(|h| binary != "tokio_ref" || !h.contains("core"))
            .collect();
        assert_headings(&reference, &text, &headings);
        for include in [
            format!("{{{{#include results/chapters.md:{binary}-costs}}}}"),
            format!("{{{{#include results/chapters.md:{binary}}}}}"),
            format!("{{{{#include walks/{binary}.txt}}}}"),
        ] {
            assert!(
                text.contains(&include),
                "{reference} does not include {include}"
            );
        }
    }
}
