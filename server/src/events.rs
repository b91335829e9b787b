//! `GET /api/events`: the engine's status changes for the caller's tenant, as server-sent
//! events, the moment they happen. A reader that falls behind the engine's backlog gets a
//! `resync` event and reads the current state again; idle streams carry keep-alive comments.

use std::convert::Infallible;
use std::time::Duration;

use app::live::LiveEvent;
use app::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

pub async fn events(State(state): State<AppState>, session: Session) -> Response {
    let Some(user) = app::auth::ssr::session_user_ids(&session).await else {
        return (http::StatusCode::UNAUTHORIZED, "Unauthenticated").into_response();
    };
    let receiver = state.engine.subscribe();
    Sse::new(stream(receiver, user.tenant_id))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn stream(
    receiver: tokio::sync::broadcast::Receiver<std::sync::Arc<flotilla_engine::StatusEvent>>,
    tenant_id: String,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((receiver, tenant_id), |(mut receiver, tenant_id)| async move {
        loop {
            let live = match receiver.recv().await {
                Ok(event) if event.tenant_id() == tenant_id => LiveEvent::from_engine(&event),
                Ok(_) => continue, // another tenant's
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live stream reader fell behind; asking it to resync");
                    LiveEvent::Resync
                }
                Err(RecvError::Closed) => return None,
            };
            let event = Event::default().event(live.name()).json_data(&live).unwrap_or_else(|e| {
                tracing::error!(error = %e, "could not encode a live event");
                Event::default().event("resync").data("{\"kind\":\"resync\"}")
            });
            return Some((Ok(event), (receiver, tenant_id)));
        }
    })
}
