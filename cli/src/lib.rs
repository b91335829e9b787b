//! `flotillactl`: Flotilla from a shell or a pipeline, through the REST API (`/api/v1`) with
//! an API token. Output is a table (`-o wide` for more columns) or the API's own JSON or YAML
//! (`-o json|yaml`); exit codes say what went wrong, so scripts can branch on them:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the hub could not be reached, or failed (5xx) |
//! | 2 | the command line is wrong (usage), or no hub/token is configured |
//! | 3 | the token is missing, unknown, expired or revoked (401) |
//! | 4 | not found, or not yours to see (404) |
//! | 5 | your roles or the token's access do not allow it (403) |
//! | 6 | refused: invalid input, or changed meanwhile (400, 409, 422) |

mod command;
mod config;
mod output;

use std::io::Write;

pub use command::Cli;
use serde_json::Value;

/// What ends a command early, and its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure { code: 2, message: message.into() }
    }

    fn local(message: impl Into<String>) -> Self {
        Failure { code: 1, message: message.into() }
    }

    /// The API's error answer with `status`.
    fn from_answer(status: u16, body: &str) -> Self {
        let code = match status {
            401 => 3,
            404 => 4,
            403 => 5,
            400 | 409 | 422 => 6,
            _ => 1,
        };
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v["message"].as_str())
            .map(|m| match parsed.as_ref().and_then(|v| v["field"].as_str()) {
                Some(field) => format!("{m} ({field})"),
                None => m.to_owned(),
            })
            .unwrap_or_else(|| format!("the hub answered {status}: {}", body.chars().take(200).collect::<String>()));
        Failure { code, message }
    }
}

/// Runs `cli`, writing its output to `out`; answers the exit code (errors are written to
/// `err` as `error: …`).
pub async fn run(cli: Cli, out: &mut impl Write, err: &mut impl Write) -> i32 {
    match command::execute(cli, out).await {
        Ok(()) => 0,
        Err(failure) => {
            let _ = writeln!(err, "error: {}", failure.message);
            failure.code
        }
    }
}
