//! The tests of `report`.

use super::*;
use serde_json::{Value, json};

/// One round of a cell as compare.json holds it.
fn ran(value: f64, cpu_us: f64, server_share: f64, client_share: f64) -> Value {
    json!({"outcome": "ran", "rounds": [{
        "value": value, "note": null,
        "server": {"cpu_us_per_request": cpu_us, "user_us_per_request": 1.0,
                   "sys_us_per_request": cpu_us - 1.0, "syscalls_per_request": 2.0,
                   "context_switches_per_request": 0.5,
                   "voluntary_switches_per_request": 0.25,
                   "involuntary_switches_per_request": 0.25,
                   "cpu_share": server_share, "missing": {}},
        "client": {"cpu_share": client_share},
    }]})
}

fn run() -> Value {
    json!({
        "quick": false, "rounds": 1, "run_s": 1.0, "hold_connections": 19000,
        "minutes": 1.0, "spawn": null,
        "scenarios": [
            {"name": "keepalive", "what": "keep-alive c100", "unit": "req/s", "title": "t",
             "better": "higher", "scale": "linear", "per": "request", "theme": "work", "repeats": null},
            {"name": "close", "what": "new conn. c100", "unit": "req/s", "title": "t",
             "better": "higher", "scale": "linear", "per": "request", "theme": "work", "repeats": null},
            {"name": "hold", "what": "hold", "unit": "B per conn.", "title": "t",
             "better": "lower", "scale": "log", "per": null, "theme": "holding", "repeats": null},
        ],
        "rows": [
            {"server": {"name": "epoll", "binary": "epoll", "args": []}, "cells": [
                ran(100000.0, 10.0, 1.0, 1.0),
                ran(20000.0, 30.0, 0.6, 1.0),
                {"outcome": "ran", "rounds": [{"value": 250.0, "note": "19000 held",
                 "extra": {"bench_rss_mb": 9.5, "heads_per_s": 740.0,
                           "kernel_stack_per_conn": -2.46},
                 "server": hold_costs(), "client": {"cpu_share": 0.1}}]},
            ]},
            {"server": {"name": "threaded", "binary": "threaded", "args": []}, "cells": [
                ran(66000.0, 15.0, 1.0, 1.0),
                ran(19000.0, 35.0, 0.7, 1.0),
                {"outcome": "failed", "why": "held 3 of 10000"},
            ]},
            {"server": {"name": "threaded --pool 8", "binary": "threaded", "args": ["--pool", "8"]}, "cells": [
                {"outcome": "cannot", "why": "8 conn. at a time"},
                ran(21000.0, 30.0, 0.7, 1.0),
                {"outcome": "cannot", "why": "8 conn. at a time"},
            ]},
        ],
    })
}

/// A hold's costs: only the share of a core was counted.
fn hold_costs() -> Value {
    let none = "a hold answers too few HEADs to count per request";
    json!({"cpu_us_per_request": null, "user_us_per_request": null,
           "sys_us_per_request": null, "syscalls_per_request": null,
           "context_switches_per_request": null,
           "voluntary_switches_per_request": null,
           "involuntary_switches_per_request": null,
           "cpu_share": 0.01, "missing": {"cpu_us": none}})
}

/// The record a run of `json` wrote.
fn record(json: Value) -> CompareRecord {
    serde_json::from_value(json).unwrap()
}

/// The part of `text` between `name`'s anchors.
fn between<'a>(text: &'a str, name: &str) -> &'a str {
    text.split(&format!("<!-- ANCHOR: {name} -->"))
        .nth(1)
        .and_then(|t| t.split(&format!("<!-- ANCHOR_END: {name} -->")).next())
        .unwrap_or_else(|| panic!("no anchor {name} in {text}"))
}

