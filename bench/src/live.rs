//! `bench live`: the lab, live. A page on 127.0.0.1 (and only there) where
//! a learner picks two to four servers, sets the load (busy clients, idle
//! connections held, the path, keep-alive or not, a client asking `/cpu`
//! beside them), and watches, once a
//! second, what each server costs: requests per second, CPU µs, system
//! calls and context switches per request (the kernel's counts, as `bench
//! load --pid` takes them), p99, resident memory and threads, in the
//! colours the book uses. A change of setting changes the running load.
//!
//! - [`engine`]: the servers and their clients, a sample a second.
//! - [`holder`]: a server's idle connections, in a process of their own.
//! - [`web`]: the page and its data (axum; server-sent events).
//!
//! Nothing outlives the lab: the servers it started, and the processes
//! holding their idle connections, end when the page's last event stream
//! closes, when the command is interrupted (SIGINT, SIGTERM), and when the
//! command itself dies (each is started with a parent-death signal).

use std::net::SocketAddr;

use loadgen::Failure;

use crate::cli::LiveArgs;

pub mod engine;
pub mod holder;
pub mod web;

/// `bench live`: builds the servers, pins itself to CPU 1 (the servers go
/// on CPU 0, as `compare` runs them), serves the page until interrupted.
pub fn command(args: LiveArgs) -> Result<(), Failure> {
    let workspace = crate::compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    eprintln!("bench live: building the servers (cargo build --release)");
    crate::compare::build("--bins").map_err(|e| e.to_string())?;
    plumbing::raise_fd_limit();
    crate::compare::pin(0, 1);
    let offered = web::offered(&workspace.binaries);
    let shared = web::Shared::new(workspace, offered);
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::Usage(format!("{addr}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        println!("bench live: open http://{bound}/ (Ctrl-C ends it, and every server it started)");
        let stopping = shared.clone();
        axum::serve(listener, web::router(shared))
            .with_graceful_shutdown(async move {
                interrupted().await;
                eprintln!("bench live: interrupted; stopping the servers");
                tokio::task::spawn_blocking(move || stopping.stop())
                    .await
                    .ok();
                // An open page's event stream never ends by itself, and a
                // graceful shutdown would wait for it: the servers are
                // stopped, so leave now.
                std::process::exit(0);
            })
            .await
            .map_err(|e| Failure::Run(e.to_string()))
    })
}

/// SIGINT or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
