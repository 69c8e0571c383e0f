//! The fuzz target: the same property as `tests/properties.rs`, on inputs
//! libFuzzer mutates. The first byte says where to cut, the rest is what a
//! client sends; fed whole or cut every N bytes, as HTTP and as echo, the
//! connection must give the same transcript and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::Proto;

#[path = "../../tests/support/mod.rs"]
mod support;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, bytes)) = data.split_first() else {
        return;
    };
    for proto in [Proto::Http, Proto::Echo] {
        let service = support::service(proto);
        let whole = support::drive(&service, &[bytes], true);
        let pieces: Vec<&[u8]> = bytes.chunks(usize::from(cut).max(1)).collect();
        assert_eq!(support::drive(&service, &pieces, true), whole);
    }
});
