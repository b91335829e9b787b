//! The server over real HTTP: one binary for all API tests (faster to link).

mod audit;
mod auth;
mod events;
mod fleet;
mod health;
mod helpers;
mod projects;
mod register;
mod resources;
mod tenancy;
mod workspaces;