/// A chapter's table has its model's variants and epoll as columns,
/// each figure as a multiple of epoll's, says why a cell is empty, and
/// does not rank a client-bound cell.
#[test]
fn a_chapter_table_sets_the_model_beside_epoll() {
    let run = record(run());
    let text = chapters::chapters(&run, &run.scenarios, &Row::all(&run));
    let threaded = between(&text, "threaded");
    assert!(
        threaded.contains("| scenario | `threaded` | `threaded --pool 8` | `epoll` |"),
        "{threaded}"
    );
    assert!(
        threaded.contains(
            "| keep-alive c100 (req/s ↑) | 66,000, 0.66× | n/a: 8 conn. at a time | 100,000 |"
        ),
        "{threaded}"
    );
    assert!(
        threaded.contains("| new conn. c100 (req/s ↑) | 19,000 (client-bound) |"),
        "no ratio for a client-bound rate: {threaded}"
    );
    assert!(threaded.contains("FAILED: held 3 of 10000"), "{threaded}");
    // epoll's own chapter does not repeat epoll as a reference column.
    assert!(text.contains("| scenario | `epoll` |\n"), "{text}");
    let costs = between(&text, "threaded-costs");
    assert!(
        costs.contains("| keep-alive c100: CPU µs (user + system) | 15.0 (1.00 + 14.0) | n/a: 8 conn. at a time | 10.0 (1.00 + 9.00) |"),
        "{costs}"
    );
    assert!(
        costs.contains("| keep-alive c100: system calls | 2.00 |"),
        "{costs}"
    );
    assert!(
        !costs.contains("hold"),
        "a hold has no per-request costs: {costs}"
    );
}

/// Each scenario's table shows what a request cost every server, the
/// shares of a core, and the further figures of its rounds.
#[test]
fn a_scenario_table_leads_with_costs() {
    let run = record(run());
    let text = compare(&run, &run.scenarios, &Row::all(&run));
    let keepalive = between(&text, "keepalive");
    assert!(
        keepalive.contains(
            "| `epoll` | 100,000 | 10.0 (1.00 + 9.00) | 2.00 | 0.50 (0.25 + 0.25) | 100% | 100% |"
        ),
        "{keepalive}"
    );
    // A kernel stack smaller than a hundredth of a thread's either way
    // is the machine's noise, and says so.
    let hold = between(&text, "hold");
    assert!(hold.contains("less than a hundredth of a stack"), "{hold}");
    assert!(
        hold.contains("| `epoll` | 250 (19000 held) | ~0 | 9.5 | 740 | 1% | 10% |"),
        "{hold}"
    );
    assert!(
        hold.contains("| `threaded` | FAILED: held 3 of 10000 | - | - | - | - | - |"),
        "{hold}"
    );
    // The grid by theme: each scenario in its theme's grid only.
    let work = between(&text, "summary-work");
    assert!(
        work.contains("| `threaded --pool 8` | n/a: 8 conn. at a time |"),
        "{work}"
    );
    assert!(
        work.contains("new conn. c100") && !work.contains("hold (B"),
        "{work}"
    );
    let holding = between(&text, "summary-holding");
    assert!(
        holding
            .trim_start()
            .starts_with("| server | hold (B per conn. ↓) |"),
        "{holding}"
    );
    assert!(
        !text.contains("ANCHOR: summary-waiting"),
        "no grid without a scenario"
    );
    assert!(
        !text.contains("ANCHOR: spawn"),
        "no spawn table without its run"
    );
}

/// The fork-against-thread table, from the run's `spawn` object.
#[test]
fn the_spawn_table_sets_a_fork_beside_a_thread() {
    let mut json = run();
    json["spawn"] = json!({"rounds": 2000, "big_rounds": 200, "thread_us": 25.0,
        "fork_small_us": 100.0, "fork_small_rss_kib": 2048, "fork_big_us": 10000.0,
        "fork_big_rss_kib": 264276});
    let run = record(json);
    let spawn = between(&compare(&run, &run.scenarios, &Row::all(&run)), "spawn").to_string();
    assert!(
        spawn.contains("| thread: `spawn` (64 KiB stack) + `join` | 25.0 µs |"),
        "{spawn}"
    );
    assert!(
        spawn.contains("parent RSS 2.1 MB | 100 µs (**4.0×**) |"),
        "{spawn}"
    );
    assert!(
        spawn.contains("parent RSS 270.6 MB | 10,000 µs (**400.0×**) |"),
        "{spawn}"
    );
    assert!(
        spawn.contains("Medians of 2000 rounds (200 for the big parent)"),
        "{spawn}"
    );
}
