//! The server over real HTTP: one binary for all API tests (faster to link).

mod audit;
mod auth;
mod events;
mod fleet;
mod health;
mod helpers;
mod metrics;
mod projects;
mod register;
mod resources;
mod shutdown;
mod tenancy;
mod workspaces;
