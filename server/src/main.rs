//! `flotilla`: the hub. Serves the dashboard and API and runs the sync engine.

use anyhow::Context;
use clap::Parser;

use server::config::{Args, Settings};
use server::startup::Application;
use server::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::resolve(args).context("reading the configuration")?;
    telemetry::init(&settings.log_filter, settings.log_format);
    let app = Application::build(settings).await.context("starting Flotilla")?;
    app.run_until_stopped().await.context("serving")?;
    Ok(())
}
