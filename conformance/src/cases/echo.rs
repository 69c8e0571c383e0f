//! `--proto echo`: every byte back, in order, whatever the split; half-close.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::client::{Client, Rng, check, read_some};
use crate::{Case, Outcome, Target};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "echo_8mib_random_chunks",
            "8 MiB written in random chunks while a second thread reads come back byte for byte.",
            echo_8mib,
        ),
        Case::new(
            "echo_half_close",
            "After the client's EOF the server sends everything owed, then closes.",
            echo_half_close,
        ),
    ]
}

/// The byte at offset `i` of the test stream (not periodic in any chunk size).
pub(super) fn byte_at(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn echo_8mib(target: &Target) -> Outcome {
    const TOTAL: usize = 8 << 20;
    let server = target.start(&["--proto", "echo"])?;
    let client = Client::connect(server.addr)?;
    let mut writer = client.stream().try_clone().map_err(|e| e.to_string())?;
    let sender = std::thread::spawn(move || -> Result<(), String> {
        let mut rng = Rng::new(0x5eed);
        let mut sent = 0;
        while sent < TOTAL {
            let n = rng.range(1, 65_536).min(TOTAL - sent);
            let chunk: Vec<u8> = (sent..sent + n).map(byte_at).collect();
            writer
                .write_all(&chunk)
                .map_err(|e| format!("write at {sent}: {e}"))?;
            sent += n;
        }
        Ok(())
    });
    let reader = client.stream().try_clone().map_err(|e| e.to_string())?;
    reader
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(0xbeef);
    read_back(&reader, TOTAL, || rng.range(1, READ_BUF))?;
    sender.join().map_err(|_| "sender panicked".to_string())??;
    server.finish()
}

/// The most [`read_back`] reads at once.
const READ_BUF: usize = 100_000;

/// Reads `total` bytes of the test stream back from `reader`, at most
/// `want()` bytes per read, and checks every one against [`byte_at`], in
/// order.
pub(super) fn read_back(
    reader: &TcpStream,
    total: usize,
    mut want: impl FnMut() -> usize,
) -> Outcome {
    let mut buf = vec![0u8; READ_BUF];
    let mut received = 0;
    while received < total {
        let want = want().clamp(1, READ_BUF);
        let n =
            read_some(reader, &mut buf[..want]).map_err(|e| format!("read at {received}: {e}"))?;
        check(n > 0, || format!("EOF after {received} of {total} bytes"))?;
        let wrong = (0..n).find(|&k| buf[k] != byte_at(received + k));
        check(wrong.is_none(), || {
            format!("wrong byte at offset {}", received + wrong.unwrap_or(0))
        })?;
        received += n;
    }
    Ok(())
}

fn echo_half_close(target: &Target) -> Outcome {
    let server = target.start(&["--proto", "echo"])?;
    let mut client = Client::connect(server.addr)?;
    let message: Vec<u8> = (0..200_000).map(byte_at).collect();
    client.send(&message)?;
    client.shutdown_write()?;
    let back = client.read_to_end()?;
    check(back == message, || {
        format!(
            "got {} of {} bytes back, or different ones",
            back.len(),
            message.len()
        )
    })?;
    server.finish()
}
