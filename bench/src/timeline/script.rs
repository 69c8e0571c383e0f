//! The choreography of four clients, and the recorder: a server started
//! under strace, the choreography played against it, the trace read.

use std::collections::HashMap;

use super::strace::CLOCK_READS;
use super::{ClientEvent, Recording};

/// Seconds since the epoch, now: the clock strace's `-ttt` uses.
fn wall() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One client's script: at each planned time (ms from the start), what it
/// does. Every client closes after its last answer, so that the one-at-a-
/// time servers move on to the next.
enum Step {
    /// Connect.
    Connect,
    /// Send these bytes.
    Send(&'static str, &'static str),
    /// Read one whole response.
    Answer,
}

/// The choreography (see [`LEGEND`]): A asks `/delay/300`; 50 ms later B
/// sends a request head in three pieces 50 ms apart; at 200 ms C asks
/// `/numbers.txt`; at 250 ms D asks `/cpu/100000` (100 ms of CPU) and at
/// 260 ms (or once its first answer is in) C asks again.
const SCRIPT: &[(char, &[(u64, Step)])] = &[
    (
        'A',
        &[
            (0, Step::Connect),
            (
                0,
                Step::Send(
                    "GET /delay/300",
                    "GET /delay/300 HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (0, Step::Answer),
        ],
    ),
    (
        'B',
        &[
            (50, Step::Connect),
            (50, Step::Send("piece 1", "GET /numb")),
            (100, Step::Send("piece 2", "ers.txt HTTP/1.1\r\nHo")),
            (150, Step::Send("piece 3", "st: t\r\n\r\n")),
            (150, Step::Answer),
        ],
    ),
    (
        'C',
        &[
            (200, Step::Connect),
            (
                200,
                Step::Send(
                    "GET /numbers.txt",
                    "GET /numbers.txt HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (200, Step::Answer),
            (
                260,
                Step::Send("GET again", "GET /numbers.txt HTTP/1.1\r\nHost: t\r\n\r\n"),
            ),
            (260, Step::Answer),
        ],
    ),
    (
        'D',
        &[
            (250, Step::Connect),
            (
                250,
                Step::Send(
                    "GET /cpu/100000",
                    "GET /cpu/100000 HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (250, Step::Answer),
        ],
    ),
];

/// Runs the choreography against `addr`: the clients' events, and which
/// local port is which client (for [`super::attribute`]).
pub fn choreography(
    addr: std::net::SocketAddr,
) -> Result<(Vec<ClientEvent>, HashMap<u16, char>), String> {
    use conformance::client::Client;
    let start = std::time::Instant::now();
    let (done, results) = std::sync::mpsc::channel();
    for &(client, steps) in SCRIPT {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut events = Vec::new();
            let mut port = None;
            let mut stream: Option<Client> = None;
            let outcome = (|| {
                for (at, step) in steps {
                    let due = start + std::time::Duration::from_millis(*at);
                    std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
                    match step {
                        Step::Connect => {
                            let connected = Client::connect(addr)?;
                            port = connected.stream().local_addr().ok().map(|a| a.port());
                            stream = Some(connected);
                            events.push((client, "connect".to_string(), wall()));
                        }
                        Step::Send(what, bytes) => {
                            let Some(c) = stream.as_mut() else {
                                return Err("no connection".to_string());
                            };
                            c.send(bytes)?;
                            events.push((client, what.to_string(), wall()));
                        }
                        Step::Answer => {
                            let Some(c) = stream.as_mut() else {
                                return Err("no connection".to_string());
                            };
                            let response = c.response()?;
                            events.push((client, format!("{} answered", response.status), wall()));
                        }
                    }
                }
                Ok(())
            })();
            let _ = done.send((client, port, events, outcome));
        });
    }
    drop(done);
    let mut events = Vec::new();
    let mut ports = HashMap::new();
    for (client, port, got, outcome) in results {
        outcome.map_err(|e| format!("client {client}: {e}"))?;
        if let Some(port) = port {
            ports.insert(port, client);
        }
        events.extend(
            got.into_iter()
                .map(|(client, what, at)| ClientEvent { client, what, at }),
        );
    }
    events.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok((events, ports))
}

/// Runs `binary` (with `args`) under `strace -f -ttt -T`, plays the
/// choreography against it, stops it with SIGTERM, and reads the trace.
pub fn record(
    name: &str,
    binary: &std::path::Path,
    args: &[String],
    scratch: &std::path::Path,
) -> Result<Recording, String> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let trace = scratch.join(format!("{}.strace", name.replace(' ', "_")));
    let mut strace = Command::new("strace")
        // The clock reads are not traced at all (`--seccomp-bpf` lets an
        // untraced call run at full speed): a `/cpu` burn reads the clock
        // in its loop, and stopping at each read would stretch the burn.
        .args(["-f", "-ttt", "-T", "-qq", "--seccomp-bpf"])
        .arg(format!("--trace=!{}", CLOCK_READS.join(",")))
        .arg("-o")
        .arg(&trace)
        .arg(binary)
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("strace: {e} (apt-get install strace)"))?;
    let stdout = strace.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("{name}: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("{name}: no `listening on` line: {line:?}"))?;
    // Let start-up settle: its calls are not the story, and under strace
    // it is slow (may's stack pool is hundreds of traced mmaps). Settled is
    // when the trace has stopped growing for 200 ms (at most 10 s).
    let size = || std::fs::metadata(&trace).map_or(0, |m| m.len());
    let (mut last, mut quiet) = (size(), std::time::Instant::now());
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while quiet.elapsed() < std::time::Duration::from_millis(200)
        && std::time::Instant::now() < give_up
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if size() != last {
            (last, quiet) = (size(), std::time::Instant::now());
        }
    }
    let played = choreography(addr);
    std::thread::sleep(std::time::Duration::from_millis(100));
    if let Some(&server) = loadgen::procfs::children(strace.id()).first() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(server as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while strace.try_wait().map_err(|e| e.to_string())?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = strace.kill();
            let _ = strace.wait();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (events, ports) = played?;
    let text = std::fs::read_to_string(&trace).map_err(|e| format!("{}: {e}", trace.display()))?;
    Ok(Recording::new(name, &text, events, &ports))
}
