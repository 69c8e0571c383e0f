//! # bench: the lab of the iomodels servers
//!
//! The `bench` binary, and the lab it runs: every model of the workspace
//! started, pinned, driven by the load generator (the `loadgen` crate) and
//! measured, side by side, and the book's tables and charts drawn from what
//! was measured. The generator's own modes (`bench load`, `echo`, `hold`)
//! are `loadgen`'s; this crate parses their flags beside its own and hands
//! them over. The lab depends on the generator, never the other way.
//!
//! # Modes
//!
//! - `compare`: every model binary of the workspace, in its model-flag
//!   variants, through the same scenarios (keep-alive, a new connection per
//!   request, 64 KiB answers, `/delay/100` at 1,000 connections, echo, a
//!   hold, 1,100 held, idle, a `/cpu` stall, wrk, ab, ten sleepers, 100
//!   hello threads), one server at a time, in rounds interleaved across the
//!   servers: one table, and JSON, Markdown and charts in a results folder
//!   (see [`compare`] and [`report`]).
//! - `compare --sweeps`: how each model's cost grows with idle connections
//!   and with concurrency, and its memory with the connections held
//!   ([`compare::sweep`], drawn by [`growth`]).
//! - `cores`: the conformance suite against each model's core, the loop
//!   as first written ([`cores`]).
//! - `timeline`: every server under `strace` through one choreography,
//!   drawn as swimlanes and a Perfetto trace ([`timeline`]).
//!
//! `cargo bench -p bench` runs `benches/models.rs`, a Criterion suite over
//! every model: one request on a keep-alive connection, and a burst of 16
//! new connections.
//!
//! # Records
//!
//! `compare.json`: `rounds`, `run_s`, `hold_connections`, `minutes`,
//! `scenarios` (each `name`, `heading`, `title`, `better`,
//! `per_unit_costs`), `rows` (each `server` and `cells`: `outcome` `ran`
//! with every round, each `value`, `note`, `extra`, `server` and `client`
//! as above; or `cannot` or `failed`, with `why`), `spawn`, the fork
//! against a thread, and `machine`, what the run was measured on
//! ([`machine::Machine`]; `sweeps.json` has it too).
//!
//! # Layout
//! - [`cli`]: the command line of every mode, as a library module (the
//!   book's command test parses with it); the generator's flags are
//!   `loadgen::cli`'s.
//! - [`compare`]: `bench compare`, every model through the same scenarios,
//!   and its sweeps.
//! - [`models`]: every model crate's declaration, in the book's order: the
//!   variants and limits the lab measures, each model's core and colour.
//! - [`machine`]: what a run was measured on, recorded with it.
//! - [`report`]: the charts and the book's tables, from `compare.json`.
//! - [`growth`]: the sweeps' tables and curves, from `sweeps.json`.
//! - [`lesson`]: the one chart of each model's lesson, which `report` and
//!   `growth` draw from the saved runs.
//! - [`held`]: what each event loop keeps per idle connection, field by
//!   field, from the types (`held.md`).
//! - [`chart`]: the SVG bar and line charts.
//! - [`cores`]: `bench cores`, the conformance suite against each model's
//!   core.
//! - [`live`]: `bench live`, the lab in a page: servers side by side, their
//!   costs once a second as the load changes.
//! - `sys`: the one unsafe call, a server's parent-death signal.
//! - [`timeline`]: `bench timeline`, every server under `strace` through
//!   one choreography, drawn as swimlanes and a Perfetto trace.

pub mod chart;
pub mod cli;
pub mod compare;
pub mod cores;
pub mod growth;
pub mod held;
pub mod lesson;
pub mod live;
pub mod machine;
pub mod models;
pub mod report;
mod sys;
pub mod timeline;
