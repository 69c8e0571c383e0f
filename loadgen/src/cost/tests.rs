//! The tests of `cost`.

use std::time::Duration;

use super::*;
use crate::procfs::CpuTimes;

fn totals(cpu_ms: u64, syscalls: Result<u64, String>) -> Totals {
    Totals {
        elapsed: Duration::from_secs(2),
        server_cpu: Ok(CpuTimes {
            user: Duration::from_millis(cpu_ms / 4),
            system: Duration::from_millis(cpu_ms - cpu_ms / 4),
        }),
        counts: vec![
            ("syscalls", syscalls),
            ("context_switches", Ok(300)),
            ("voluntary_switches", Ok(200)),
            ("involuntary_switches", Ok(100)),
        ],
        client_cpu: Duration::from_millis(1980),
    }
}

/// Totals divided by the work, named with their unit in JSON.
#[test]
fn costs_are_per_unit_of_work() {
    let costs = totals(1000, Ok(200_000)).per(100_000, Unit::Request);
    assert_eq!(costs.cpu_us, Some(10.0));
    assert_eq!(costs.user_us, Some(2.5));
    assert_eq!(costs.sys_us, Some(7.5));
    assert_eq!(costs.syscalls, Some(2.0));
    assert_eq!(costs.context_switches, Some(0.003));
    assert_eq!(costs.cpu_share, Some(0.5));
    assert!(costs.missing.is_empty(), "{:?}", costs.missing);
    let json = serde_json::to_value(&costs).unwrap();
    assert_eq!(json["syscalls_per_request"], 2.0);
    assert_eq!(json["cpu_share"], 0.5);
    let echo = totals(1000, Ok(200_000)).per(100_000, Unit::Message);
    let json = serde_json::to_value(&echo).unwrap();
    assert_eq!(json["cpu_us_per_message"], 10.0);
    assert!(json.get("cpu_us_per_request").is_none());
}

/// The total CPU is task-clock's nanoseconds where it was counted;
/// /proc's ticks give only the split between user and system.
#[test]
fn the_total_is_exact_and_the_split_is_sampled() {
    let mut totals = totals(1000, Ok(200_000));
    totals.counts.push(("cpu_ns", Ok(1_200_000_000)));
    let costs = totals.per(100_000, Unit::Request);
    assert_eq!(costs.cpu_us, Some(12.0));
    assert_eq!(costs.user_us, Some(3.0));
    assert_eq!(costs.sys_us, Some(9.0));
    assert_eq!(costs.cpu_share, Some(0.6));
    let mut idle = totals.clone();
    idle.server_cpu = Ok(CpuTimes::default());
    let costs = idle.per(100_000, Unit::Request);
    assert_eq!(costs.cpu_us, Some(12.0));
    assert_eq!(costs.user_us, None);
    assert!(costs.missing["user_us_per_request"].contains("ticks"));
    // Ticks that saw less than half of the exact total: no split.
    let mut coarse = totals.clone();
    coarse.server_cpu = Ok(CpuTimes {
        user: Duration::ZERO,
        system: Duration::from_millis(500),
    });
    let costs = coarse.per(100_000, Unit::Request);
    assert_eq!(
        (costs.cpu_us, costs.user_us, costs.sys_us),
        (Some(12.0), None, None)
    );
}

/// A figure that was not counted is null with the reason, never 0; the
/// JSON reads back as it was written.
#[test]
fn a_missing_figure_is_null_with_its_reason() {
    let costs = totals(1000, Err("no tracefs".into())).per(100_000, Unit::Request);
    assert_eq!(costs.syscalls, None);
    assert_eq!(costs.missing["syscalls_per_request"], "no tracefs");
    let json = serde_json::to_value(&costs).unwrap();
    assert!(json["syscalls_per_request"].is_null());
    assert_eq!(json["missing"]["syscalls_per_request"], "no tracefs");
    assert!(costs.line().contains("- system calls"), "{}", costs.line());
    assert!(
        costs.line().contains("not counted: no tracefs"),
        "{}",
        costs.line()
    );
    let back: Costs = serde_json::from_value(json).unwrap();
    assert_eq!(back, costs);
    let none = totals(1000, Ok(5)).per(0, Unit::Request);
    assert_eq!(none.cpu_us, None);
    assert_eq!(none.missing["cpu_us_per_request"], "nothing was answered");
    assert_eq!(
        none.cpu_share,
        Some(0.5),
        "the share needs no work to divide by"
    );
}

/// Without perf events (a user who is not root), the ticks stand in for
/// the total only when they saw enough: a short run they saw none of
/// is "not counted", with why, not 0 µs.
#[test]
fn without_perf_too_few_ticks_are_not_a_zero() {
    let mut short = totals(0, Ok(10));
    short
        .counts
        .push(("cpu_ns", Err("perf events not allowed".into())));
    let costs = short.per(1_000, Unit::Request);
    assert_eq!((costs.cpu_us, costs.cpu_share), (None, None));
    let why = &costs.missing["cpu_us_per_request"];
    assert!(
        why.contains("perf events not allowed") && why.contains("ticks"),
        "{why}"
    );
    assert!(costs.line().starts_with("- µs CPU"), "{}", costs.line());
    let mut long = totals(1000, Ok(10));
    long.counts
        .push(("cpu_ns", Err("perf events not allowed".into())));
    assert_eq!(long.per(100_000, Unit::Request).cpu_us, Some(10.0));
}

/// The client was the limit only when its core was full and the
/// server's was not.
#[test]
fn client_bound_needs_a_full_client_and_an_idle_server() {
    let server = |share| Costs {
        cpu_share: Some(share),
        ..Costs::default()
    };
    let client = |share| Client { cpu_share: share };
    assert!(client_bound(&server(0.6), &client(0.99)));
    assert!(!client_bound(&server(0.95), &client(0.99)));
    assert!(!client_bound(&server(0.3), &client(0.4)));
    assert!(!client_bound(&Costs::default(), &client(1.0)));
}

#[test]
fn short_figures_stay_readable() {
    assert_eq!(short(9.412), "9.41");
    assert_eq!(short(2.0), "2.00");
    assert_eq!(short(0.0042), "0.004");
    assert_eq!(short(118.4), "118");
    assert_eq!(short(12.34), "12.3");
    assert_eq!(short(0.0), "0.00");
}
