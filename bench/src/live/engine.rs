//! The live lab's engine: the chosen servers started as `compare` starts
//! them (pinned to CPU 0, the clients on CPU 1), each driven by a thread of
//! its own in one-second slices of load, with the idle connections it is
//! asked to hold; after each slice, one [`Sample`] per server: what the
//! kernel counted (the same meter as `bench load --pid`), the rate, the
//! p99, the memory and the threads. Each server's idle connections are
//! held by a process of its own ([`Holder`]), so the lab's fds are only
//! its busy clients'.
//!
//! A second's sample comes when its slice ends: after the second of load
//! and the meter's counters are read, closed and opened again, one per
//! thread of the server. A server with thousands of threads (`threaded`
//! holding thousands of connections) takes longer over that, and its
//! samples come every two seconds or so; the page's lines span the gaps.
//!
//! A change of [`Settings`] takes effect at the next slice: no server is
//! restarted. Dropping the [`Lab`] stops every client thread, ends every
//! holder (closing the idle connections) and every server it started, by
//! its PID.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use loadgen::cost::{Meter, Unit};
use loadgen::load::{self, Shared};
use loadgen::procfs;
use serde::{Deserialize, Serialize};

use super::holder::Holder;
use crate::compare::{self, SERVER_ARGS, Server, Variant, Workspace, measure};

/// The load every server is under, as the page sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Busy clients, each asking again as soon as it is answered.
    pub busy: usize,
    /// Idle keep-alive connections held beside them.
    pub idle: usize,
    /// What the busy clients ask for: `/numbers.txt`, `/bytes/65536`, ...
    pub path: String,
    /// Keep-alive (else a new connection per request).
    pub keepalive: bool,
    /// One more client beside the busy ones, asking `/cpu/100000` (100 ms
    /// of CPU) again and again on its own connection: the book's "beside
    /// `/cpu`" scenario. The figures stay the busy clients'; the server's
    /// CPU per request then includes the burns.
    #[serde(default)]
    pub beside_cpu: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            busy: 10,
            idle: 0,
            path: "/numbers.txt".to_string(),
            keepalive: true,
            beside_cpu: false,
        }
    }
}

/// The paths the page offers.
pub const PATHS: [&str; 4] = ["/numbers.txt", "/bytes/65536", "/delay/100", "/cpu"];

/// Most busy clients per server.
pub const MOST_BUSY: usize = 1_000;

/// One server's second.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Which start of the lab it belongs to: a stopped lab's last samples
    /// may reach a page after it started the next, which shows only its
    /// own run's.
    pub run: u64,
    /// Seconds since the lab started.
    pub t_s: f64,
    /// The server, as tables name it.
    pub server: String,
    /// Requests answered per second.
    pub requests_per_s: f64,
    /// The server's CPU µs per request (`None`: not counted, or no
    /// request answered).
    pub cpu_us: Option<f64>,
    /// System calls per request.
    pub syscalls: Option<f64>,
    /// Context switches per request.
    pub switches: Option<f64>,
    /// The slowest 1% of the second's answers, ms.
    pub p99_ms: Option<f64>,
    /// The server's resident memory, its children included, MB.
    pub rss_mb: Option<f64>,
    /// Its threads, its children's included.
    pub threads: usize,
    /// Idle connections held.
    pub idle: usize,
    /// Requests that failed this second.
    pub errors: u64,
    /// What went wrong this second, if anything (an idle connection the
    /// server refused, a server that exited).
    pub note: Option<String>,
}

