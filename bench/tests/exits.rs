//! The bench's exit codes, run as a user runs it: 0 when something was
//! measured, 1 when nothing was (one line that says why), 2 for a command
//! line it cannot act on. A run that measured nothing never exits 0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};

/// Runs the bench binary cargo built for these tests.
fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(args)
        .output()
        .expect("the bench binary runs")
}

/// Its exit code and its stderr.
fn outcome(output: &Output) -> (Option<i32>, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A port on 127.0.0.1 with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// No server there: one line naming the address and the cause, exit 1,
/// before any run (not a report of connect errors and exit 0).
#[test]
fn no_server_is_one_line_and_exit_1() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/x");
    let addr = format!("127.0.0.1:{port}");
    for args in [
        vec!["load", url.as_str(), "-n", "5"],
        vec!["echo", addr.as_str(), "-d", "1"],
        vec!["hold", url.as_str(), "-n", "5", "-d", "1"],
    ] {
        let (code, stderr) = outcome(&bench(&args));
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot connect to {addr}")) && stderr.contains("refused"),
            "{args:?}: {stderr}"
        );
    }
}

/// A server that answers, but never a success: the report, then why, and
/// exit 1.
#[test]
fn no_request_answered_well_is_exit_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_500(stream));
        }
    });
    let url = format!("http://127.0.0.1:{port}/x");
    let output = bench(&["load", &url, "-n", "5", "-c", "1"]);
    let (code, stderr) = outcome(&output);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("no request succeeded (5 failed)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("status 5"),
        "the report comes first: {stdout}"
    );
}

/// Reads requests and answers each with a 500.
fn answer_500(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            return;
        }
        let answer = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}

/// `--pid` of a process that does not exist is a usage error: a meter on
/// no process would count nothing and print it as a cost.
#[test]
fn a_pid_that_does_not_exist_is_exit_2() {
    let (code, stderr) = outcome(&bench(&[
        "load",
        "http://127.0.0.1:1/x",
        "-n",
        "5",
        "--pid",
        "999999999",
    ]));
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim(), "bench: --pid 999999999: no such process");
}

/// `compare` and `timeline` check the names they are given before they
/// build anything: exit 2, with the names there are.
#[test]
fn unknown_names_are_exit_2_with_the_known_ones() {
    for (args, known) in [
        (vec!["compare", "--only", "nosuch"], "epoll"),
        (vec!["compare", "--scenario", "nosuch"], "keepalive"),
        (vec!["timeline", "--only", "nosuch"], "uring"),
    ] {
        let (code, stderr) = outcome(&bench(&args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("nosuch") && stderr.contains(known),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("Compiling"), "built first: {stderr}");
    }
}

/// `--version` names the bench and its version.
#[test]
fn version() {
    let output = bench(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("bench {}", env!("CARGO_PKG_VERSION"))
    );
}
