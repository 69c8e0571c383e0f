//! Every command the book prints runs as written.
//!
//! The commands are the `$ ` lines of the book's code blocks and the inline
//! code spans that start like a command (`bench load …`, `cargo run …`,
//! `epoll --workers 2`). Each is split at `|`, `&&`, `;` and `&`, its
//! wrappers (`taskset -c 1`, `strace -c -f`, `prlimit --nofile=64:64`,
//! `perf stat … --`, `time`) taken off, and then checked by what it runs:
//!
//! - `bench …` (or `target/release/bench`, or `cargo run -p bench -- …`):
//!   parsed by bench's own parser, [`bench::cli::Cli`], which refuses a
//!   `load` or `hold` without a full `http://HOST:PORT/PATH`;
//! - a server (`epoll …`, `target/release/epoll …`, `cargo run -p epoll --
//!   …`): parsed by that server's own parser (`epoll::Args`), so every flag
//!   exists on the server it is given to, with a value it takes;
//! - `cargo run|test|build|bench`: the package exists, and so do the binary
//!   (`--bin`, or the package's default one), the example (`--example`) and
//!   the test target (`--test`) it names.
//!
//! The book writes placeholders in capitals (`bench hold URL -n N --pid
//! PID`); each is replaced by a sample value before parsing. A command the
//! student cannot run as written (`bench hold … -n 1000`) is a fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;

/// The workspace's root: bench's parent.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ sits in the workspace")
        .to_path_buf()
}

/// What `cargo metadata` says the workspace builds.
struct Workspace {
    /// Package name → its targets, as (kind, name): ("bin", "epoll-mio").
    packages: BTreeMap<String, Vec<(String, String)>>,
    /// Package name → its `default-run`, where it has one.
    default_run: BTreeMap<String, String>,
}

impl Workspace {
    fn load() -> Workspace {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .current_dir(root())
            .output()
            .expect("cargo metadata runs");
        assert!(output.status.success(), "cargo metadata failed");
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut packages = BTreeMap::new();
        let mut default_run = BTreeMap::new();
        for package in metadata["packages"].as_array().unwrap() {
            let name = package["name"].as_str().unwrap().to_string();
            let mut targets = Vec::new();
            for target in package["targets"].as_array().unwrap() {
                for kind in target["kind"].as_array().unwrap() {
                    targets.push((
                        kind.as_str().unwrap().to_string(),
                        target["name"].as_str().unwrap().to_string(),
                    ));
                }
            }
            if let Some(run) = package["default_run"].as_str() {
                default_run.insert(name.clone(), run.to_string());
            }
            packages.insert(name, targets);
        }
        Workspace {
            packages,
            default_run,
        }
    }

    fn has(&self, package: &str, kind: &str, name: &str) -> bool {
        self.packages[package]
            .iter()
            .any(|(k, n)| k == kind && n == name)
    }

    /// The binary `cargo run -p package` runs: its `default-run`, or its
    /// only binary.
    fn default_bin(&self, package: &str) -> Result<String, String> {
        if let Some(run) = self.default_run.get(package) {
            return Ok(run.clone());
        }
        let bins: Vec<_> = self.packages[package]
            .iter()
            .filter(|(kind, _)| kind == "bin")
            .map(|(_, name)| name.clone())
            .collect();
        match bins.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("package `{package}` has no binary")),
            _ => Err(format!(
                "package `{package}` has several binaries and no default-run: name one with --bin"
            )),
        }
    }

    /// Every server binary: the binaries of every package but bench.
    fn is_server(&self, name: &str) -> bool {
        self.packages
            .iter()
            .filter(|(package, _)| *package != "bench")
            .any(|(_, targets)| targets.iter().any(|(k, n)| k == "bin" && n == name))
    }
}

