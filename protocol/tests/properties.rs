//! Property tests: no input makes the connection panic, and no way of
//! splitting a byte stream changes what it answers.

mod support;

use proptest::prelude::*;
use protocol::Proto;
use support::{drive, service};

/// Pieces of requests, valid and not, that make realistic pipelines.
const FRAGMENTS: &[&str] = &[
    "GET / HTTP/1.1\r\n\r\n",
    "HEAD /numbers.txt HTTP/1.1\r\n\r\n",
    "GET /bytes/100 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET /delay/3 HTTP/1.1\r\n\r\n",
    "GET /cpu/1 HTTP/1.1\r\n\r\n",
    "GET /%2e%2e/x HTTP/1.1\r\n\r\n",
    "POST / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
    "GET / HTTP/2.0\r\n\r\n",
    "\r\n",
    "GET /",
    "Host: x\r\n",
    "\n",
];

fn pipeline() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12)
        .prop_map(|parts| parts.concat().into_bytes())
}

/// Cuts `bytes` at the given points (taken modulo its length).
fn chunk(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points {
        chunks.push(bytes[start..point].to_vec());
        start = point;
    }
    chunks.push(bytes[start..].to_vec());
    chunks
}

fn same_output_for_any_split(proto: Proto, bytes: &[u8], cuts: &[usize], eof: bool) {
    let service = service(proto);
    let whole = drive(&service, &[bytes], eof);
    let chunks = chunk(bytes, cuts);
    let pieces: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    assert_eq!(drive(&service, &pieces, eof), whole);
}

proptest! {
    /// Arbitrary bytes never panic, as HTTP or echo, and any chunking of them
    /// gives the same output.
    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048),
                       cuts in prop::collection::vec(any::<usize>(), 0..8),
                       eof in any::<bool>()) {
        same_output_for_any_split(Proto::Http, &bytes, &cuts, eof);
        same_output_for_any_split(Proto::Echo, &bytes, &cuts, eof);
    }

    /// Pipelines of valid and invalid requests: any chunking, same answers.
    #[test]
    fn arbitrary_pipelines(bytes in pipeline(),
                           cuts in prop::collection::vec(any::<usize>(), 0..8),
                           eof in any::<bool>()) {
        same_output_for_any_split(Proto::Http, &bytes, &cuts, eof);
    }

    /// Echo gives back exactly what it got, however it was split.
    #[test]
    fn echo_is_identity(bytes in prop::collection::vec(any::<u8>(), 0..200_000),
                        cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let chunks = chunk(&bytes, &cuts);
        let pieces: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let t = drive(&service(Proto::Echo), &pieces, true);
        prop_assert_eq!(t.output, bytes);
        prop_assert!(t.closed);
    }
}
