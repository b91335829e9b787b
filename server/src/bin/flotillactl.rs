//! `flotillactl`, Flotilla's command line (the `flotilla-cli` crate), built beside the hub.

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = flotilla_cli::Cli::parse();
    let code = flotilla_cli::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()).await;
    std::process::exit(code);
}