/// Parses `args` (without the program name) with the named server's own
/// parser.
fn parse_server(bin: &str, args: &[String]) -> Result<(), String> {
    let argv = std::iter::once(bin.to_string()).chain(args.iter().cloned());
    let parsed = match bin {
        "blocking" => blocking::Args::try_parse_from(argv).map(drop),
        "forking" => forking::Args::try_parse_from(argv).map(drop),
        "threaded" => threaded::Args::try_parse_from(argv).map(drop),
        "nonblocking" => nonblocking::Args::try_parse_from(argv).map(drop),
        "select" => select::Args::try_parse_from(argv).map(drop),
        "poll" => select::PollArgs::try_parse_from(argv).map(drop),
        "epoll" => epoll::Args::try_parse_from(argv).map(drop),
        "epoll-mio" => epoll::MioArgs::try_parse_from(argv).map(drop),
        "signal_driven" => signal_driven::Args::try_parse_from(argv).map(drop),
        "coroutine" => coroutine::Args::try_parse_from(argv).map(drop),
        "async_await" => async_await::Args::try_parse_from(argv).map(drop),
        "uring" => uring::Args::try_parse_from(argv).map(drop),
        "tokio_ref" => tokio_ref::Args::try_parse_from(argv).map(drop),
        other => return Err(format!("no parser known for server `{other}` in this test")),
    };
    parsed.map_err(first_line)
}

/// Parses `args` (without the program name) with bench's own parser.
fn parse_bench(args: &[String]) -> Result<(), String> {
    let argv = std::iter::once("bench".to_string()).chain(args.iter().cloned());
    bench::cli::Cli::try_parse_from(argv)
        .map(drop)
        .map_err(first_line)
}

/// clap's error, first line only (`--help` and `--version` are fine).
fn first_line(err: clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return String::new();
    }
    err.to_string().lines().next().unwrap_or("").to_string()
}

/// A command found in a chapter, with where it was found.
#[derive(Debug)]
struct Found {
    chapter: String,
    line: usize,
    text: String,
}

/// Placeholders the book writes in capitals, and the sample value each
/// stands for when the command is parsed.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("URL", "http://127.0.0.1:7007/numbers.txt"),
    ("ADDR", "127.0.0.1:7107"),
    ("HOST:PORT", "127.0.0.1:7007"),
    ("PID", "12345"),
    ("N", "10"),
    ("S", "5"),
    ("B", "128"),
    ("K", "2"),
    ("R", "1000"),
    ("DIR", "/tmp/out"),
    ("PORT", "7007"),
    ("FILE", "/tmp/file"),
    ("BYTES", "65536"),
];

/// Words an inline code span starts with when it is a command.
fn starts_like_a_command(span: &str, workspace: &Workspace) -> bool {
    let first = span.split_whitespace().next().unwrap_or("");
    let second = span.split_whitespace().nth(1).unwrap_or("");
    match first {
        // `bench hold` alone names a mode, `bench RSS` a column: a command
        // has a mode and something after it.
        "bench" => {
            const MODES: &[&str] = &["load", "echo", "hold", "compare", "cores", "timeline"];
            (MODES.contains(&second) && span.split_whitespace().count() > 2)
                || second.starts_with('-')
        }
        "cargo" => !second.is_empty(),
        _ if first.starts_with("target/release/") || first.starts_with("target/debug/") => true,
        _ => workspace.is_server(first) && second.starts_with('-'),
    }
}

