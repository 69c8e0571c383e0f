//! What a `bench compare` run measures: which scenarios, which servers
//! (their variants, and nginx), and which of them cannot run here at all.

use std::collections::{HashMap, HashSet};

use loadgen::Failure;

use super::scenario::{self, Scenario};
use super::{Variant, Workspace};

/// The scenarios `--scenario` names, in column order (every everyday one
/// without it; the book's run adds the others).
pub fn scenarios(named: &[String], book: bool) -> Result<Vec<&'static Scenario>, Failure> {
    if named.is_empty() {
        return Ok(scenario::ALL
            .into_iter()
            .filter(|s| book || s.everyday)
            .collect());
    }
    named
        .iter()
        .map(|name| {
            Scenario::named(name).ok_or_else(|| {
                let names: Vec<&str> = scenario::ALL.iter().map(|s| s.name).collect();
                Failure::Usage(format!(
                    "--scenario {name}: no such scenario; one of {}",
                    names.join(", ")
                ))
            })
        })
        .collect()
}

/// The servers `--only` asks for (every one without it), each in its
/// variants (`--quick`: the first, with no model flags), and nginx when it
/// is installed; and an experiment variant (declared, not measured in
/// every run) where `--only` names it. A name that matches no server is a
/// usage error, with the names there are.
pub fn variants(
    workspace: &Workspace,
    only: &[String],
    quick: bool,
) -> Result<Vec<Variant>, Failure> {
    let all: Vec<Variant> = workspace
        .binaries
        .iter()
        .flat_map(|binary| super::variants(binary))
        .chain(super::nginx())
        .collect();
    let experiments: Vec<Variant> = workspace
        .binaries
        .iter()
        .flat_map(|binary| super::experiments(binary))
        .filter(|v| only.contains(&v.name))
        .collect();
    let known = |name: &str| {
        all.iter().any(|v| v.binary == name || v.name == name)
            || experiments.iter().any(|v| v.name == name)
    };
    if let Some(unknown) = only.iter().find(|name| !known(name)) {
        let mut names: Vec<&str> = all.iter().map(|v| v.binary.as_str()).collect();
        names.dedup();
        return Err(Failure::Usage(format!(
            "--only {unknown}: no such server; one of {} (or a variant's name, such as \"epoll --trigger edge\")",
            names.join(", ")
        )));
    }
    let mut seen = HashSet::new();
    let chosen: Vec<Variant> = all
        .into_iter()
        // --quick: each binary as it comes; a full run adds the model flags.
        .filter(|v| !quick || seen.insert(v.binary.clone()))
        .filter(|v| only.is_empty() || only.iter().any(|o| *o == v.binary || *o == v.name))
        .chain(experiments)
        .collect();
    if chosen.is_empty() {
        return Err(Failure::Usage(format!(
            "--only {}: --quick runs each binary with no model flags; name the binary",
            only.join(",")
        )));
    }
    Ok(chosen)
}

/// For each variant, why this machine cannot run it at all (`None`: it
/// can). Each binary is started once; its variants share the answer.
pub fn cannot_start(variants: &[Variant], workspace: &Workspace) -> Vec<Option<String>> {
    let mut by_binary: HashMap<&str, Option<String>> = Default::default();
    variants
        .iter()
        .map(|variant| {
            by_binary
                .entry(&variant.binary)
                .or_insert_with(|| {
                    super::can_start(variant, workspace).err().map(|why| {
                        eprintln!("bench compare: {} cannot run here: {why}", variant.binary);
                        // The cells say the first clause (`io_uring is
                        // not available here`); the line above, all.
                        why.split(": ").next().unwrap_or(&why).to_string()
                    })
                })
                .clone()
        })
        .collect()
}
