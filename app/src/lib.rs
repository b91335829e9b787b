//! Flotilla's user interface: Leptos pages and components, and the server functions they
//! call. Each page lives in `pages/<page>.rs`, its parts and its server functions
//! (`server_fns.rs`) beside it in `pages/<page>/`; the data they exchange is in [`model`];
//! what the server functions share on the server side is in `backend.rs`. Server function
//! bodies and server-only helpers compile only with the `ssr` feature; the `hydrate` build
//! (see `frontend/`) runs the same components in the browser.

// Leptos views are deeply nested types; without `erase_components` they need more room.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
#[cfg(feature = "ssr")]
mod backend;
mod components;
pub mod error;
pub mod live;
pub mod model;
mod pages;
#[cfg(feature = "ssr")]
pub mod state;
pub mod time;
pub mod words;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The application: routes and what every page shares.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/flotilla.css" />
        <Title formatter=|page: String| if page.is_empty() { "Flotilla".to_owned() } else { format!("{page} · Flotilla") } />
        <Router>
            <Routes fallback=pages::NotFoundPage>
                <Route path=path!("/login") view=pages::LoginPage />
                // Signed-in pages wait for their data on the server and are sent whole: pages of
                // one object so that an object the caller may not see (another tenant's) answers
                // 404, not 200; and every one of them because out-of-order streaming was seen to
                // leave the fleet page's body unfinished now and then under load (its Suspense
                // boundaries never resolving; see ARCHITECTURE.md).
                <Route path=path!("/") view=pages::FleetPage ssr=SsrMode::Async />
                <Route path=path!("/workspaces") view=pages::WorkspacesPage ssr=SsrMode::Async />
                <Route path=path!("/workspaces/:id") view=pages::WorkspacePage ssr=SsrMode::Async />
                <Route path=path!("/projects/:id") view=pages::ProjectPage ssr=SsrMode::Async />
                <Route path=path!("/resources/:id") view=pages::ResourcePage ssr=SsrMode::Async />
                <Route path=path!("/types") view=pages::TypesPage ssr=SsrMode::Async />
                <Route path=path!("/apps") view=pages::AppsPage ssr=SsrMode::Async />
                <Route path=path!("/rollouts") view=pages::RolloutsPage ssr=SsrMode::Async />
                <Route path=path!("/rollouts/:id") view=pages::RolloutPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=pages::AuditLogPage ssr=SsrMode::Async />
                <Route path=path!("/account") view=pages::AccountPage ssr=SsrMode::Async />
                <Route path=path!("/people") view=pages::PeoplePage ssr=SsrMode::Async />
                <Route path=path!("/tenants") view=pages::TenantsPage ssr=SsrMode::Async />
                <Route path=path!("/tenants/:id") view=pages::TenantPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// The page's Content-Security-Policy: scripts only with this response's nonce (Leptos puts it
/// on its hydration scripts) and what they load, WebAssembly compiled from them, everything
/// else from this site only, and never inside another site's frame.
#[cfg(feature = "ssr")]
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// Sets [`page_policy`] on the response being rendered, with its nonce.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    match http::HeaderValue::from_str(&page_policy(&nonce)) {
        Ok(value) => response.insert_header(http::header::CONTENT_SECURITY_POLICY, value),
        Err(e) => tracing::error!(error = %e, "the page's Content-Security-Policy is not a valid header"),
    }
}

/// Sets `data-hydrated` on `<body>` once the wasm app has taken over the page. Effects
/// never run on the server, so the attribute proves hydration (end-to-end tests wait for it
/// before they interact).
fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
