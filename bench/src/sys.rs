//! The lab's one unsafe call: a server the lab starts is killed with it.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the process `command` starts receive SIGKILL when the thread that
/// started it ends (`PR_SET_PDEATHSIG`): a lab killed outright leaves no
/// server behind. Start servers from a thread that lives as long as the
/// lab (the main thread): the signal follows the thread, not the process.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe work is allowed: it makes one prctl(2) system
    // call and allocates nothing (an error is a raw errno).
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
}
