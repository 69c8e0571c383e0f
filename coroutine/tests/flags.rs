//! The coroutine model's own flags refuse what they cannot run: a stack
//! below the minimum (a coroutine would overflow it and take the process
//! down) and a worker count outside 1..=256. Each refusal is one line
//! naming the flag, the usage, and exit code 2 (docs/src/contract.md §2), before the
//! server binds anything.

use std::process::Command;

/// Runs the server with `args` and returns its exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_coroutine"))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("the coroutine binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_model_flags_exit_2_naming_the_flag() {
    for (args, says) in [
        (&["--stack-size", "4096"][..], "below the minimum, 8192"),
        (&["--stack-size", "lots"][..], "is not a number of bytes"),
        (&["--stack-size", "2147483648"][..], "above the maximum"),
        (&["--workers", "0"][..], "--workers"),
        (&["--workers", "257"][..], "--workers"),
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?} should exit 2; stderr: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(says) && first.contains(args[0]),
            "{args:?}: the first line should name {} and say {says:?}, got {first:?}",
            args[0]
        );
        assert!(
            stderr.contains("Usage:"),
            "{args:?}: no usage in {stderr:?}"
        );
    }
}
