//! What Flotilla's tests share across crates (a dev-dependency only).

use std::future::Future;
use std::time::Duration;

mod database;
pub use database::{TEST_POSTGRES_ENV, database_url, fresh_postgres_database};

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(25);

/// What a check of [`eventually`] answers: `bool` (done or not), or `Option<T>` (done with a
/// value).
pub trait Ready {
    type Value;
    fn ready(self) -> Option<Self::Value>;
}

impl Ready for bool {
    type Value = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Value = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// Polls `check` until it is ready, and returns its value; fails the test naming `what` once
/// `within` has passed.
pub async fn eventually<R, F, Fut>(what: &str, within: Duration, mut check: F) -> R::Value
where
    R: Ready,
    F: FnMut() -> Fut,
    Fut: Future<Output = R>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await.ready() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {} s: {what}", within.as_secs_f32());
        tokio::time::sleep(POLL).await;
    }
}

/// A member's Deployment as tests read it: the Flotilla revision it carries
/// (`flotilla.io/revision`), and whether that revision has rolled out there (the current
/// generation observed, every replica updated and ready). `None` without the annotation.
pub fn deployment_revision(d: &serde_json::Value) -> Option<(i64, bool)> {
    use serde_json::Value;
    let revision = d.pointer("/metadata/annotations/flotilla.io~1revision")?.as_str()?.parse().ok()?;
    let want = d.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let settled = d.pointer("/status/observedGeneration") == d.pointer("/metadata/generation")
        && d.pointer("/status/updatedReplicas").and_then(Value::as_i64) == Some(want)
        && d.pointer("/status/readyReplicas").and_then(Value::as_i64) == Some(want);
    Some((revision, settled))
}

/// A `.tar.gz` holding `files` (`(path, text)`), as `tar czf` makes one: what a tenant
/// uploads as an app version.
pub fn app_archive<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, text.as_bytes()).expect("a file appends to an in-memory archive");
    }
    tar.into_inner().and_then(|gz| gz.finish()).expect("an in-memory archive finishes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gives_the_first_value_and_fails_past_the_deadline() {
        let mut n = 0;
        let got = eventually("n reaches 3", Duration::from_secs(5), || {
            n += 1;
            let v = n;
            async move { (v >= 3).then_some(v) }
        })
        .await;
        assert_eq!(got, 3);
        eventually("a plain yes", Duration::from_secs(1), || async { true }).await;
        let late = tokio::spawn(eventually("never", Duration::from_millis(60), || async { false }));
        let panic = late.await.unwrap_err().into_panic();
        assert!(panic.downcast_ref::<String>().unwrap().contains("never"));
    }
}
