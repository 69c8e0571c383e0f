//! The one chart of each model's lesson, `lesson-BINARY.svg`: one measure,
//! the model beside two or three neighbours, so that the lesson reads one
//! picture and its reference page keeps every table. They are drawn from
//! the saved runs like every figure of the book: a scenario or a cost from
//! `compare.json` by [`crate::report`], a figure of the idle sweep from
//! `sweeps.json` by [`crate::growth`].

/// What a lesson's chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// A scenario's own figure, by the scenario's name (`sleep`, `hold`).
    Scenario(&'static str),
    /// What one unit of a steady-work scenario cost: (scenario, cost),
    /// the cost being `cpu_us` or `syscalls`.
    Cost(&'static str, &'static str),
    /// A figure of the idle sweep against the idle connections held:
    /// `cpu_us`.
    IdleSweep(&'static str),
}

/// A lesson's chart: its model, what it shows, and beside what.
#[derive(Debug, Clone, Copy)]
pub struct Lesson {
    /// The model binary whose lesson it is; every variant of it is shown.
    pub binary: &'static str,
    /// The one measure the lesson reads.
    pub measure: Measure,
    /// The servers beside it, by the name of their row (`epoll`,
    /// `epoll --workers 2`, `tokio_ref (reference)`).
    pub beside: &'static [&'static str],
}

impl Lesson {
    /// The chart's file in the book's results: `lesson-BINARY.svg`.
    pub fn file(&self) -> String {
        format!("lesson-{}.svg", self.binary)
    }

    /// Whether the server of row `name` (binary `binary`) is on the chart.
    pub fn shows(&self, binary: &str, name: &str) -> bool {
        binary == self.binary || self.beside.contains(&name)
    }
}

/// Every lesson's chart: what each lesson is about, measured.
pub const LESSONS: &[Lesson] = &[
    // One connection at a time: ten slow requests wait in line.
    Lesson {
        binary: "blocking",
        measure: Measure::Scenario("sleep"),
        beside: &["forking", "threaded", "epoll"],
    },
    // A process per connection: what a fork costs a new connection.
    Lesson {
        binary: "forking",
        measure: Measure::Cost("close", "cpu_us"),
        beside: &["threaded", "blocking"],
    },
    // A thread per connection: what an idle one holds.
    Lesson {
        binary: "threaded",
        measure: Measure::Scenario("hold"),
        beside: &["forking", "epoll"],
    },
    // Busy polling: the CPU burnt with no client at all.
    Lesson {
        binary: "nonblocking",
        measure: Measure::Scenario("idle"),
        beside: &["select", "poll", "epoll"],
    },
    // FD_SETSIZE: how many of 1,100 connections are held.
    Lesson {
        binary: "select",
        measure: Measure::Scenario("wall"),
        beside: &["poll", "epoll"],
    },
    // The whole interest list every call: idle connections cost a request.
    Lesson {
        binary: "poll",
        measure: Measure::IdleSweep("cpu_us"),
        beside: &["select", "epoll"],
    },
    // The ready ones only: the same sweep, flat.
    Lesson {
        binary: "epoll",
        measure: Measure::IdleSweep("cpu_us"),
        beside: &["poll", "select"],
    },
    // The same loop through mio: what the library costs.
    Lesson {
        binary: "epoll-mio",
        measure: Measure::Cost("keepalive", "cpu_us"),
        beside: &["epoll", "tokio_ref (reference)"],
    },
    // A signal per readiness: the calls a request takes.
    Lesson {
        binary: "signal_driven",
        measure: Measure::Cost("keepalive", "syscalls"),
        beside: &["poll", "epoll"],
    },
    // Green threads: a stack per connection, smaller than a thread's.
    Lesson {
        binary: "coroutine",
        measure: Measure::Scenario("hold"),
        beside: &["threaded", "async_await"],
    },
    // A runtime you can read, against a production one.
    Lesson {
        binary: "async_await",
        measure: Measure::Cost("keepalive", "cpu_us"),
        beside: &["tokio_ref (reference)", "epoll"],
    },
    // A long computation beside a light connection: who keeps serving.
    Lesson {
        binary: "tokio_ref",
        measure: Measure::Scenario("stall"),
        beside: &["async_await", "epoll", "epoll --workers 2"],
    },
    // Completions: the system calls a request no longer needs.
    Lesson {
        binary: "uring",
        measure: Measure::Cost("keepalive", "syscalls"),
        beside: &["epoll", "async_await"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every model binary of the workspace has its lesson's chart, once,
    /// and a chart shows two or three neighbours, no more: a lesson is
    /// read in one sitting.
    #[test]
    fn every_model_has_one_chart_with_a_few_neighbours() {
        let workspace = crate::compare::workspace().expect("cargo metadata");
        for binary in &workspace.binaries {
            let charts = LESSONS.iter().filter(|l| l.binary == binary).count();
            assert_eq!(charts, 1, "{binary}: {charts} lesson charts");
        }
        for lesson in LESSONS {
            assert!(
                (2..=3).contains(&lesson.beside.len()),
                "{}: {:?}",
                lesson.binary,
                lesson.beside
            );
            assert!(lesson.shows(lesson.binary, lesson.binary));
            assert!(!lesson.shows("nginx", "nginx (reference)"));
        }
    }
}
