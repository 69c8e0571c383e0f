//! The live lab's web side, on axum: the page and its vendored charting
//! library, the models it may start, and the samples as server-sent events.
//!
//! - `GET /`: the page; `GET /vendor/…`: uPlot, vendored (no network).
//! - `GET /api/models`: every declared variant, with its colour.
//! - `POST /api/start` `{"servers": [...], "settings": {...}}`: stops the
//!   servers running, if any, and starts these (two to four); answers
//!   `{"run": N}`, the number its samples carry.
//! - `POST /api/settings` `{...}`: the load from the next second on.
//! - `POST /api/stop`: ends every server and client.
//! - `GET /api/events`: a `sample` event per server per second.
//!
//! Every refusal is a `400` whose body is one line saying why, which the
//! page shows. When the last page's event stream closes, the lab stops:
//! no server outlives the page that asked for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::engine::{Lab, Sample, Settings};
use crate::compare::{self, Variant, Workspace};

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    /// The lab running, if any.
    lab: Arc<Mutex<Option<Lab>>>,
    /// Labs started so far: the next one's samples carry one more.
    runs: Arc<AtomicU64>,
    /// Every sample, to every open event stream.
    samples: broadcast::Sender<Sample>,
    /// Event streams open now.
    watchers: Arc<Mutex<usize>>,
    workspace: Arc<Workspace>,
    /// The variants a page may start: every declared one.
    variants: Arc<Vec<Variant>>,
}

impl Shared {
    /// Nothing running yet.
    pub fn new(workspace: Workspace, variants: Vec<Variant>) -> Shared {
        Shared {
            lab: Arc::new(Mutex::new(None)),
            runs: Arc::new(AtomicU64::new(0)),
            samples: broadcast::channel(1024).0,
            watchers: Arc::new(Mutex::new(0)),
            workspace: Arc::new(workspace),
            variants: Arc::new(variants),
        }
    }

    /// Stops the lab, if one runs: every client thread and server ends.
    pub fn stop(&self) {
        let lab = self.lab.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(lab);
    }
}

/// The routes.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { Html(include_str!("../../live/index.html")) }),
        )
        .route("/vendor/uPlot.iife.min.js", get(uplot_js))
        .route("/vendor/uPlot.min.css", get(uplot_css))
        .route("/api/models", get(models))
        .route("/api/start", post(start))
        .route("/api/settings", post(settings))
        .route("/api/stop", post(stop))
        .route("/api/events", get(events))
        .with_state(shared)
}

async fn uplot_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        include_str!("../../live/vendor/uPlot.iife.min.js"),
    )
}

async fn uplot_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css")],
        include_str!("../../live/vendor/uPlot.min.css"),
    )
}

/// A variant as the page lists it.
#[derive(Serialize)]
struct Model {
    name: String,
    colour: String,
}

async fn models(State(shared): State<Shared>) -> Json<Vec<Model>> {
    let variants = &shared.variants;
    // A model's variants shaded as in the book's curves.
    let colours = crate::chart::shaded(variants.iter().map(|v| v.binary.as_str()));
    let models = (variants.iter().zip(colours))
        .map(|(v, c)| Model {
            name: v.name.clone(),
            colour: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2),
        })
        .collect();
    Json(models)
}

/// What `POST /api/start` takes.
#[derive(Deserialize)]
struct Start {
    servers: Vec<String>,
    settings: Settings,
}

/// A refusal: `400` and one line.
fn refused(why: String) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

