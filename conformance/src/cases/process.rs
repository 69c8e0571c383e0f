//! The process itself: flags, start-up failures, signals, `--trace`,
//! `--help`, `--version`.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use socket2::{Domain, Socket, Type};

use crate::client::{Client, check};
use crate::server::Exited;
use crate::{Case, Outcome, Target};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "bad_flag_exit_2",
            "An unknown flag or a bad value: one line naming it, usage, exit 2.",
            bad_flag,
        ),
        Case::new(
            "port_in_use_exit_1",
            "An address in use (held plainly, with SO_REUSEPORT, or by a first copy of the same server): one line naming the server, the address and the cause, no panic, exit 1.",
            port_in_use,
        ),
        Case::new(
            "missing_root_exit_1",
            "A --root that does not exist: one line naming the server, the path and the cause, exit 1.",
            missing_root,
        ),
        Case::new(
            "sigterm_exit_0",
            "SIGTERM with an idle client: exit 0 within 3 s.",
            |t: &Target| stop_by_signal(t, Signal::SIGTERM),
        ),
        Case::new(
            "sigint_exit_0",
            "SIGINT with an idle client: exit 0 within 3 s.",
            |t: &Target| stop_by_signal(t, Signal::SIGINT),
        ),
        Case::new(
            "sigterm_in_flight",
            "A response in flight at SIGTERM still completes; then exit 0.",
            sigterm_in_flight,
        ),
        Case::new(
            "trace_lines",
            "--trace writes the accept, and the read and the write of a request with their byte counts, to stderr.",
            trace_lines,
        ),
        Case::new("help", "--help names the model and exits 0.", help),
        Case::new(
            "version",
            "--version prints one line, the binary's name and its crate's version, and exits 0.",
            version,
        ),
    ]
}

fn bad_flag(target: &Target) -> Outcome {
    let common = [
        &["--no-such-flag"][..],
        &["--idle-timeout", "soon"],
        &["--proto", "ftp"],
        &["--addr", "nowhere"],
    ];
    let model: Vec<Vec<&str>> = target
        .bad_model_flags
        .iter()
        .map(|args| args.iter().map(String::as_str).collect())
        .collect();
    for args in common.into_iter().chain(model.iter().map(Vec::as_slice)) {
        let exited = target.run_to_exit(args, Duration::from_secs(5))?;
        check(exited.status.code() == Some(2), || {
            format!("{args:?}: {:?}", exited.status)
        })?;
        let first = exited.stderr.lines().next().unwrap_or_default();
        check(first.contains(args[0]), || {
            format!("{args:?}: first line {first:?} does not name the flag")
        })?;
        check(exited.stderr.contains("Usage"), || {
            format!("{args:?}: no usage in {:?}", exited.stderr)
        })?;
    }
    Ok(())
}

/// A start-up failure: exit 1, one clean line on stderr (no panic text)
/// that starts with the server's name and mentions each of `mentions` (what
/// failed, and why), and no `listening on` line.
fn expect_start_failure(target: &Target, exited: &Exited, mentions: &[&str]) -> Outcome {
    check(exited.status.code() == Some(1), || {
        format!("{:?}", exited.status)
    })?;
    let stderr = &exited.stderr;
    check(
        stderr.lines().count() == 1 && !stderr.contains("panicked"),
        || format!("stderr is not one clean line: {stderr:?}"),
    )?;
    let name = binary_name(target);
    check(stderr.starts_with(&format!("{name}: ")), || {
        format!("{stderr:?} does not start with {name:?}")
    })?;
    for mention in mentions {
        check(stderr.contains(mention), || {
            format!("{stderr:?} does not mention {mention:?}")
        })?;
    }
    check(exited.stdout.is_empty(), || {
        format!("said {:?} on stdout", exited.stdout)
    })
}

/// The name of the target's binary file (`epoll-mio`), which its error
/// lines and `--version` start with.
fn binary_name(target: &Target) -> &str {
    target
        .binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// The port is held three ways, and the server must refuse each: by a
/// program that listens plainly (most do); by one that listens with
/// SO_REUSEPORT, as a server with workers does (the kernel would let a
/// server that sets it too share the port, and split the clients between
/// the two); and by a first copy of the same server with the same flags,
/// the mistake of starting it twice.
fn port_in_use(target: &Target) -> Outcome {
    let local = |l: &TcpListener| l.local_addr().map_err(|e| e.to_string());
    let plain = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    refuses_port_of(target, local(&plain)?, "a plain listener")?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let reuse_port = reuse_port_listener(loopback).map_err(|e| e.to_string())?;
    refuses_port_of(target, local(&reuse_port)?, "an SO_REUSEPORT listener")?;
    let first = target.start(&[])?;
    refuses_port_of(target, first.addr, "a copy of itself")?;
    // The first copy still has the port, and serves.
    let response = Client::connect(first.addr)?.get("/numbers.txt")?;
    check(response.status == 200, || {
        format!(
            "the first copy answers {} after the second refused",
            response.status
        )
    })?;
    first.finish()
}

/// How long a server that should refuse its port may take to exit.
const START_LIMIT: Duration = Duration::from_secs(10);

/// Starts the server on `taken`, which `holder` listens on, and expects it
/// to refuse with a line that names the address and says it is in use.
fn refuses_port_of(target: &Target, taken: SocketAddr, holder: &str) -> Outcome {
    let taken = taken.to_string();
    target
        .run_to_exit(&["--addr", &taken], START_LIMIT)
        .and_then(|exited| expect_start_failure(target, &exited, &[&taken, "in use"]))
        .map_err(|e| format!("beside {holder}: {e}"))
}

/// A listener bound as a server with workers binds its own: SO_REUSEADDR
/// and SO_REUSEPORT.
fn reuse_port_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(16)?;
    Ok(socket.into())
}

