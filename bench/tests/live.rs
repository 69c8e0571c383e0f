//! `bench live`, driven in a real headless browser (Chromium, through
//! chromedriver's WebDriver protocol, spoken here over plain HTTP): the
//! page starts `poll` and `epoll` with 10 busy clients, then holds 5,000
//! idle connections beside them, and the figures the page shows must say
//! what the course says: `poll`'s CPU per request climbs at least 5 times,
//! `epoll`'s stays within 1.5 times. The page's figures must keep moving
//! (a page whose numbers stopped would pass no comparison). Then the page
//! closes, and no process the lab started (the servers, and the holders of
//! their idle connections) may be left; and a lab killed outright, or
//! ended by SIGTERM with a page open, leaves none either.
//!
//! Needs `chromium` and `chromedriver` (scripts/setup.sh installs them for
//! CI); without them the test fails, saying so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A process this test started (`bench live`, chromedriver), killed if the
/// test ends early: a failed assertion must not leave it running.
struct Lab(Child);

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bench live --port 0` (killed by [`Lab`]'s drop if a test fails
/// before it ends the lab itself), and the address its page is on.
fn live() -> (Lab, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["live", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("bench live starts");
    let mut child = Lab(child);
    let mut stdout = BufReader::new(child.0.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("bench live prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, url)
}

/// The processes whose parent is `pid`: the children of each of its
/// threads (the servers are started by the main thread, the holders by the
/// threads that drive them).
fn children(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    let mut all: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            let pids: Vec<u32> = list
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            pids
        })
        .collect();
    all.sort_unstable();
    all
}

/// The lab's children once there are `n` of them: its servers, and a
/// holder for each server once idle connections are asked for.
fn started(lab: u32, n: usize) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let now = children(lab);
        if now.len() == n {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the lab runs {now:?}, not {n} processes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The page's host and port, from its address.
fn host(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Starts `poll` and `epoll` through the lab's API, with 100 idle
/// connections each; once they run, the lab's children: the two servers
/// and the two holders of their idle connections.
fn start_two_with_holders(lab: &Lab, host: &str) -> Vec<u32> {
    let start = json!({"servers": ["poll", "epoll"],
        "settings": {"busy": 2, "idle": 100, "path": "/numbers.txt", "keepalive": true}});
    let (status, _) = request(host, "POST", "/api/start", &start);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    started(lab.0.id(), 4)
}

/// Waits up to `seconds` for every one of `pids` to be gone; else fails,
/// saying `what`.
fn all_gone_within(pids: &[u32], seconds: u64, what: &str) {
    let start = Instant::now();
    while !pids.iter().all(|&p| gone(p)) {
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
            "{what}: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `pid` is gone (or a zombie).
fn gone(pid: u32) -> bool {
    conformance::server::exited(pid)
}

/// One HTTP request to `addr`: the status line, and the body as long as
/// the head says (chromedriver may keep the connection open).
fn request(addr: &str, method: &str, path: &str, body: &Value) -> (String, Vec<u8>) {
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).expect("a status line");
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a head");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut answer = vec![0; length];
    reader.read_exact(&mut answer).expect("a body");
    (status, answer)
}

/// One WebDriver command: `method` on `path` of chromedriver at `port`.
fn webdriver(port: u16, method: &str, path: &str, body: &Value) -> Value {
    let (_, json) = request(&format!("127.0.0.1:{port}"), method, path, body);
    serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)))
}

/// A browser session, ended (the window closed) when dropped.
struct Browser {
    port: u16,
    session: String,
    #[allow(dead_code)] // held to be killed when the browser is dropped
    driver: Lab,
}

impl Browser {
    fn open(url: &str) -> Browser {
        let port = 9515 + (std::process::id() % 1000) as u16;
        let driver = Lab(Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/setup.sh)"));
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu"]}}}});
        let answer = webdriver(port, "POST", "/session", &caps);
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        let browser = Browser {
            port,
            session,
            driver,
        };
        browser.call("POST", "url", &json!({ "url": url }));
        browser
    }

    fn call(&self, method: &str, what: &str, body: &Value) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        webdriver(self.port, method, &path, body)["value"].clone()
    }

    /// Runs `script` in the page and returns what it returns.
    fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            "execute/sync",
            &json!({"script": script, "args": []}),
        )
    }

    /// The figure `name` the page shows for `server` now, and the time of
    /// its sample.
    fn figure(&self, server: &str, name: &str) -> (f64, f64) {
        let script = format!(
            "const row = document.querySelector('#latest tr[data-server=\"{server}\"]');
             if (!row) return null;
             return [row.querySelector('[data-figure=\"{name}\"]').textContent, row.dataset.t];"
        );
        let value = self.run(&script);
        let text = |i: usize| {
            value[i]
                .as_str()
                .unwrap_or("-")
                .parse::<f64>()
                .unwrap_or(f64::NAN)
        };
        (text(0), text(1))
    }

    /// The median of `name` for `server` over `seconds` of the page's
    /// samples; panics if the page's figures stop moving.
    fn median(&self, server: &str, name: &str, seconds: u64) -> f64 {
        let mut values = Vec::new();
        let mut last_t = f64::NAN;
        for _ in 0..seconds {
            std::thread::sleep(Duration::from_secs(1));
            let (value, t) = self.figure(server, name);
            if t != last_t && value.is_finite() {
                values.push(value);
            }
            last_t = t;
        }
        assert!(
            values.len() as u64 >= seconds / 2,
            "the page's {name} for {server} stopped updating: {} new samples in {seconds} s",
            values.len()
        );
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        webdriver(self.port, "DELETE", &path, &json!({}));
    }
}

/// One lab at a time: two would share the machine's two cores, and the
/// figures one test reads would carry the other's load.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn poll_climbs_with_idle_connections_and_epoll_does_not() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (mut lab, url) = live();
    let servers = {
        let browser = Browser::open(&url);
        browser.run(
            "document.querySelectorAll('#servers input').forEach(i =>
                 i.checked = ['poll', 'epoll'].includes(i.value));
             document.getElementById('busy').value = 10;
             document.getElementById('idle').value = 0;
             document.getElementById('start').click();",
        );
        std::thread::sleep(Duration::from_secs(4));
        let before = [
            browser.median("poll", "cpu_us", 6),
            browser.median("epoll", "cpu_us", 6),
        ];
        browser.run(
            "document.getElementById('idle').value = 5000;
             document.getElementById('apply').click();",
        );
        // The idle connections open in the next slices; then measure.
        std::thread::sleep(Duration::from_secs(8));
        let after = [
            browser.median("poll", "cpu_us", 8),
            browser.median("epoll", "cpu_us", 8),
        ];
        let message = browser.run("return document.getElementById('message').textContent");
        eprintln!(
            "CPU µs per request, 10 busy: poll {:.2}, epoll {:.2}; beside 5,000 idle: poll {:.2}, epoll {:.2} ({message})",
            before[0], before[1], after[0], after[1]
        );
        assert!(after[0] >= 5.0 * before[0], "poll: {before:?} -> {after:?}");
        assert!(
            after[1] <= 1.5 * before[1],
            "epoll: {before:?} -> {after:?}"
        );
        // Two servers, and two holders of their idle connections.
        started(lab.0.id(), 4)
    };
    // The browser is gone: the page's event stream closed, and the lab
    // stops its servers and holders a few seconds later.
    all_gone_within(&servers, 20, "servers left after the page closed");
    stop_with_sigterm(&mut lab.0);
}

/// SIGTERM, and the lab must exit by itself.
fn stop_with_sigterm(lab: &mut Child) {
    let _ = Command::new("kill").arg(lab.id().to_string()).status();
    let start = Instant::now();
    while lab.try_wait().expect("wait").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "bench live did not end on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `bench live` killed outright (SIGKILL: no handler runs) leaves no
/// server or holder behind: each was started with a parent-death signal.
#[test]
fn a_lab_killed_outright_leaves_no_server() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (mut lab, url) = live();
    let servers = start_two_with_holders(&lab, &host(&url));
    lab.0.kill().expect("SIGKILL");
    lab.0.wait().expect("reaped");
    all_gone_within(&servers, 10, "servers or holders outlived the lab");
}

/// SIGTERM with a page still open (its event stream never ends by
/// itself): the lab stops its servers and exits all the same.
#[test]
fn sigterm_with_a_page_open_ends_everything() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (mut lab, url) = live();
    let addr = host(&url);
    let mut page = TcpStream::connect(&addr).expect("the page's server");
    write!(page, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("events");
    let servers = start_two_with_holders(&lab, &addr);
    stop_with_sigterm(&mut lab.0);
    assert!(
        servers.iter().all(|&p| gone(p)),
        "servers or holders outlived the lab: {servers:?}"
    );
    drop(page);
}