/// The commands of one chapter: `$ ` lines in code blocks (with their `\`
/// continuations), and inline code spans that start like a command.
fn commands(chapter: &str, text: &str, workspace: &Workspace) -> Vec<Found> {
    let mut found = Vec::new();
    let mut in_fence = false;
    let mut pending: Option<Found> = None;
    // Inline spans may wrap across lines: gather the prose of a paragraph.
    let mut prose = String::new();
    let mut prose_start = 0;
    let flush_prose = |prose: &mut String, start: usize, found: &mut Vec<Found>| {
        for (offset, span) in inline_spans(prose) {
            let span = span.split_whitespace().collect::<Vec<_>>().join(" ");
            if starts_like_a_command(&span, workspace) {
                found.push(Found {
                    chapter: chapter.to_string(),
                    line: start + prose[..offset].matches('\n').count(),
                    text: span,
                });
            }
        }
        prose.clear();
    };
    for (k, line) in text.lines().enumerate() {
        let number = k + 1;
        if line.trim_start().starts_with("```") {
            flush_prose(&mut prose, prose_start, &mut found);
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            if let Some(mut open) = pending.take() {
                open.text.push(' ');
                open.text.push_str(line.trim());
                match open.text.strip_suffix('\\') {
                    Some(rest) => {
                        open.text = rest.trim_end().to_string();
                        pending = Some(open);
                    }
                    None => found.push(open),
                }
                continue;
            }
            if let Some(command) = line.strip_prefix("$ ") {
                let command = strip_comment(command).trim().to_string();
                match command.strip_suffix('\\') {
                    Some(rest) => {
                        pending = Some(Found {
                            chapter: chapter.to_string(),
                            line: number,
                            text: rest.trim_end().to_string(),
                        })
                    }
                    None => found.push(Found {
                        chapter: chapter.to_string(),
                        line: number,
                        text: command,
                    }),
                }
            }
            continue;
        }
        if line.trim().is_empty() {
            flush_prose(&mut prose, prose_start, &mut found);
            continue;
        }
        if prose.is_empty() {
            prose_start = number;
        }
        prose.push_str(line);
        prose.push('\n');
    }
    flush_prose(&mut prose, prose_start, &mut found);
    found
}

/// The inline code spans of a paragraph (single backticks), each with
/// its offset in the paragraph.
fn inline_spans(prose: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(open) = prose[at..].find('`') {
        let start = at + open + 1;
        let Some(close) = prose[start..].find('`') else {
            break;
        };
        spans.push((start, &prose[start..start + close]));
        at = start + close + 1;
    }
    spans
}

/// A `$ ` line without its trailing `# comment` (a `#` after whitespace,
/// outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

/// Splits a shell line into words and the operators `|`, `||`, `&&`, `;`,
/// `&`, with quotes removed; `$(…)` and `<(…)` stay one word.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars().peekable();
    let mut depth = 0;
    let push = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '(' if word.ends_with('$') || word.ends_with('<') || depth > 0 => {
                depth += 1;
                word.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                word.push(c);
            }
            _ if depth > 0 => word.push(c),
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => word.extend(chars.next()),
            ' ' | '\t' => push(&mut word, &mut words),
            '|' | ';' => {
                push(&mut word, &mut words);
                if chars.peek() == Some(&'|') {
                    chars.next();
                }
                words.push(c.to_string());
            }
            '&' if word.ends_with('>') => word.push(c),
            '&' => {
                push(&mut word, &mut words);
                if chars.peek() == Some(&'&') {
                    chars.next();
                }
                words.push("&".to_string());
            }
            _ => word.push(c),
        }
    }
    push(&mut word, &mut words);
    words
}

/// The simple commands of a line: split at the operators, redirections
/// dropped, placeholders replaced.
fn simple_commands(line: &str) -> Vec<Vec<String>> {
    let mut commands = vec![Vec::new()];
    let mut words = shell_words(line).into_iter();
    while let Some(word) = words.next() {
        if matches!(word.as_str(), "|" | ";" | "&") {
            commands.push(Vec::new());
            continue;
        }
        // `2>&1`, `>/dev/null`, `> out`: a redirection, not an argument.
        let redirect = word.trim_start_matches(|c: char| c.is_ascii_digit());
        if redirect.starts_with('>') || redirect.starts_with('<') {
            if redirect == ">" || redirect == "<" || redirect == ">>" {
                words.next();
            }
            continue;
        }
        let word = PLACEHOLDERS
            .iter()
            .find(|(name, _)| *name == word)
            .map_or(word.clone(), |(_, value)| value.to_string());
        commands.last_mut().unwrap().push(word);
    }
    commands.retain(|c| !c.is_empty());
    commands
}

