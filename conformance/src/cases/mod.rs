//! The cases, by theme. Each module's `cases()` lists its own.

mod bad_input;
mod concurrency;
mod echo;
mod hostile;
mod http;
mod limits;
mod process;

use crate::Case;

/// Every case of the suite, in a stable order.
pub fn all() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(http::cases());
    all.extend(bad_input::cases());
    all.extend(echo::cases());
    all.extend(concurrency::cases());
    all.extend(limits::cases());
    all.extend(process::cases());
    all.extend(hostile::cases());
    all
}
