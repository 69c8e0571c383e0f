//! The SIGIO fallback, forced and watched: with `--sigpending 1` the
//! real-time queue holds one signal, so 40 clients connecting and asking at
//! once overflow it. The kernel then raises plain SIGIO, which names no fd,
//! and the loop must find the ready connections itself by serving them
//! all. Every client must still get every answer, and the trace must show
//! that the overflow path was taken (or the test proves nothing).

use std::thread;

use conformance::Target;
use conformance::client::Client;

const CLIENTS: usize = 40;
const REQUESTS: usize = 5;

#[test]
fn an_overflowing_queue_falls_back_to_sigio_and_loses_no_client() {
    let target = Target::new("signal_driven", env!("CARGO_BIN_EXE_signal_driven"));
    let server = target
        .start(&["--sigpending", "1", "--trace"])
        .expect("the server starts");
    let addr = server.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || -> Result<usize, String> {
                let mut client = Client::connect(addr)?;
                let mut answered = 0;
                for _ in 0..REQUESTS {
                    let response = client.get("/numbers.txt")?;
                    if response.text() == "zero\none\ntwo\nthree\nfour\nfive\n" {
                        answered += 1;
                    }
                }
                Ok(answered)
            })
        })
        .collect();
    let answered: usize = clients
        .into_iter()
        .map(|client| {
            client
                .join()
                .expect("no client panics")
                .expect("no client fails")
        })
        .sum();
    assert_eq!(
        answered,
        CLIENTS * REQUESTS,
        "every request answered, correctly"
    );
    let stderr = server.stderr();
    let sweeps = stderr.matches("the real-time queue overflowed").count();
    assert!(
        sweeps > 0,
        "the queue never overflowed: the SIGIO path was not exercised; trace:\n{stderr}"
    );
}
