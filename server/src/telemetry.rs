//! Logging and tracing setup: one place, for the binary and the tests.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Installs the global subscriber: `filter` in EnvFilter syntax (`RUST_LOG` overrides it
/// when set), text or JSON lines on stderr. Safe to call more than once (later calls do
/// nothing), so tests can call it freely.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_span_events(FmtSpan::NONE).with_current_span(true).try_init(),
    };
}

/// For tests: logs only when `TEST_LOG` is set, through the test harness's capture.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(std::env::var("TEST_LOG").unwrap_or_else(|_| "debug".into())))
            .with_test_writer()
            .try_init();
    }
}
