//! Flotilla's server: configuration, start-up, authentication middleware, health routes.
//! `main.rs` is a thin wrapper so tests can start the same [`startup::Application`].

pub mod auth;
pub mod config;
mod demo;
mod events;
mod health;
pub mod startup;
pub mod telemetry;
