//! The server over real HTTP: one binary for all API tests (faster to link).
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod apps;
mod audit;
mod auth;
mod cli;
mod crash;
mod events;
mod federate;
mod fleet;
mod health;
mod helpers;
mod import;
mod limits;
mod metrics;
mod outbound;
mod policy;
mod projects;
mod register;
mod replica_kill;
mod replicas;
mod resources;
mod rollouts;
mod shutdown;
mod tenancy;
mod tokens;
mod workspaces;
