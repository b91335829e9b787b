//! `GET /api/events`: the engine's status changes and the saved changes of the caller's
//! tenant, as server-sent events, the moment they happen. A reader that falls behind gets
//! a `resync` event and reads the current state again; idle streams carry keep-alives.
//! Someone who is not the tenant's admin hears only of the resources their roles let them
//! see (what lives where is looked up once per resource). When the reader's roles change
//! (group rules, a login elsewhere) the stream reads them again and asks the page to resync;
//! when the reader is disabled, logs out, or their session expires (idle, or at its absolute
//! lifetime), it ends within seconds (and the browser's reconnection gets 401). Workspaces
//! and projects are told of only to those who may see them; clusters, which every member of
//! the tenant sees on the fleet page, to all of them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use app::live::LiveEvent;
use app::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use flotilla_domain::Access;
use futures::Stream;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

use crate::startup::Stopping;

pub async fn events(
    State(state): State<AppState>,
    Extension(stopping): Extension<Stopping>,
    session: Session,
) -> Response {
    let Some(user) = app::auth::ssr::session_user_ids(&session).await else {
        return (http::StatusCode::UNAUTHORIZED, "Unauthenticated").into_response();
    };
    let access = match state.store.active_grants(&user.tenant_id, &user.user_id).await {
        Ok(Some(grants)) => Access::from_grants(&grants),
        Ok(None) => return (http::StatusCode::UNAUTHORIZED, "Unauthenticated").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read the caller's roles");
            return (http::StatusCode::INTERNAL_SERVER_ERROR, "Try again").into_response();
        }
    };
    let (Some(session_id), Some(ends_at)) =
        (session.id().map(|id| id.to_string()), app::auth::ssr::session_ends_at(&session).await)
    else {
        return (http::StatusCode::UNAUTHORIZED, "Unauthenticated").into_response();
    };
    let left = Duration::from_millis(u64::try_from(ends_at - flotilla_store::now_ms()).unwrap_or(0));
    let sources = Sources {
        engine: state.engine.subscribe(),
        changes: state.store.subscribe_changes(),
        seen: Visibility::new(state.store.clone(), user.tenant_id.clone(), access),
        user_id: user.user_id.clone(),
        stopping: stopping.0,
        session_id,
        session_ends: tokio::time::Instant::now() + left,
        check_session: tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK),
    };
    Sse::new(stream(sources, user.tenant_id))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// How often an open stream checks that its session still stands (logout, idle expiry).
const SESSION_CHECK: Duration = Duration::from_secs(3);

/// What the stream forwards: the engine's status events and the store's saved changes.
struct Sources {
    engine: broadcast::Receiver<std::sync::Arc<flotilla_engine::StatusEvent>>,
    changes: broadcast::Receiver<flotilla_store::Change>,
    seen: Visibility,
    /// The reader.
    user_id: String,
    /// The server is stopping: the stream ends (the browser reconnects to the next server).
    stopping: tokio_util::sync::CancellationToken,
    /// The reader's session, checked every few seconds (the stream ends with it)…
    session_id: String,
    check_session: tokio::time::Interval,
    /// …and its absolute end.
    session_ends: tokio::time::Instant,
}

/// Which resources the reader may hear of.
struct Visibility {
    store: flotilla_store::Store,
    tenant_id: String,
    access: Access,
    /// Resource id → whether the reader may see it (resources do not move).
    known: HashMap<String, bool>,
    /// Workspace and project id → whether the reader may see it.
    scopes: HashMap<String, bool>,
}

impl Visibility {
    fn new(store: flotilla_store::Store, tenant_id: String, access: Access) -> Self {
        Self { store, tenant_id, access, known: HashMap::new(), scopes: HashMap::new() }
    }

