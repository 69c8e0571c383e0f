//! What a model declares about itself, once: its binaries, the flag
//! variants worth running, what each cannot do, its core and its colour.
//! Each model crate has a `BINARIES` constant of these; its conformance test
//! runs the suite on every variant, and the bench's lab measures the
//! variants marked `measured`, both adjusting to the same limits; `bench
//! cores` runs the suite against each declared core, and every chart of the
//! book draws a model in its declared colour.
//!
//! A crate of its own, with no dependencies, so that the conformance suite
//! (a black-box test of a binary) reads the declarations without compiling
//! a server's protocol or plumbing.

/// What a variant cannot do, so that the suite and the bench expect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Serves this many connections at a time, the rest waiting in the
    /// backlog: 1 for the iterative server, N for a pool of N.
    pub at_a_time: Option<usize>,
    /// One past the highest fd its wait can watch (`select`: FD_SETSIZE,
    /// 1024); clients past it are refused.
    pub fd_limit: Option<usize>,
    /// A process per connection, with an fd table of its own.
    pub process_per_connection: bool,
    /// A thread per connection.
    pub thread_per_connection: bool,
    /// Never sleeps: a whole CPU even with nothing to do (the busy loop).
    pub spins: bool,
}

impl Limits {
    /// No limit: every connection at once, and sleeps when idle.
    pub const NONE: Limits = Limits {
        at_a_time: None,
        fd_limit: None,
        process_per_connection: false,
        thread_per_connection: false,
        spins: false,
    };
}

/// One way to run a binary: its model flags and what it then cannot do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// The model flags (none: the defaults).
    pub args: &'static [&'static str],
    /// What it cannot do.
    pub limits: Limits,
    /// `bench compare` measures it (the suite tests every variant).
    pub measured: bool,
}

/// One binary of a model crate, and its variants, the default first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    /// The binary's name (`epoll-mio`).
    pub name: &'static str,
    /// Its crate's version, `env!("CARGO_PKG_VERSION")`: what `--version`
    /// prints after the name (`epoll-mio 0.1.0`), as the suite checks.
    pub version: &'static str,
    /// Its variants.
    pub variants: &'static [Variant],
    /// Its core: the example of the same crate that is the model's loop
    /// alone, over the protocol and nothing else (`epoll_core`), which
    /// `bench cores` runs the suite against. `None`: no core (a reference).
    pub core: Option<&'static str>,
    /// Its colour in every chart of the book, red, green and blue.
    pub colour: Colour,
    /// A reference, not a model (`tokio_ref`): measured beside the models
    /// and marked so in every table.
    pub reference: bool,
}

/// A colour, red, green and blue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Variant {
    /// The default variant, with `limits`, measured.
    pub const fn default_with(limits: Limits) -> Variant {
        Variant {
            args: &[],
            limits,
            measured: true,
        }
    }

    /// A variant with model flags `args` and no limits, measured.
    pub const fn flags(args: &'static [&'static str]) -> Variant {
        Variant {
            args,
            limits: Limits::NONE,
            measured: true,
        }
    }
}
