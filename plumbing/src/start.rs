//! Start-up, in a fixed order, and the exit code.

use std::hint::black_box;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::time::{ClockId, clock_gettime};
use protocol::{Proto, Service, Site};
use socket2::{Domain, SockRef, Socket, Type};

use crate::args::{CommonArgs, ProtoArg};
use crate::{shutdown, trace};

/// Listen backlog: how many finished handshakes the kernel queues before
/// `accept`. 1024 lets 100 concurrent `ab` clients queue up behind the
/// blocking server instead of being refused (the kernel caps it at somaxconn).
pub const BACKLOG: i32 = 1024;

/// What a model gets to serve with: a bound listener and the shared service.
#[derive(Debug)]
pub struct Server {
    /// The listening socket, blocking. Event-loop models set it non-blocking.
    pub listener: TcpListener,
    /// Protocol, site, idle timeout: shared by every connection.
    pub service: Arc<Service>,
    /// `--max-conns`: connections past this are refused (503 or close, per model).
    pub max_conns: usize,
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
}

/// Starts a server: raises the fd limit, loads the site, sets up `/cpu`,
/// takes over SIGINT/SIGTERM, binds, prints `listening on ADDR`, then calls
/// `serve`. A start-up failure prints one line `NAME: what: why`, where
/// *what* names the address or the path that failed (`epoll: cannot listen
/// on 127.0.0.1:7007: Address already in use (os error 98)`, `epoll: --root
/// /nope: No such file or directory (os error 2)`), and gives exit code 1;
/// a clean return from `serve` gives 0.
pub fn run(
    name: &str,
    default_port: u16,
    args: &CommonArgs,
    serve: impl FnOnce(Server) -> io::Result<()>,
) -> ExitCode {
    run_listening(name, default_port, args, false, serve)
}

/// The command line of a model's *core* (each model crate's
/// `examples/*_core.rs`: the model as first written, before its hardening):
/// the common flags and nothing else. [`run_core`] names it for the core.
#[derive(clap::Parser)]
#[command(about = "A model's core: the model as first written, before its hardening.")]
struct CoreArgs {
    #[command(flatten)]
    common: CommonArgs,
}

/// Parses the common flags and [`run`]s a model's core, named `name`.
/// `--version` prints `name` and the version of this crate, which parses
/// the core's flags: a core is an example, with no version of its own.
pub fn run_core(
    name: &'static str,
    default_port: u16,
    serve: impl FnOnce(Server) -> io::Result<()>,
) -> ExitCode {
    let command = <CoreArgs as clap::CommandFactory>::command()
        .name(name)
        .version(env!("CARGO_PKG_VERSION"));
    let args: CoreArgs = crate::args::parse_with(command);
    // A core answers from the compiled-in site only: opening and reading a
    // `--root` file when the protocol asks (`files`) is the full server's.
    if args.common.root.is_some() {
        eprintln!("{name}: --root: a core serves the compiled-in site only; run the full server");
        return ExitCode::from(2);
    }
    run(name, default_port, &args.common, serve)
}

/// [`run`] for a model whose threads each take a listener of their own on
/// the same port (`epoll --workers N`): the first listener is bound with
/// SO_REUSEPORT, so that [`Server::listen_again`] can bind the others, and
/// a port that another process listens on is refused all the same
/// ([`reuse_port`](crate::reuse_port) says how).
pub fn run_reuse_port(
    name: &str,
    default_port: u16,
    args: &CommonArgs,
    serve: impl FnOnce(Server) -> io::Result<()>,
) -> ExitCode {
    run_listening(name, default_port, args, true, serve)
}

fn run_listening(
    name: &str,
    default_port: u16,
    args: &CommonArgs,
    reuse_port: bool,
    serve: impl FnOnce(Server) -> io::Result<()>,
) -> ExitCode {
    trace::enable(args.trace);
    match start(default_port, args, reuse_port).and_then(|server| {
        announce(server.addr)?;
        serve(server).map_err(|e| Failure("serve".into(), e))
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(what, err)) => {
            eprintln!("{name}: {what}: {err}");
            ExitCode::from(1)
        }
    }
}

/// The `--root` directory, resolved once at start (absolute, every symlink
/// resolved): the served files' real paths are compared with it
/// (`files::check`).
fn resolve_root(root: &std::path::Path) -> io::Result<std::path::PathBuf> {
    let resolved = root.canonicalize()?;
    if !resolved.is_dir() {
        // As the kernel says it, so that the line reads like the others.
        return Err(nix::errno::Errno::ENOTDIR.into());
    }
    Ok(resolved)
}