/// The command a wrapper runs: `time X`, `taskset -c 1 X`, `prlimit
/// --nofile=64:64 X`, `strace -f -c X`, `perf stat -e E -- X`, `VAR=1 X`.
fn unwrap(mut words: &[String]) -> &[String] {
    loop {
        let Some(first) = words.first() else {
            return words;
        };
        let rest = &words[1..];
        let first = first.as_str();
        // Options of a wrapper, and how many values each takes.
        let skip_options = |rest: &[String], with_value: &[&str]| -> usize {
            let mut k = 0;
            while k < rest.len() && rest[k].starts_with('-') {
                if rest[k] == "--" {
                    return k + 1;
                }
                k += if with_value.contains(&rest[k].as_str()) {
                    2
                } else {
                    1
                };
            }
            k
        };
        words = match first {
            "time" | "sudo" | "nohup" | "command" | "exec" => rest,
            // `taskset -c LIST X` or `taskset MASK X`.
            "taskset" if rest.first().is_some_and(|w| w == "-c") => rest.get(2..).unwrap_or(&[]),
            "taskset" => rest.get(1..).unwrap_or(&[]),
            "prlimit" => &rest[skip_options(rest, &[])..],
            "strace" => {
                &rest[skip_options(rest, &["-e", "-o", "-p", "-s", "-E", "-P", "-U", "-S"])..]
            }
            "perf"
                if rest
                    .first()
                    .is_some_and(|w| w == "stat" || w == "record" || w == "trace") =>
            {
                &rest[1 + skip_options(
                    &rest[1..],
                    &["-e", "-p", "-t", "-o", "-C", "-r", "-I", "-F", "-g"],
                )..]
            }
            _ if first.contains('=') && !first.starts_with('-') => rest,
            _ => return words,
        };
    }
}

/// Checks one simple command; `Err` says what is wrong with it.
fn check(words: &[String], workspace: &Workspace) -> Result<(), String> {
    // Words the shell reads as its own before any PATH lookup.
    if words.first().is_some_and(|w| w == "select") {
        return Err("`select` is a bash keyword: write `command select …`".into());
    }
    let words = unwrap(words);
    let Some(program) = words.first() else {
        return Ok(());
    };
    let args = &words[1..];
    if args.iter().any(|w| w == "…" || w == "...") {
        return Err("`…` stands for something the command does not say".into());
    }
    let program = program
        .strip_prefix("target/release/")
        .or_else(|| program.strip_prefix("target/debug/"))
        .unwrap_or(program);
    match program {
        "bench" => parse_bench(args),
        "cargo" => check_cargo(args, workspace),
        _ if workspace.is_server(program) => parse_server(program, args),
        _ => Ok(()),
    }
}

/// `cargo run|test|build|bench` in the workspace.
fn check_cargo(args: &[String], workspace: &Workspace) -> Result<(), String> {
    let Some(sub) = args.first() else {
        return Ok(());
    };
    if !matches!(sub.as_str(), "run" | "test" | "build" | "bench" | "clippy") {
        return Ok(());
    }
    let (ours, theirs) = match args.iter().position(|w| w == "--") {
        Some(k) => (&args[1..k], Some(&args[k + 1..])),
        None => (&args[1..], None),
    };
    let value = |flag: &str, short: Option<&str>| {
        ours.iter()
            .position(|w| w == flag || Some(w.as_str()) == short)
            .and_then(|k| ours.get(k + 1))
            .cloned()
    };
    let package = value("--package", Some("-p"));
    if let Some(package) = &package
        && !workspace.packages.contains_key(package)
    {
        return Err(format!("no package `{package}` in the workspace"));
    }
    if sub != "run" {
        for (flag, kind) in [
            ("--test", "test"),
            ("--bench", "bench"),
            ("--example", "example"),
            ("--bin", "bin"),
        ] {
            if let (Some(name), Some(package)) = (value(flag, None), &package)
                && !workspace.has(package, kind, &name)
            {
                return Err(format!("package `{package}` has no {kind} target `{name}`"));
            }
        }
        return Ok(());
    }
    let package = package.ok_or("`cargo run` without `-p`: say which package")?;
    if let Some(example) = value("--example", None) {
        return match workspace.has(&package, "example", &example) {
            true => Ok(()),
            false => Err(format!("package `{package}` has no example `{example}`")),
        };
    }
    let bin = match value("--bin", None) {
        Some(bin) if workspace.has(&package, "bin", &bin) => bin,
        Some(bin) => return Err(format!("package `{package}` has no binary `{bin}`")),
        None => workspace.default_bin(&package)?,
    };
    let theirs = theirs.unwrap_or(&[]);
    match bin.as_str() {
        "bench" => parse_bench(theirs),
        _ if workspace.is_server(&bin) => parse_server(&bin, theirs),
        _ => Ok(()),
    }
}

