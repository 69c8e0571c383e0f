//! The models the lab knows: every model crate's declaration of its
//! binaries (`BINARIES`, see the `model` crate), in the book's order. What
//! the lab measures of a model (its variants and limits), which core `bench
//! cores` runs, the colour of its bars and curves, and whether it is a
//! reference all come from there; nothing about a model is written in the
//! lab itself.
//!
//! Adding a model is its crate (with its `BINARIES`), a dependency of this
//! crate, and a line in `DECLARED`, here.

use model::{Binary, Colour};

/// Every model crate's declaration of its binaries, in the book's order.
const DECLARED: [&[Binary]; 11] = [
    blocking::BINARIES,
    forking::BINARIES,
    threaded::BINARIES,
    nonblocking::BINARIES,
    select::BINARIES,
    epoll::BINARIES,
    signal_driven::BINARIES,
    coroutine::BINARIES,
    async_await::BINARIES,
    uring::BINARIES,
    tokio_ref::BINARIES,
];

/// Every declared binary, in the book's order.
pub fn all() -> impl Iterator<Item = &'static Binary> {
    DECLARED.iter().flat_map(|binaries| binaries.iter())
}

/// The declaration of `binary`, if a model crate declares it.
pub fn declared(binary: &str) -> Option<&'static Binary> {
    all().find(|b| b.name == binary)
}

/// Each model's binary and its core (`epoll`, `epoll_core`), in the book's
/// order: the references have none.
pub fn cores() -> impl Iterator<Item = (&'static str, &'static str)> {
    all().filter_map(|b| Some((b.name, b.core?)))
}

/// Whether `binary` is a reference (`tokio_ref`), not a model.
pub fn is_reference(binary: &str) -> bool {
    declared(binary).is_some_and(|b| b.reference)
}

/// The colour `binary` declares, if it is declared.
pub fn colour(binary: &str) -> Option<Colour> {
    declared(binary).map(|b| b.colour)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every model has a colour of its own, so no two curves of a chart
    /// can be told apart only by their labels.
    #[test]
    fn colours_are_distinct() {
        let colours: Vec<Colour> = all().map(|b| b.colour).collect();
        for (i, colour) in colours.iter().enumerate() {
            assert!(
                !colours[..i].contains(colour),
                "{colour:?} is declared twice"
            );
        }
    }

    /// Every model but the references has a core, and every core is an
    /// example its crate has (`bench cores` builds them by name).
    #[test]
    fn every_model_has_a_core() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for binary in all() {
            match binary.core {
                None => assert!(binary.reference, "{} has no core", binary.name),
                Some(core) => {
                    let found = std::fs::read_dir(&root)
                        .unwrap()
                        .flatten()
                        .any(|dir| dir.path().join(format!("examples/{core}.rs")).exists());
                    assert!(found, "{}: no examples/{core}.rs in any crate", binary.name);
                }
            }
        }
    }
}
