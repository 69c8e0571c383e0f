//! A server's idle connections, held by a process of their own
//! (`bench live-hold ADDR`, which the lab starts): the lab's own fds are
//! then only its busy clients', and each server may be given as many idle
//! connections as the machine lets one process open, whatever the others
//! hold. Two servers with 10,000 each would need more fds than one process
//! may have here.
//!
//! The lab and its holder speak in lines: the lab writes how many to hold
//! (`5000`), the holder opens or closes connections until it holds that
//! many and answers `held 5000`; or, when it could not, how many it holds
//! and why (`held 3250; holding 5000 idle: Connection refused`).
//! The holder ends when its input closes (the lab dropped it, or died:
//! it is also started with a parent-death signal).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use loadgen::Failure;

use crate::compare::sweep::open_idle;

/// The lab's end of a holder process.
pub struct Holder {
    child: Child,
    input: ChildStdin,
    answers: BufReader<ChildStdout>,
    /// Connections held, as the holder last said.
    pub held: usize,
}

impl Holder {
    /// Starts a holder for the server at `addr`. Call it from the thread
    /// that drives the server: the holder is killed when that thread ends.
    pub fn start(addr: SocketAddr) -> io::Result<Holder> {
        let mut command = Command::new(std::env::current_exe()?);
        crate::sys::die_with_parent(&mut command);
        let mut child = command
            .args(["live-hold", &addr.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("the holder's pipes"));
        };
        Ok(Holder {
            child,
            input,
            answers: BufReader::new(output),
            held: 0,
        })
    }

    /// Holds `n` idle connections: opens the missing ones, closes the
    /// extra ones. `Err` is the holder's why.
    pub fn hold(&mut self, n: usize) -> Result<(), String> {
        if n == self.held {
            return Ok(());
        }
        let mut answer = String::new();
        writeln!(self.input, "{n}")
            .and_then(|()| self.answers.read_line(&mut answer))
            .map_err(|e| format!("the holder: {e}"))?;
        let (held, why) = match answer.trim().split_once("; ") {
            Some((held, why)) => (held, Some(why)),
            None => (answer.trim(), None),
        };
        let held = held.strip_prefix("held ").and_then(|h| h.parse().ok());
        let Some(held) = held else {
            return Err(format!("the holder said {answer:?}"));
        };
        self.held = held;
        match why {
            None => Ok(()),
            Some(why) => Err(why.to_string()),
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bench live-hold ADDR`: holds as many idle connections to `addr` as
/// each line of its input asks, answering each line, until its input
/// closes.
pub fn serve(addr: SocketAddr) -> Result<(), Failure> {
    plumbing::raise_fd_limit();
    let mut idle: Vec<TcpStream> = Vec::new();
    let mut out = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let answer = match line.trim().parse::<usize>() {
            Err(_) => format!("held {}; {line:?} is not a count", idle.len()),
            Ok(n) => {
                idle.truncate(n);
                match open_idle(addr, n, &mut idle) {
                    Ok(()) => format!("held {}", idle.len()),
                    Err(e) => format!("held {}; holding {n} idle: {e}", idle.len()),
                }
            }
        };
        writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