/// Every fault of every command in the chapters of `dir`, one line each.
fn faults(dir: &Path, workspace: &Workspace) -> (usize, Vec<String>) {
    let mut chapters: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    let mut checked = 0;
    let mut faults = Vec::new();
    for path in chapters {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for found in commands(&name, &text, workspace) {
            for words in simple_commands(&found.text) {
                checked += 1;
                if let Err(why) = check(&words, workspace) {
                    faults.push(format!(
                        "{}:{}: `{}`: {why}",
                        found.chapter, found.line, found.text
                    ));
                }
            }
        }
    }
    (checked, faults)
}

/// Every command of the book parses, with the parser of what it runs.
#[test]
fn every_command_in_the_book_runs_as_written() {
    let workspace = Workspace::load();
    let (checked, faults) = faults(&root().join("docs/src"), &workspace);
    assert!(faults.is_empty(), "{}", faults.join("\n"));
    // The book has well over a hundred commands; finding few means the
    // extraction broke, and a check of nothing would pass.
    assert!(checked >= 150, "only {checked} commands found in the book");
}

/// A chapter with one of each fault: each is named, and nothing else is.
#[test]
fn each_kind_of_wrong_command_is_caught() {
    let workspace = Workspace::load();
    let dir = tempfile::tempdir().unwrap();
    let chapter = "# Scratch\n\n\
        Run `bench load -c100 -d5 /numbers.txt` against it.\n\n\
        ```text\n\
        $ cargo run --release -p epoll -- --trace --trigger sideways\n\
        $ cargo run --release -p nosuch\n\
        $ cargo run --release -p select --bin nosuch\n\
        $ cargo run --release -p epoll -- --trace\n\
        $ taskset -c 1 target/release/bench load http://127.0.0.1:7007/ -c 10 \\\n\
          -d 5 --pid PID\n\
        $ prlimit --nofile=64:64 target/release/uring --shots single --nosuch\n\
        $ select --trace\n\
        $ command select --trace\n\
        ```\n\n\
        Then `bench hold … -n 1000`, and `threaded --pool 4` beside\n\
        `epoll --workers 2`, and `cargo test -p epoll --test nosuch`.\n";
    std::fs::write(dir.path().join("scratch.md"), chapter).unwrap();
    let (checked, faults) = faults(dir.path(), &workspace);
    let expect = [
        (
            "scratch.md:3: `bench load -c100 -d5 /numbers.txt`",
            "only http:// URLs",
        ),
        (
            "`cargo run --release -p epoll -- --trace --trigger sideways`",
            "sideways",
        ),
        ("`cargo run --release -p nosuch`", "no package `nosuch`"),
        (
            "`cargo run --release -p select --bin nosuch`",
            "no binary `nosuch`",
        ),
        (
            "`prlimit --nofile=64:64 target/release/uring --shots single --nosuch`",
            "--nosuch",
        ),
        ("`bench hold … -n 1000`", "`…`"),
        (
            "`cargo test -p epoll --test nosuch`",
            "no test target `nosuch`",
        ),
        ("`select --trace`", "bash keyword"),
    ];
    for (command, why) in expect {
        assert!(
            faults
                .iter()
                .any(|f| f.contains(command) && f.contains(why)),
            "{command} ({why}) not reported; faults:\n{}",
            faults.join("\n")
        );
    }
    assert_eq!(faults.len(), expect.len(), "{}", faults.join("\n"));
    assert_eq!(checked, 13, "{}", faults.join("\n"));
}
