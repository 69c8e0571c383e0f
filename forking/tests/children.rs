//! What only the forking server has: child processes. Each test looks at
//! them from outside with `ps`: every child is reaped (no zombie, none
//! left over), a preforked worker that dies is replaced, and shutdown
//! leaves no child behind.

use std::process::Command;
use std::time::{Duration, Instant};

use conformance::Target;
use conformance::client::{Client, check};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn forking(args: &[&str]) -> Target {
    let target = Target::new("forking", env!("CARGO_BIN_EXE_forking"));
    if args.is_empty() {
        target
    } else {
        target.args(args)
    }
}

/// The children of `parent`: (PID, state) from `ps --ppid PARENT -o pid=,stat=`.
/// A state starting with `Z` is a zombie: exited, not yet reaped.
fn children(parent: u32) -> Vec<(u32, String)> {
    let output = Command::new("ps")
        .args(["--ppid", &parent.to_string(), "-o", "pid=,stat="])
        .output()
        .expect("ps runs");
    // ps exits 1 when nothing matches: that is an empty list.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let pid = fields.next()?.parse().ok()?;
            Some((pid, fields.next().unwrap_or_default().to_string()))
        })
        .collect()
}

/// Polls `children(parent)` until `done` holds or `limit` passes; returns the last list.
fn children_until(
    parent: u32,
    limit: Duration,
    done: impl Fn(&[(u32, String)]) -> bool,
) -> Vec<(u32, String)> {
    let until = Instant::now() + limit;
    loop {
        let now = children(parent);
        if done(&now) || Instant::now() >= until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One `Connection: close` request, read to the end.
fn one_request(addr: std::net::SocketAddr) -> Result<(), String> {
    let mut client = Client::connect(addr)?;
    client.send("GET /numbers.txt HTTP/1.1\r\nConnection: close\r\n\r\n")?;
    let response = client.response()?;
    check(response.status == 200, || {
        format!("status {}", response.status)
    })?;
    client.expect_closed().map(|_| ())
}

#[test]
fn no_zombie_after_ten_thousand_requests() -> Result<(), String> {
    const CLIENTS: usize = 4;
    const EACH: usize = 2_500;
    let server = forking(&[]).start(&[])?;
    let pid = server.pid();

    // A connection is a child: one held keep-alive client shows one.
    let mut held = Client::connect(server.addr)?;
    held.get("/numbers.txt")?;
    let one = children(pid);
    check(one.len() == 1 && one[0].1.starts_with('S'), || {
        format!("with one client held, children {one:?}")
    })?;
    drop(held);

    // 10,000 requests, each on a connection of its own: 10,000 children.
    let addr = server.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::thread::spawn(move || (0..EACH).try_for_each(|_| one_request(addr))))
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "client thread panicked".to_string())??;
    }

    // Every child exits after its response and is reaped: no zombie
    // (state Z) and no child at all remains.
    let left = children_until(pid, Duration::from_secs(5), |c| c.is_empty());
    check(left.is_empty(), || {
        let zombies = left
            .iter()
            .filter(|(_, state)| state.starts_with('Z'))
            .count();
        format!(
            "after {} requests: {} children left, {zombies} of them zombies: {left:?}",
            CLIENTS * EACH,
            left.len()
        )
    })?;
    server.finish()
}

#[test]
fn a_dead_worker_is_replaced() -> Result<(), String> {
    let server = forking(&["--workers", "4"]).start(&[])?;
    let pid = server.pid();
    let workers = children_until(pid, Duration::from_secs(3), |c| c.len() == 4);
    check(workers.len() == 4, || format!("workers: {workers:?}"))?;

    let victim = workers[0].0;
    kill(Pid::from_raw(victim as i32), Signal::SIGKILL).map_err(|e| e.to_string())?;
    let replaced = children_until(pid, Duration::from_secs(3), |c| {
        c.len() == 4
            && c.iter()
                .all(|(p, state)| *p != victim && !state.starts_with('Z'))
    });
    check(
        replaced.len() == 4
            && replaced
                .iter()
                .all(|(p, s)| *p != victim && !s.starts_with('Z')),
        || format!("after killing worker {victim}: {replaced:?}"),
    )?;
    // Four workers serve four clients at once again.
    let mut clients = (0..4)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;
    for client in &mut clients {
        check(client.get("/numbers.txt")?.status == 200, || {
            "a client of the new set".into()
        })?;
    }
    server.finish()
}

/// Starts the server with `args` and holds `clients` keep-alive clients
/// (each has had one answer), once `expect_children` children show in `ps`.
/// Returns the server, the held clients and the children's PIDs.
fn start_holding(
    args: &[&str],
    clients: usize,
    expect_children: usize,
) -> Result<(conformance::server::Running, Vec<Client>, Vec<u32>), String> {
    let server = forking(args).start(&[])?;
    let mut held = (0..clients)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;
    for client in &mut held {
        client.get("/numbers.txt")?;
    }
    let before = children_until(server.pid(), Duration::from_secs(3), |c| {
        c.len() == expect_children
    });
    check(before.len() == expect_children, || {
        format!("children {before:?}")
    })?;
    Ok((
        server,
        held,
        before.into_iter().map(|(child, _)| child).collect(),
    ))
}

/// SIGTERM with clients held: the server exits 0, and every child it had
/// is gone (none orphaned, left running under init).
fn shutdown_leaves_no_child(args: &[&str], expect_children: usize) -> Result<(), String> {
    let (mut server, _held, before) = start_holding(args, 3, expect_children)?;

    server.signal(Signal::SIGTERM)?;
    let status = server.wait_exit(Duration::from_secs(3))?;
    check(status.is_some_and(|s| s.success()), || {
        format!("exit: {status:?}")
    })?;
    let alive: Vec<u32> = before
        .iter()
        .copied()
        .filter(|child| std::path::Path::new(&format!("/proc/{child}")).exists())
        .collect();
    check(alive.is_empty(), || {
        format!("children still alive after the server exited: {alive:?}")
    })
}

#[test]
fn shutdown_leaves_no_child_per_connection() -> Result<(), String> {
    shutdown_leaves_no_child(&[], 3)
}

#[test]
fn shutdown_leaves_no_child_preforked() -> Result<(), String> {
    shutdown_leaves_no_child(&["--workers", "4"], 4)
}

/// The parent killed outright (SIGKILL: no shutdown code runs): the kernel
/// signals every child (`PR_SET_PDEATHSIG`), and none is left running.
/// A child that is left is re-parented, so it is looked up by PID.
fn parent_killed_leaves_no_child(args: &[&str], expect_children: usize) -> Result<(), String> {
    let (mut server, _held, before) = start_holding(args, 2, expect_children)?;

    server.signal(Signal::SIGKILL)?;
    server.wait_exit(Duration::from_secs(3))?;
    // Running, or asleep, counts as alive; a zombie (Z) has ended.
    let running = |child: u32| {
        std::fs::read_to_string(format!("/proc/{child}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    };
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let alive: Vec<u32> = before.iter().copied().filter(|&c| running(c)).collect();
        if alive.is_empty() {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(format!(
                "children still running 3 s after the parent was killed: {alive:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn parent_killed_leaves_no_child_per_connection() -> Result<(), String> {
    parent_killed_leaves_no_child(&[], 2)
}

#[test]
fn parent_killed_leaves_no_child_preforked() -> Result<(), String> {
    parent_killed_leaves_no_child(&["--workers", "4"], 4)
}
