//! The HTTP server: `/healthz` and `/readyz` (200 while the database
//! answers), `/metrics` (Prometheus text), the Telegram webhook and the
//! back-office API (`POST /api/v1/unbind-requests/{reference}/status`,
//! bearer token).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::domain::RequestStatus;
use crate::engine::{Engine, StatusChangeError};

/// The router over an engine; in webhook mode it also takes updates on the
/// path of `telegram.webhook_url`.
pub fn router(engine: Arc<Engine>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/unbind-requests/{reference}/status",
            post(set_status),
        );
    if engine.settings.telegram.mode == "webhook" {
        let path = url::Url::parse(&engine.settings.telegram.webhook_url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| "/telegram/webhook".into());
        router = router.route(&path, post(webhook));
    }
    router.with_state(engine)
}

/// Telegram's webhook: checks the shared secret, stores the update in the
/// inbox, and only then answers 200 (so a crash after the answer loses
/// nothing). A database failure answers 503 and Telegram delivers again.
async fn webhook(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let given = headers
        .get("X-Telegram-Bot-Api-Secret-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = engine.settings.telegram.webhook_secret.expose();
    if expected.is_empty() || !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        engine.metrics.inc("posdesk_webhook_rejected_total", "");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let row = match crate::telegram::inbox::row_from_json(&body) {
        Ok(row) => row,
        Err(e) => {
            // Telegram would redeliver a refused update forever; drop it loudly.
            tracing::warn!(error = %e, "unreadable webhook update dropped");
            return StatusCode::OK.into_response();
        }
    };
    match engine.take_in(vec![row]).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot store a webhook update; Telegram will retry");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Serves the router on `http.listen` until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), crate::Error> {
    let listen = engine.settings.http.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| {
        crate::Error::Runtime(format!("cannot listen on http.listen = {listen}: {e}"))
    })?;
    tracing::info!(%listen, "HTTP server listening");
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| crate::Error::Runtime(format!("HTTP server failed: {e}")))
}

async fn healthz(State(engine): State<Arc<Engine>>) -> Response {
    match engine.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(engine): State<Arc<Engine>>) -> Response {
    let mut out = String::new();
    let store = &engine.store;
    if let Ok(n) = store.outbox_pending_count().await {
        out.push_str("# HELP posdesk_outbox_pending Messages committed but not yet sent.\n");
        out.push_str("# TYPE posdesk_outbox_pending gauge\n");
        out.push_str(&format!("posdesk_outbox_pending {n}\n"));
    }
    if let Ok(oldest) = store.outbox_oldest_pending().await {
        let lag = oldest
            .map(|t| (engine.now().timestamp_millis() - t).max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        out.push_str("# HELP posdesk_outbox_lag_seconds Age of the oldest message not yet sent.\n");
        out.push_str("# TYPE posdesk_outbox_lag_seconds gauge\n");
        out.push_str(&format!("posdesk_outbox_lag_seconds {lag}\n"));
    }
    if let Ok(n) = store.inbox_len().await {
        out.push_str("# HELP posdesk_inbox_pending Updates received but not yet applied.\n# TYPE posdesk_inbox_pending gauge\n");
        out.push_str(&format!("posdesk_inbox_pending {n}\n"));
    }
    if let Ok(tickets) = store.list_tickets(true, 100_000).await {
        out.push_str("# HELP posdesk_tickets_open Tickets open or claimed.\n# TYPE posdesk_tickets_open gauge\n");
        out.push_str(&format!("posdesk_tickets_open {}\n", tickets.len()));
    }
    out.push_str("# HELP posdesk_unbind_requests Unbinding requests by status (latest 100000).\n# TYPE posdesk_unbind_requests gauge\n");
    if let Ok(requests) = store.list_requests(None, 100_000).await {
        for status in RequestStatus::ALL {
            let n = requests
                .iter()
                .filter(|r| r.status == status.as_str())
                .count();
            out.push_str(&format!(
                "posdesk_unbind_requests{{status=\"{}\"}} {n}\n",
                status.as_str()
            ));
        }
    }
    let week_ago = engine.now().timestamp_millis() - 7 * 86_400_000;
    if let Ok(rows) = store.ticket_stat_rows(week_ago).await {
        out.push_str(&crate::tickets::stats::prometheus(
            &crate::tickets::stats::compute(&rows),
        ));
    }
    out.push_str(&engine.metrics.render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

fn authorised(engine: &Engine, headers: &HeaderMap) -> bool {
    let expected = engine.settings.http.api_token.expose();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    constant_time_eq(given.as_bytes(), expected.as_bytes())
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn set_status(
    State(engine): State<Arc<Engine>>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Result<Json<StatusBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if engine.settings.http.api_token.is_empty() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the back-office API is off: set http.api_token",
        );
    }
    if !authorised(&engine, &headers) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "body must be JSON {\"status\": \"...\", \"reason\": \"...\"}",
        );
    };
    let Some(status) = RequestStatus::parse(&body.status) else {
        return error(
            StatusCode::BAD_REQUEST,
            "status must be one of submitted, processing, completed, rejected, cancelled",
        );
    };
    match engine
        .set_request_status(&reference, status, body.reason.as_deref(), "api")
        .await
    {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "reference": reference.trim().to_uppercase(), "status": status.as_str() })),
        )
            .into_response(),
        Err(StatusChangeError::BadReference) => error(StatusCode::BAD_REQUEST, "not a valid reference"),
        Err(StatusChangeError::NotFound) => error(StatusCode::NOT_FOUND, "no request with this reference"),
        Err(e @ (StatusChangeError::Unchanged(_) | StatusChangeError::NotAllowed(..))) => {
            error(StatusCode::CONFLICT, &e.to_string())
        }
        Err(StatusChangeError::Store(e)) => {
            tracing::error!(error = %e, "status change failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "database unavailable, try again")
        }
    }
}