/// The lab: the servers running, their threads, and the settings.
pub struct Lab {
    settings: Arc<Mutex<Settings>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Lab {
    /// Starts `variants`, each with a thread that drives it under
    /// `settings` and hands each second's sample, marked `run`, to `sink`.
    pub fn start(
        run: u64,
        variants: &[Variant],
        workspace: &Workspace,
        settings: Settings,
        sink: impl Fn(Sample) + Send + Clone + 'static,
    ) -> Result<Lab, String> {
        check(&settings, variants.len())?;
        let mut servers = Vec::new();
        for variant in variants {
            servers.push((
                variant.name.clone(),
                compare::start(variant, &SERVER_ARGS, workspace)?,
            ));
        }
        let settings = Arc::new(Mutex::new(settings));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let threads = servers
            .into_iter()
            .map(|(name, server)| {
                let driver = Driver {
                    run,
                    name,
                    server,
                    holder: None,
                    settings: settings.clone(),
                    stop: stop.clone(),
                    started,
                };
                let sink = sink.clone();
                std::thread::spawn(move || driver.run(sink))
            })
            .collect();
        Ok(Lab {
            settings,
            stop,
            threads,
        })
    }

    /// New settings, from the next second on; refused (with why) when the
    /// machine cannot give them.
    pub fn set(&self, settings: Settings) -> Result<(), String> {
        check(&settings, self.threads.len())?;
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }

    /// The settings now.
    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Room left under an fd limit for what is not a connection: the standard
/// streams, a listener, the meter's counters on a few threads, pipes.
const ROOM: usize = 256;

/// Whether `servers` servers can be given `settings` here: a known path,
/// busy clients within bounds, every server's connections (idle and busy)
/// under its fd limit and its holder's, and every server's busy clients
/// under the lab's. The limit is this process's: the servers and the
/// holders raise theirs to the same hard limit.
pub fn check(settings: &Settings, servers: usize) -> Result<(), String> {
    if !PATHS.contains(&settings.path.as_str()) {
        return Err(format!("{}: not a path the lab offers", settings.path));
    }
    if settings.busy > MOST_BUSY {
        return Err(format!("at most {MOST_BUSY} busy clients per server"));
    }
    let limit = plumbing::raise_fd_limit() as usize;
    let each = settings.idle + settings.busy + 1;
    if each + ROOM > limit {
        let most = limit.saturating_sub(ROOM + settings.busy + 1);
        return Err(format!(
            "{} idle connections beside {} busy need {} fds in each server, over the limit \
             of {limit}: at most {most} idle",
            settings.idle,
            settings.busy,
            each + ROOM
        ));
    }
    if servers * (settings.busy + 1) + ROOM > limit {
        return Err(format!(
            "{servers} servers' busy clients need more fds than {limit}"
        ));
    }
    Ok(())
}

/// One server and the thread that drives it.
struct Driver {
    run: u64,
    name: String,
    server: Server,
    /// Its idle connections' process, from the first time some are asked.
    holder: Option<Holder>,
    settings: Arc<Mutex<Settings>>,
    stop: Arc<AtomicBool>,
    started: Instant,
}

impl Driver {
    /// A second at a time until the lab stops; then the idle connections
    /// close and the server is stopped (`Server`'s drop).
    fn run(mut self, sink: impl Fn(Sample)) {
        while !self.stop.load(Ordering::Relaxed) {
            let settings = self
                .settings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let note = self.hold(settings.idle).err();
            let mut sample = self.second(&settings);
            sample.note = sample.note.or(note);
            sink(sample);
        }
    }

    /// Holds `n` idle connections: opens the missing ones, closes the
    /// extra ones.
    fn hold(&mut self, n: usize) -> Result<(), String> {
        let holder = match &mut self.holder {
            Some(holder) => holder,
            None if n == 0 => return Ok(()),
            None => self.holder.insert(
                Holder::start(self.server.addr).map_err(|e| format!("starting a holder: {e}"))?,
            ),
        };
        holder.hold(n)
    }

    /// One second of load (or of nothing, with no busy client), measured.
    fn second(&mut self, settings: &Settings) -> Sample {
        let pid = self.server.pid();
        let (requests_per_s, p99_ms, errors, costs, note) = match settings.busy {
            0 => {
                let meter = Meter::start(Some(pid));
                std::thread::sleep(Duration::from_secs(1));
                (0.0, None, 0, meter.stop().per(0, Unit::Request), None)
            }
            busy => match self.load(settings, busy) {
                Ok(report) => (
                    report.requests_per_s,
                    Some(report.latency.p99_us as f64 / 1000.0),
                    report.errors.total(),
                    report.server,
                    None,
                ),
                Err(why) => {
                    std::thread::sleep(Duration::from_secs(1));
                    let costs = loadgen::cost::Costs::none(Unit::Request, &why);
                    (0.0, None, 0, costs, Some(why))
                }
            },
        };
        let usage = procfs::usage(pid);
        Sample {
            run: self.run,
            t_s: self.started.elapsed().as_secs_f64(),
            server: self.name.clone(),
            requests_per_s,
            cpu_us: costs.cpu_us,
            syscalls: costs.syscalls,
            switches: costs.context_switches,
            p99_ms,
            rss_mb: usage.map(|u| u.rss as f64 / 1e6),
            threads: procfs::tree_threads(pid).len(),
            idle: self.holder.as_ref().map_or(0, |h| h.held),
            errors,
            note,
        }
    }

    /// One second of `busy` clients on `settings.path`, counted on the
    /// server; with `beside_cpu`, the `/cpu/100000` client beside them, as
    /// `compare`'s stall scenario runs it ([`measure::beside_a_burn`]).
    fn load(&self, settings: &Settings, busy: usize) -> Result<load::LoadReport, String> {
        let path = match settings.path.as_str() {
            "/cpu" => "/cpu/1000",
            path => path,
        };
        let second = Duration::from_secs(1);
        let busy = measure::load_config(&self.server, path, busy, settings.keepalive, second)
            .map_err(|e| e.to_string())?;
        let report = match settings.beside_cpu {
            false => load::run(&busy, &Shared::default()),
            // The figures are the busy clients'; the burner's are not shown.
            true => measure::beside_a_burn(&self.server, &busy, second).1,
        };
        report.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setting the machine cannot give is refused with why, never tried.
    #[test]
    fn impossible_settings_are_refused() {
        let fine = Settings::default();
        assert_eq!(check(&fine, 2), Ok(()));
        let unknown = Settings {
            path: "/etc/passwd".to_string(),
            ..Settings::default()
        };
        assert!(check(&unknown, 2).unwrap_err().contains("not a path"));
        let too_many = Settings {
            idle: 1_000_000,
            ..Settings::default()
        };
        let why = check(&too_many, 2).unwrap_err();
        assert!(why.contains("fds") && why.contains("at most"), "{why}");
        let too_busy = Settings {
            busy: MOST_BUSY + 1,
            ..Settings::default()
        };
        assert!(check(&too_busy, 1).is_err());
    }
}