/// A start-up step that failed, and why. The step names what it worked on
/// (`cannot listen on 127.0.0.1:7007`, `--root /nope`), so that the one
/// line a user sees says which address or which path to fix.
struct Failure(String, io::Error);

fn start(default_port: u16, args: &CommonArgs, reuse_port: bool) -> Result<Server, Failure> {
    raise_fd_limit();
    let site = match &args.root {
        None => Site::Embedded,
        Some(root) => {
            let failed = |e| Failure(format!("--root {}", root.display()), e);
            Site::directory(resolve_root(root).map_err(failed)?)
        }
    };
    let proto = match args.proto {
        ProtoArg::Http => Proto::Http,
        ProtoArg::Echo => Proto::Echo,
    };
    let mut service = Service::new(proto, site);
    service.idle_timeout = Duration::from_secs(args.idle_timeout);
    service.burn_cpu = burn_thread_cpu;
    shutdown::install().map_err(|e| Failure("signals".into(), e))?;

    let requested = args
        .addr
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, default_port)));
    let cannot_listen = |e| Failure(format!("cannot listen on {requested}"), e);
    let listener = listen(requested, reuse_port).map_err(cannot_listen)?;
    if reuse_port {
        // The kernel let the bind join any SO_REUSEPORT listener of this
        // user on the port: refuse if one belongs to another process.
        crate::reuse_port::refuse_if_shared(&listener).map_err(cannot_listen)?;
    }
    let addr = listener.local_addr().map_err(cannot_listen)?;
    shut_down_on_request(&listener).map_err(cannot_listen)?;
    let max_conns = usize::try_from(args.max_conns).unwrap_or(usize::MAX);
    Ok(Server {
        listener,
        service: Arc::new(service),
        max_conns,
        addr,
    })
}

impl Server {
    /// Another listener on the same address, for one more worker thread with
    /// a listener of its own. Needs [`run_reuse_port`]: the kernel then
    /// spreads new connections over all the listeners (by a hash of the
    /// client's address and port). Shutdown shuts it down like the first.
    pub fn listen_again(&self) -> io::Result<TcpListener> {
        let listener = listen(self.addr, true)?;
        shut_down_on_request(&listener)?;
        Ok(listener)
    }
}

/// On shutdown, shut the listener down: a blocked accept() wakes with an
/// error, a wait call watching it wakes, and new connections are refused.
/// The hook holds its own dup of the socket, so it never acts on an fd
/// number that was reused.
fn shut_down_on_request(listener: &TcpListener) -> io::Result<()> {
    let for_shutdown = listener.try_clone()?;
    shutdown::on_request(move || {
        let _ = SockRef::from(&for_shutdown).shutdown(std::net::Shutdown::Read);
    });
    Ok(())
}

/// Binds a blocking TCP listener with SO_REUSEADDR (restart without waiting
/// out TIME_WAIT), optionally SO_REUSEPORT (several listeners on one port,
/// one per worker), and a backlog of [`BACKLOG`].
pub fn listen(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// The first line on stdout, exactly `listening on ADDR`, flushed at once:
/// tests and the bench wait for it.
fn announce(addr: SocketAddr) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure("stdout".into(), e))
}

/// `/cpu/<us>`: keeps the calling thread on the CPU until its own CPU clock
/// (CLOCK_THREAD_CPUTIME_ID) has advanced by `work`. Time spent preempted does
/// not count, so the request really costs that much CPU however busy the
/// machine is; the wall-clock time is at least as long.
fn burn_thread_cpu(work: Duration) {
    let cpu_now = || clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map(Duration::from);
    let Ok(start) = cpu_now() else { return };
    let mut x = 0u64;
    while cpu_now().is_ok_and(|now| now - start < work) {
        // Some arithmetic between clock reads, that the optimiser must keep.
        for i in 0..1000 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
    }
}

/// Raises the soft RLIMIT_NOFILE to the hard limit: a server holding 19,000
/// connections needs 19,000 fds, and the soft default is often 1024 (the
/// bench needs the same for `hold`). Failing to raise it is not fatal: the
/// caller runs with what it has. Returns the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => {
                crate::trace!("setrlimit NOFILE {soft} -> {hard}");
                hard
            }
            Err(err) => {
                crate::trace!("setrlimit NOFILE failed: {err}");
                soft
            }
        },
        Ok((soft, _)) => {
            crate::trace!("fd limit already at its hard limit, {soft}");
            soft
        }
        Err(err) => {
            crate::trace!("getrlimit NOFILE failed: {err}");
            1024
        }
    }
}
