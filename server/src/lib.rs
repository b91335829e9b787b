//! Flotilla's server: configuration, start-up, authentication middleware, health routes.
//! `main.rs` is a thin wrapper so tests can start the same [`startup::Application`].

pub mod api;
pub mod auth;
mod bad_arguments;
mod body_limit;
pub mod config;
mod demo;
mod events;
mod health;
pub mod metrics;
mod security_headers;
pub mod startup;
pub mod telemetry;

/// mimalloc rather than glibc's malloc, for every binary that runs the server (the
/// `flotilla` binary, its tests and benches): rendering a page of a large project allocates
/// many small strings across tokio's worker threads, and glibc's allocator took a third of
/// the time of `cargo bench -p server --bench dashboard`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
