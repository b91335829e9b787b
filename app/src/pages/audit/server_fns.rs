//! The audit log page's server function: entries filtered and paged on the server.

use leptos::prelude::*;

use crate::AppError;
use crate::model::AuditPage;

/// The newest entries of the caller's tenant that match every filter given (empty ones do
/// not filter), older than `before` if given.
#[server(endpoint = "audit/search")]
pub async fn search_audit(
    actor: String,
    action: String,
    target: String,
    outcome: String,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    crate::error::with_status(ssr::search(actor, action, target, outcome, before).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_store::AuditQuery;

    use crate::AppError;
    use crate::backend::{app_state, require_caller};
    use crate::model::{AuditPage, AuditRow, PAGE};

    fn detail_text(detail: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(detail) {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        }
    }

    pub async fn search(
        actor: String,
        action: String,
        target: String,
        outcome: String,
        before: Option<String>,
    ) -> Result<AuditPage, AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        if !matches!(outcome.as_str(), "" | "ok" | "denied" | "failed") {
            return Err(AppError::Invalid { field: "outcome".into(), message: "choose ok, denied or failed".into() });
        }
        let query = AuditQuery { actor, action, target, outcome, before: before.filter(|b| !b.is_empty()) };
        let mut rows = app_state()?.store.search_audit(&user.tenant_id, &query, PAGE as i64 + 1).await?;
        let more = rows.len() > PAGE;
        rows.truncate(PAGE);
        let rows = rows
            .into_iter()
            .map(|r| AuditRow {
                link: match r.target_kind.as_str() {
                    "resource" | "project" | "workspace"
                        if !r.target_id.is_empty() && r.action != "resource.delete" =>
                    {
                        Some(format!("/{}s/{}", r.target_kind, r.target_id))
                    }
                    "user" => Some("/people".to_owned()),
                    _ => None,
                },
                id: r.id,
                at: crate::time::utc(r.at),
                actor: r.actor_name,
                action: r.action,
                target_kind: r.target_kind,
                target_name: r.target_name,
                outcome: r.outcome,
                detail: detail_text(&r.detail),
            })
            .collect();
        Ok(AuditPage { rows, more })
    }
}
