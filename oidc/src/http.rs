//! The HTTP client every request to a provider goes through: the hub's outbound policy
//! decides where it may go, redirects are not followed, every request has a timeout, and an
//! answer is read up to [`MAX_ANSWER`] bytes only.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use flotilla_outbound::{OutboundPolicy, Refused};
use openidconnect::reqwest;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The most of a provider's answer that is read (discovery documents and key sets are a few
/// KiB; a provider that sends more is not one).
pub const MAX_ANSWER: usize = 1024 * 1024;

/// Why a request to a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Refused(Refused),
    #[error("the answer is larger than {} KiB", MAX_ANSWER / 1024)]
    TooLarge,
    #[error(transparent)]
    Request(reqwest::Error),
    #[error(transparent)]
    Http(openidconnect::http::Error),
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        // The resolver's refusal is the useful part of "error sending request".
        match flotilla_outbound::refusal_in(&e) {
            Some(refused) => HttpError::Refused(refused.clone()),
            None => HttpError::Request(e),
        }
    }
}

/// Two clients, because the policy judges a name's addresses differently for https and for
/// plain http (only loopback, where allowed).
#[derive(Debug, Clone)]
pub(crate) struct ProviderHttp {
    policy: Arc<OutboundPolicy>,
    https: reqwest::Client,
    http: reqwest::Client,
}

impl ProviderHttp {
    pub fn new(policy: Arc<OutboundPolicy>, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = |plain_http: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout)
                // A proxy would resolve names itself, past the policy.
                .no_proxy()
                .dns_resolver(Arc::new(PolicyResolver { policy: policy.clone(), plain_http }))
                .build()
        };
        Ok(Self { https: client(false)?, http: client(true)?, policy: policy.clone() })
    }

    /// Whether the policy lets the hub call `url` (before any name is resolved).
    pub fn check(&self, url: &url::Url) -> Result<(), Refused> {
        self.policy.check_url(url)
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|e| HttpError::Refused(Refused::Url(format!("not a URL: {e}"))))?;
        self.check(&url).map_err(HttpError::Refused)?;
        let client = if url.scheme() == "http" { &self.http } else { &self.https };
        let mut response = client.execute(request.try_into()?).await?;
        if response.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
            return Err(HttpError::TooLarge);
        }
        let mut answer = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer.body(body).map_err(HttpError::Http)
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Resolves names as the outbound policy allows: a name with an address the policy refuses
/// does not resolve, so nothing connects to it; the connection goes to the addresses checked.
struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
    plain_http: bool,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (policy, plain_http, host) = (self.policy.clone(), self.plain_http, name.as_str().to_owned());
        Box::pin(async move {
            let addrs = policy.resolve(&host, plain_http).await?;
            // Port 0: reqwest puts the URL's port in.
            let addrs: reqwest::dns::Addrs =
                Box::new(addrs.into_iter().map(|ip| std::net::SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}
