//! The bench's one unsafe call: giving a perf tracepoint counter a filter.

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;

use perf_event::Counter;

/// Makes `counter` (a tracepoint) count only the events whose fields pass
/// `filter`, in the kernel's filter syntax (`prev_state == 0`): the ioctl
/// `PERF_EVENT_IOC_SET_FILTER`, which perf-event2 does not wrap.
pub fn set_filter(counter: &Counter, filter: &str) -> io::Result<()> {
    let filter = CString::new(filter).map_err(io::Error::other)?;
    // SAFETY: the fd is the counter's own and stays open for the call (the
    // borrow of `counter`); the kernel reads the NUL-terminated string
    // during the call only, and `filter` outlives it. The pointer is `*mut`
    // in the binding's signature, but the kernel does not write through it.
    let result = unsafe {
        perf_event_open_sys::ioctls::SET_FILTER(counter.as_raw_fd(), filter.as_ptr().cast_mut())
    };
    match result {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}
