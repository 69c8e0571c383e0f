//! What a held connection is made of, for each event loop: the structs it
//! holds per connection, field by field, with their sizes as the compiler
//! laid them out (`protocol::layout`). Written to `held.md` beside the
//! other tables (`compare --redraw` writes it again); the chapters include
//! it next to the memory their runs measured, and a test checks that the
//! committed file is the one these types give.

use std::cmp::Reverse;
use std::fmt::Write as _;
use std::mem::size_of;
use std::time::Instant;

use nix::sys::epoll::EpollFlags;
use plumbing::table::{Client, Table};
use protocol::Connection;
use protocol::layout::Part;

/// One event loop's parts per held connection.
struct Held {
    /// The anchor: `held-MODEL`.
    model: &'static str,
    /// Where the connection lives (its slot), then what else is kept per
    /// connection beside it.
    parts: Vec<(&'static str, Part)>,
}

/// Its entry in the timer heap (`plumbing::timers`): one live per connection.
fn timer_entry() -> Part {
    Part::new(
        "its entry in the timer heap",
        std::any::type_name::<Reverse<(Instant, usize)>>(),
        size_of::<Reverse<(Instant, usize)>>(),
    )
}

/// A readiness loop's slot in its `Table`: an `Option<Client<R>>`.
fn readiness_slot<R>() -> Part {
    Table::<Client<R>>::slot_layout(Client::<R>::layout())
}

fn loops() -> Vec<Held> {
    vec![
        Held {
            model: "nonblocking",
            // No timer heap: the busy loop looks at every deadline each pass.
            parts: vec![("slot", readiness_slot::<()>())],
        },
        Held {
            model: "select",
            parts: vec![("slot", readiness_slot::<()>()), ("timer", timer_entry())],
        },
        Held {
            model: "epoll",
            parts: vec![
                ("slot", readiness_slot::<EpollFlags>()),
                ("timer", timer_entry()),
            ],
        },
        Held {
            model: "signal_driven",
            parts: vec![
                ("slot", readiness_slot::<()>()),
                ("timer", timer_entry()),
                (
                    "tokens",
                    Part::new(
                        "its entry in the fd-to-token map",
                        "(RawFd, usize)",
                        size_of::<(i32, usize)>(),
                    ),
                ),
            ],
        },
        Held {
            model: "async_await",
            parts: async_await::held_layout()
                .into_iter()
                .map(|part| ("part", part))
                .collect(),
        },
        Held {
            model: "uring",
            parts: vec![("slot", uring::slot_layout()), ("timer", timer_entry())],
        },
    ]
}

/// The rows of a part and its fields, the fields' names as paths.
fn rows(part: &Part, path: &str, out: &mut String) {
    for field in &part.fields {
        let name = match (path.is_empty(), field.name.as_str()) {
            (_, "(padding)") => "(padding)".to_string(),
            (true, name) => name.to_string(),
            (false, name) => format!("{path}.{name}"),
        };
        if field.fields.is_empty() {
            let ty = match field.ty.is_empty() {
                true => String::new(),
                false => format!("`{}`", field.ty),
            };
            // A field's path as code; a description (padding, the rest) as words.
            let shown = match name.starts_with('(') {
                true => format!("· {name}"),
                false => format!("· `{name}`"),
            };
            let _ = writeln!(out, "| {shown} | {ty} | {} |", field.bytes);
        } else {
            rows(field, &name, out);
        }
    }
}

/// `held.md`: a table per event loop, between anchors.
pub fn render() -> String {
    let mut out = String::from(
        "<!-- Written by `bench compare` from the types themselves (bench/src/held.rs): do not edit by hand. -->\n",
    );
    let exchange = Connection::exchange_layout();
    for held in loops() {
        let _ = writeln!(out, "\n<!-- ANCHOR: held-{} -->", held.model);
        out.push_str("| part | type | bytes |\n| --- | --- | ---: |\n");
        let mut total = 0;
        for (_, part) in &held.parts {
            let _ = writeln!(out, "| {} | `{}` | {} |", part.name, part.ty, part.bytes);
            rows(part, "", &mut out);
            total += part.bytes;
        }
        let _ = writeln!(out, "| **per idle connection, in all** | | **{total}** |");
        let _ = writeln!(
            out,
            "| while a request is in progress, boxed (the `Connection`'s `exchange`) | `{}` | {} |",
            exchange.ty, exchange.bytes
        );
        let _ = writeln!(out, "<!-- ANCHOR_END: held-{} -->", held.model);
    }
    out
}

/// Writes `held.md` into `out`.
pub fn write(out: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(out.join("held.md"), render())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The book's tables are what the types give now: a field added to a
    /// connection fails this until `compare --redraw --book` writes them.
    #[test]
    fn the_books_held_tables_are_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/results/held.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == render(),
            "{path} is stale: `cargo run --release -p bench -- compare --redraw --book` writes it again"
        );
    }

    /// Every event loop's idle connection is accounted for byte by byte:
    /// its parts add up to the total the table prints.
    #[test]
    fn the_parts_add_up() {
        for held in loops() {
            for (_, part) in &held.parts {
                fn sum(part: &Part) -> usize {
                    match part.fields.is_empty() {
                        true => part.bytes,
                        false => part.fields.iter().map(sum).sum(),
                    }
                }
                assert_eq!(sum(part), part.bytes, "{}: {}", held.model, part.name);
            }
        }
    }
}