async fn start(State(shared): State<Shared>, Json(asked): Json<Start>) -> Response {
    if !(2..=4).contains(&asked.servers.len()) {
        return refused("pick two to four servers".to_string());
    }
    let mut chosen = Vec::new();
    for name in &asked.servers {
        match shared.variants.iter().find(|v| &v.name == name) {
            Some(variant) => chosen.push(variant.clone()),
            None => return refused(format!("{name}: no such server")),
        }
    }
    shared.stop();
    let sink = shared.samples.clone();
    // On this, the main thread, although starting a server waits for its
    // `listening on` line: a server's parent-death signal follows the
    // thread that started it (`sys::die_with_parent`), and the main
    // thread lives as long as the lab. The page waits a second or two.
    let run = shared.runs.fetch_add(1, Ordering::Relaxed) + 1;
    let lab = Lab::start(
        run,
        &chosen,
        &shared.workspace,
        asked.settings,
        move |sample| {
            let _ = sink.send(sample);
        },
    );
    match lab {
        Ok(lab) => {
            *shared.lab.lock().unwrap_or_else(|p| p.into_inner()) = Some(lab);
            Json(serde_json::json!({ "run": run })).into_response()
        }
        Err(why) => refused(why),
    }
}

async fn settings(State(shared): State<Shared>, Json(settings): Json<Settings>) -> Response {
    let lab = shared.lab.lock().unwrap_or_else(|p| p.into_inner());
    match lab.as_ref() {
        None => refused("no server is running: start two first".to_string()),
        Some(lab) => match lab.set(settings) {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(why) => refused(why),
        },
    }
}

async fn stop(State(shared): State<Shared>) -> StatusCode {
    tokio::task::spawn_blocking(move || shared.stop())
        .await
        .ok();
    StatusCode::NO_CONTENT
}

/// Counts an open event stream while it lives; when the last one closes
/// (the page is gone), stops the lab a few seconds later unless a page
/// came back (a reload).
struct Watching(Shared);

impl Drop for Watching {
    fn drop(&mut self) {
        let shared = self.0.clone();
        let left = {
            let mut watchers = shared.watchers.lock().unwrap_or_else(|p| p.into_inner());
            *watchers -= 1;
            *watchers
        };
        if left == 0 {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(5));
                if *shared.watchers.lock().unwrap_or_else(|p| p.into_inner()) == 0 {
                    eprintln!("bench live: the page is gone; stopping its servers");
                    shared.stop();
                }
            });
        }
    }
}

async fn events(
    State(shared): State<Shared>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    *shared.watchers.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    let watching = Watching(shared.clone());
    let receiver = shared.samples.subscribe();
    let stream = futures_util::stream::unfold(
        (receiver, watching),
        |(mut receiver, watching)| async move {
            loop {
                match receiver.recv().await {
                    Ok(sample) => {
                        let event = Event::default()
                            .event("sample")
                            .json_data(&sample)
                            .unwrap_or_else(|_| Event::default().comment("unencodable"));
                        return Some((Ok(event), (receiver, watching)));
                    }
                    // A slow page missed some: go on with the newest.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Every variant a page may start: each of `binaries`' variants, the
/// experiments included, in the book's order.
pub fn offered<'a>(binaries: impl IntoIterator<Item = &'a String>) -> Vec<Variant> {
    (binaries.into_iter())
        .flat_map(|b| {
            compare::variants(b)
                .into_iter()
                .chain(compare::experiments(b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// Every guided experiment on the page names servers the lab offers:
    /// a misspelt one would start nothing, and the button would only say
    /// "no such server".
    #[test]
    fn the_experiments_name_offered_servers() {
        let binaries: Vec<String> = crate::models::all().map(|b| b.name.to_string()).collect();
        let offered: Vec<String> = super::offered(&binaries)
            .into_iter()
            .map(|v| v.name)
            .collect();
        let page = include_str!("../../live/index.html");
        let mut experiments = 0;
        for line in page.lines().filter(|l| l.contains("servers: [")) {
            let list = line.split("servers: [").nth(1).unwrap_or_default();
            let list = list.split(']').next().unwrap_or_default();
            let names: Vec<&str> = list
                .split(',')
                .map(|n| n.trim().trim_matches('"'))
                .collect();
            assert!((2..=4).contains(&names.len()), "{line}");
            for name in names {
                assert!(offered.iter().any(|o| o == name), "{name:?} is not offered");
            }
            experiments += 1;
        }
        assert_eq!(experiments, 4, "the page's four guided experiments");
    }
}