    /// The reader's roles read afresh (None: they may no longer read at all).
    async fn again(&self, user_id: &str) -> Option<Self> {
        match self.store.active_grants(&self.tenant_id, user_id).await {
            Ok(Some(grants)) => {
                Some(Self::new(self.store.clone(), self.tenant_id.clone(), Access::from_grants(&grants)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "could not read the reader's roles again; ending the stream");
                None
            }
        }
    }

    async fn resource(&mut self, id: &str) -> bool {
        if self.access.is_tenant_admin() {
            return true;
        }
        if let Some(&seen) = self.known.get(id) {
            return seen;
        }
        let seen = match self.store.get_resource(&self.tenant_id, id).await {
            Ok(r) => match r.project_id.as_deref() {
                Some(project) => self.access.project(project, &r.workspace_id).is_some(),
                None => self.access.workspace(&r.workspace_id).is_some(),
            },
            Err(_) => false,
        };
        self.known.insert(id.to_owned(), seen);
        seen
    }

    /// Whether the reader may see workspace or project `id` (`what`): a role on it, or (for a
    /// workspace) on one of its projects.
    async fn scope(&mut self, what: &str, id: &str) -> bool {
        if self.access.is_tenant_admin() {
            return true;
        }
        if let Some(&seen) = self.scopes.get(id) {
            return seen;
        }
        let seen = match what {
            "workspace" => match self.store.list_projects(&self.tenant_id, id).await {
                Ok(projects) => self.access.sees_workspace(id, projects.iter().map(|p| p.id.as_str())),
                Err(_) => false,
            },
            "project" => match self.store.get_project(&self.tenant_id, id).await {
                Ok(p) => self.access.project(&p.id, &p.workspace_id).is_some(),
                Err(_) => false,
            },
            _ => false,
        };
        self.scopes.insert(id.to_owned(), seen);
        seen
    }

    async fn allows(&mut self, event: &LiveEvent) -> bool {
        match event {
            LiveEvent::Status(s) => self.resource(&s.resource_id).await,
            LiveEvent::Removed { resource_id, .. } => self.resource(resource_id).await,
            LiveEvent::Changed { what, id } if what == "resource" => self.resource(id).await,
            LiveEvent::Changed { what, id } if what == "workspace" || what == "project" => self.scope(what, id).await,
            // Clusters are every member's to see (the fleet page); a resync says nothing.
            LiveEvent::Changed { .. } | LiveEvent::Cluster { .. } | LiveEvent::Resync | LiveEvent::Opened => true,
        }
    }
}

impl Sources {
    /// The next event for `tenant_id` (None when the server shuts down).
    async fn next(&mut self, tenant_id: &str) -> Option<LiveEvent> {
        loop {
            let event = tokio::select! {
                () = self.stopping.cancelled() => return None,
                () = tokio::time::sleep_until(self.session_ends) => return None,
                _ = self.check_session.tick() => {
                    match self.seen.store.session_load(&self.session_id).await {
                        Ok(Some(_)) => continue,
                        Ok(None) => return None, // logged out, or expired while idle
                        Err(e) => {
                            tracing::warn!(error = %e, "could not check a live stream's session; ending the stream");
                            return None;
                        }
                    }
                }
                event = self.engine.recv() => match event {
                    Ok(event) if event.tenant_id() == tenant_id => Some(LiveEvent::from_engine(&event)),
                    Ok(_) => None, // another tenant's
                    Err(RecvError::Lagged(missed)) => Some(lagged(missed)),
                    Err(RecvError::Closed) => return None,
                },
                change = self.changes.recv() => match change {
                    Ok(flotilla_store::Change::Access { tenant_id: t, user_id }) => {
                        if t != tenant_id || user_id.as_ref().is_some_and(|u| *u != self.user_id) {
                            continue;
                        }
                        self.seen = self.seen.again(&self.user_id).await?;
                        Some(LiveEvent::Resync)
                    }
                    Ok(change) => LiveEvent::from_change(&change, tenant_id),
                    Err(RecvError::Lagged(missed)) => Some(lagged(missed)),
                    Err(RecvError::Closed) => return None,
                },
            };
            if let Some(event) = event
                && self.seen.allows(&event).await
            {
                return Some(event);
            }
        }
    }
}

fn lagged(missed: u64) -> LiveEvent {
    tracing::debug!(missed, "live stream reader fell behind; asking it to resync");
    LiveEvent::Resync
}

fn stream(sources: Sources, tenant_id: String) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((sources, tenant_id), |(mut sources, tenant_id)| async move {
        let live = sources.next(&tenant_id).await?;
        let event = Event::default().event(live.name()).json_data(&live).unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not encode a live event");
            Event::default().event("resync").data("{\"kind\":\"resync\"}")
        });
        Some((Ok(event), (sources, tenant_id)))
    })
}