/// The line names the flag with the path as given (`--root /no/such/dir`),
/// and the cause.
fn missing_root(target: &Target) -> Outcome {
    let args = ["--addr", "127.0.0.1:0", "--root", "/no/such/dir"];
    let exited = target.run_to_exit(&args, Duration::from_secs(10))?;
    expect_start_failure(
        target,
        &exited,
        &["--root /no/such/dir", "No such file or directory"],
    )
}

fn stop_by_signal(target: &Target, signal: Signal) -> Outcome {
    let mut server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    client.get("/numbers.txt")?; // a keep-alive client, now idle
    let start = Instant::now();
    server.signal(signal)?;
    let status = server.wait_exit(Duration::from_secs(3))?;
    check(status.is_some_and(|s| s.success()), || {
        format!("after {signal}: {status:?} within 3 s")
    })?;
    check(start.elapsed() < Duration::from_secs(3), || {
        format!("took {:?}", start.elapsed())
    })
}

fn sigterm_in_flight(target: &Target) -> Outcome {
    let mut server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    client.send("GET /delay/500 HTTP/1.1\r\n\r\n")?;
    std::thread::sleep(Duration::from_millis(100));
    server.signal(Signal::SIGTERM)?;
    let response = client.response()?;
    check(response.text() == "delayed 500 ms\n", || {
        format!("in-flight response: {:?}", response.text())
    })?;
    let status = server.wait_exit(Duration::from_secs(3))?;
    check(status.is_some_and(|s| s.success()), || {
        format!("{status:?}")
    })
}

fn trace_lines(target: &Target) -> Outcome {
    let server = target.start(&["--trace"])?;
    Client::connect(server.addr)?.get("/numbers.txt")?;
    std::thread::sleep(Duration::from_millis(100));
    let stderr = server.stderr();
    check(stderr.contains("accept"), || {
        format!("no accept in {stderr:?}")
    })?;
    // A line that names the call and counts its bytes: "read fd=7: 89
    // bytes", "write fd=7: 94 of 94 bytes" (not just the word somewhere:
    // the start-up line "fd limit already ..." contains "read").
    let counted = |call: &str| {
        stderr
            .lines()
            .any(|line| line.contains(call) && line.contains(" bytes"))
    };
    check(counted("read"), || {
        format!("no read with its byte count in {stderr:?}")
    })?;
    check(counted("write"), || {
        format!("no write with its byte count in {stderr:?}")
    })?;
    server.finish()
}

fn help(target: &Target) -> Outcome {
    let exited = target.run_to_exit(&["--help"], Duration::from_secs(5))?;
    check(exited.status.success(), || format!("{:?}", exited.status))?;
    let name = binary_name(target);
    check(exited.stdout.contains(name), || {
        format!("--help does not name {name}")
    })?;
    check(exited.stdout.contains("--idle-timeout"), || {
        "--help lists no flags".into()
    })
}

/// `--version` prints exactly `NAME VERSION` (`epoll-mio 0.1.0`): the
/// version the model declares, or, for a target that declares none, one
/// that reads as a version (numbers between dots).
fn version(target: &Target) -> Outcome {
    let exited = target.run_to_exit(&["--version"], Duration::from_secs(5))?;
    check(exited.status.success(), || {
        format!("{:?}, stderr {:?}", exited.status, exited.stderr)
    })?;
    let stdout = &exited.stdout;
    check(stdout.lines().count() == 1, || {
        format!("not one line: {stdout:?}")
    })?;
    let name = binary_name(target);
    let printed = stdout.trim_end().strip_prefix(&format!("{name} "));
    let Some(printed) = printed else {
        return Err(format!("{stdout:?} does not start with {name:?}"));
    };
    match &target.version {
        Some(declared) => check(printed == declared, || {
            format!("{stdout:?} is not version {declared}")
        }),
        None => check(
            printed
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
            || format!("{printed:?} in {stdout:?} is not a version"),
        ),
    }
}
