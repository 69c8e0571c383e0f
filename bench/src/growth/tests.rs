//! The tests of `growth`.

use super::*;
use crate::compare::{Round, variants};
use loadgen::cost::{Client, Costs, Unit};
use std::collections::BTreeMap;

/// A round with a rate, a CPU cost per request and a memory reading.
fn round(rate: f64, cpu_us: f64, rss_mb: f64) -> Round {
    let mut server = Costs::none(Unit::Request, "test");
    server.cpu_us = Some(cpu_us);
    server.cpu_share = Some(1.0);
    server.context_switches = Some(0.01);
    Round {
        value: rate,
        note: None,
        extra: BTreeMap::from([("rss_mb".to_string(), rss_mb), ("p99_ms".to_string(), 1.5)]),
        server,
        client: Client { cpu_share: 0.5 },
    }
}

/// A small recorded run, written out: the tables hold its figures, the
/// sentences read them, the steps a model could not reach say why, and
/// every curve is drawn.
#[test]
fn a_small_run_is_written_and_drawn() {
    let poll = variants("poll").remove(0);
    let select = variants("select").remove(0);
    let ran = |r: Round| Cell::Ran { rounds: vec![r] };
    let cannot = Cell::Cannot {
        why: "fds >= 1024 refused".to_string(),
    };
    let json = serde_json::json!({
        "quick": false, "rounds": 1, "run_s": 1.0, "minutes": 1.0,
        "sweeps": [
            {"name": "idle-sweep", "axis": "idle", "points": [0, 5000],
             "rows": [
                {"server": poll, "cells": [ran(round(90_000.0, 10.0, 3.0)), ran(round(3_000.0, 300.0, 4.0))]},
                {"server": select, "cells": [ran(round(95_000.0, 11.0, 3.0)), cannot.clone()]},
             ]},
            {"name": "concurrency-sweep", "axis": "clients", "points": [1, 100],
             "rows": [
                {"server": poll, "cells": [ran(round(20_000.0, 20.0, 3.0)), ran(round(85_000.0, 11.0, 3.5))]},
                {"server": select, "cells": [ran(round(19_000.0, 21.0, 3.0)), ran(round(88_000.0, 10.5, 3.5))]},
             ]},
        ],
    });
    let out = std::env::temp_dir().join(format!("iomodels-growth-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let record: SweepsRecord = serde_json::from_value(json).unwrap();
    write(&out, &record).unwrap();
    let md = std::fs::read_to_string(out.join("sweeps.md")).unwrap();
    assert!(md.contains("<!-- ANCHOR: idle-cpu -->"), "{md}");
    assert!(md.contains("| `poll` | 10.0 | 300 |"), "{md}");
    assert!(
        md.contains("| `select` | 11.0 | n/a: fds >= 1024 refused |"),
        "{md}"
    );
    // (4 MB - 3 MB) over 5,000 connections: 200 bytes each, and 3 MB
    // with none.
    assert!(
        md.contains("| `poll` | 200 | 3.0 | 5,000 connections |"),
        "{md}"
    );
    assert!(
        md.contains("a request cost `poll` 300 µs of CPU, 30.0 times the 10.0 µs"),
        "{md}"
    );
    assert!(md.contains("<!-- ANCHOR: select-growth -->"), "{md}");
    // The headline reads poll at the ladder's top (5,000 here).
    assert!(
        md.contains(
            "With 5,000 idle connections beside 10 busy clients, a request cost \
             `poll` 300 µs, 30.0 times its 10.0 µs with none."
        ),
        "{md}"
    );
    for chart in [
        "idle-sweep-cpu.svg",
        "idle-sweep-rate.svg",
        "idle-sweep-p99.svg",
        "memory.svg",
        "concurrency-sweep-rate.svg",
        "concurrency-sweep-cpu.svg",
        "concurrency-sweep-switches.svg",
        "concurrency-sweep-p99.svg",
        "concurrency-sweep-memory.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(svg.contains("<svg"), "{chart}");
        let names = |name: &str| svg.lines().any(|l| l.trim() == name);
        assert!(names("poll"), "{chart} names poll");
    }
    // The idle CPU curve has a line for poll (two steps), not for
    // select (one step).
    let svg = std::fs::read_to_string(out.join("idle-sweep-cpu.svg")).unwrap();
    assert!(svg.contains("<polyline"), "a line is drawn");
    assert!(
        !svg.lines().any(|l| l.trim() == "select"),
        "a single step draws no line"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
