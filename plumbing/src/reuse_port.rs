//! SO_REUSEPORT without sharing a port by mistake.
//!
//! `epoll --workers N` (and `epoll-mio`) gives each worker a listener of its
//! own on one port, all bound with SO_REUSEPORT, and the kernel spreads new
//! connections over them. But the kernel lets *any* socket of the same user
//! that sets SO_REUSEPORT join that port, whatever process it belongs to. A
//! second server started on the port by mistake binds without an error, and
//! from then on the kernel sends part of the new clients to it. The bind
//! cannot tell, so the server looks, once its first listener is listening:
//! it lists the sockets that listen on its port (`/proc/self/net/tcp`, the
//! table `ss -ltn` reads) and compares them with its own by inode. One that
//! is not its own means another process holds the port, and the server
//! refuses to start, as a bind without SO_REUSEPORT refuses (`AddrInUse`).
//! A holder that did not set SO_REUSEPORT never gets this far: the kernel
//! refuses the bind itself.
//!
//! # The race that remains, and why it is harmless
//!
//! Two servers started at the same instant can both bind before either has
//! looked. Each looks only after its own listener listens, so the one that
//! looks second sees the first one's listener (or nothing, if the first has
//! already refused and closed it). Hence at most one of them goes on
//! serving, and never beside the other: at worst both refuse, and the user
//! starts one again. A client that connects in the instant a refusing
//! server's listener exists can land in its queue and is reset when it
//! exits: it had reached a server that never started. What the look cannot
//! catch is a program that joins the port *later* and does not look itself;
//! the sharing is then that program's, and no check at start-up could stop it.
//!
//! "Listens on the port" means, as for the kernel's own bind check: a
//! listening socket of the same family (IPv4 or IPv6), on the same port, at
//! the same address or where either address is the wildcard (`0.0.0.0`,
//! `::`). A dual-stack `::` listener is not compared with an IPv4 one.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

/// `st` of a listening socket in `/proc/net/tcp` (the kernel's TCP_LISTEN).
const LISTEN: &str = "0A";

// ANCHOR: refuse_if_shared
/// Fails with `AddrInUse` if a socket other than `listener` listens on its
/// address (see the module docs): call it once `listener` is listening. The
/// error says why as the kernel's own refusal does, without the address,
/// which the caller's line names (`cannot listen on ADDR: ...`).
pub fn refuse_if_shared(listener: &TcpListener) -> io::Result<()> {
    let addr = listener.local_addr()?;
    // The socket's inode, the number /proc/net/tcp lists it by.
    let ours = fs::metadata(format!("/proc/self/fd/{}", listener.as_raw_fd()))?.ino();
    let table = match addr {
        SocketAddr::V4(_) => "/proc/self/net/tcp",
        SocketAddr::V6(_) => "/proc/self/net/tcp6",
    };
    let text = fs::read_to_string(table).map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("cannot read {table} to check that no other process shares the port: {err}"),
        )
    })?;
    let shared = listeners(&text).any(|(other, inode)| inode != ours && overlaps(other, addr));
    match shared {
        true => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "Address already in use: another process listens on it (SO_REUSEPORT would share the port)",
        )),
        false => Ok(()),
    }
}
// ANCHOR_END: refuse_if_shared

/// Two listeners that the kernel would refuse to bind side by side without
/// SO_REUSEPORT: same port, and the same address or a wildcard.
fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// The listening sockets of a `/proc/net/tcp` or `tcp6` table: address and
/// inode. A line that does not parse is skipped (the header among them).
fn listeners(table: &str) -> impl Iterator<Item = (SocketAddr, u64)> + '_ {
    table.lines().filter_map(|line| {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(3) != Some(&LISTEN) {
            return None;
        }
        let addr = parse_addr(fields.get(1)?)?;
        let inode = fields.get(9)?.parse().ok()?;
        Some((addr, inode))
    })
}

/// `0100007F:1BC3` → 127.0.0.1:7107. The kernel prints the address as the
/// 32-bit words it holds in memory (network byte order), each as a native
/// integer in hex, and the port in host order.
fn parse_addr(field: &str) -> Option<SocketAddr> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..ip.len()).step_by(8) {
        let word = u32::from_str_radix(ip.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).into(),
        16 => Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).into(),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as Linux prints them (x86-64, little-endian): a header, two
    /// listeners on 127.0.0.1:7107, a connection on that port, a wildcard.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1BC3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5078 1 0000000061ad6435 100 0 0 10 0
   1: 0100007F:1BC3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5077 1 00000000e8aaf4a6 100 0 0 10 0
   2: 0100007F:1BC3 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 6001 1 0000000000000000 20 4 30 10 -1
   3: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7000 1 0000000000000000 100 0 0 10 0
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1BC3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0000000000000000 100 0 0 10 0
";

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("a socket address")
    }

    #[test]
    fn the_listening_sockets_are_read_with_their_inodes() {
        let found: Vec<_> = listeners(TCP).collect();
        assert_eq!(
            found,
            [
                (addr("127.0.0.1:7107"), 5078),
                (addr("127.0.0.1:7107"), 5077),
                (addr("0.0.0.0:8080"), 7000),
            ]
        );
        assert_eq!(
            listeners(TCP6).collect::<Vec<_>>(),
            [(addr("[::1]:7107"), 9001)]
        );
    }

    #[test]
    fn same_port_overlaps_at_the_same_address_or_a_wildcard() {
        let ours = addr("127.0.0.1:7107");
        assert!(overlaps(addr("127.0.0.1:7107"), ours));
        assert!(overlaps(addr("0.0.0.0:7107"), ours));
        assert!(overlaps(ours, addr("0.0.0.0:7107")));
        assert!(!overlaps(addr("127.0.0.2:7107"), ours));
        assert!(!overlaps(addr("127.0.0.1:7108"), ours));
        assert!(!overlaps(addr("0.0.0.0:7108"), ours));
    }

    #[test]
    fn a_listener_alone_passes_and_a_second_one_is_refused() {
        let first = crate::listen(addr("127.0.0.1:0"), true).expect("a listener");
        refuse_if_shared(&first).expect("alone on its port");
        // A second process would bind the same way; from this process the
        // kernel lets it bind too, which is the point: only the look sees it.
        let second = crate::listen(first.local_addr().expect("bound"), true).expect("joins");
        let refused = refuse_if_shared(&second).expect_err("shares the port");
        assert_eq!(refused.kind(), io::ErrorKind::AddrInUse);
        assert!(
            refused.to_string().starts_with("Address already in use: "),
            "{refused}"
        );
    }
}
