//! The HTTP server: `/healthz` (200 while the database answers), `/readyz`
//! (the same, but 503 as soon as shutdown begins), `/metrics` (Prometheus
//! text), the back-office API (`POST /api/v1/unbind-requests/{reference}/status`,
//! bearer token) and the Telegram webhook.
//!
//! With `http.admin_listen` set, `http.listen` serves only the webhook and
//! the rest is on the admin address. Both listeners are bound before the bot
//! starts (a bind error ends `posdesk run` at once), and each connection is
//! bounded: headers within [`HEADER_TIMEOUT`], a whole request within
//! [`REQUEST_TIMEOUT`], a connection within [`CONNECTION_MAX_AGE`], at most
//! [`MAX_CONNECTIONS`] open per listener; at shutdown connections get
//! [`SHUTDOWN_GRACE`] to finish. Every request is logged (method, path
//! without the query, status, latency), never a body or a query string.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::domain::RequestStatus;
use crate::engine::{Engine, MAX_REASON_CHARS, StatusChangeError};
use crate::metrics::DatabaseGauges;

/// A client must send a request's headers within this time (and an idle
/// keep-alive connection is closed after it).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole request, body included, must be handled within this time (408).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// A connection is closed (after its request in hand) at this age.
pub const CONNECTION_MAX_AGE: Duration = Duration::from_secs(60);
/// At shutdown, connections get this long to finish, then are dropped.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Open connections per listener; more are closed as they arrive, so a
/// flood of idle connections cannot take every file descriptor.
pub const MAX_CONNECTIONS: usize = 256;
/// Largest webhook body read (Telegram's updates are far smaller). The
/// secret is checked before any of it is read.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;
/// Largest back-office API body read.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Whether the process is stopping; `/readyz` answers 503 once it is.
#[derive(Clone)]
pub struct Readiness(watch::Receiver<bool>);

impl Readiness {
    /// Follows `stopping` (true once shutdown begins).
    pub fn new(stopping: watch::Receiver<bool>) -> Readiness {
        Readiness(stopping)
    }

    /// Ready until told otherwise (tests, tools).
    pub fn always() -> Readiness {
        let (tx, rx) = watch::channel(false);
        // The sender is dropped; the value stays false.
        drop(tx);
        Readiness(rx)
    }

    fn stopping(&self) -> bool {
        *self.0.borrow()
    }
}

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Health, metrics, API and the webhook (one listener).
    All,
    /// Only the webhook (`http.listen` when `http.admin_listen` is set).
    Webhook,
    /// Health, metrics and the API (`http.admin_listen`).
    Admin,
}

/// Every route on one router (what a single listener serves).
pub fn router(engine: Arc<Engine>) -> Router {
    routes(engine, Routes::All, Readiness::always())
}

/// The routes of one listener, with the access log and the timeouts.
pub fn routes(engine: Arc<Engine>, which: Routes, ready: Readiness) -> Router {
    let mut router = Router::new();
    if which != Routes::Webhook {
        router = router
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .route(
                "/api/v1/unbind-requests/{reference}/status",
                post(set_status),
            );
    }
    if which != Routes::Admin && engine.settings.telegram.mode == "webhook" {
        let path = url::Url::parse(&engine.settings.telegram.webhook_url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| "/telegram/webhook".into());
        router = router.route(&path, post(webhook));
    }
    router
        .layer(Extension(ready))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(access_log())
        .with_state(engine)
}

/// One line a request: method, path (never the query), status, latency.
/// The access log layer: a span per request, one line at the response.
type AccessLog = TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request<Body>) -> tracing::Span,
    (),
    fn(&Response, Duration, &tracing::Span),
    (),
    (),
    (),
>;

fn access_log() -> AccessLog {
    fn span(request: &Request<Body>) -> tracing::Span {
        tracing::info_span!(
            "http",
            method = %request.method(),
            path = %request.uri().path(),
        )
    }
    fn done(response: &Response, latency: Duration, _span: &tracing::Span) {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request"
        );
    }
    TraceLayer::new_for_http()
        .make_span_with(span as fn(&Request<Body>) -> tracing::Span)
        .on_request(())
        .on_response(done as fn(&Response, Duration, &tracing::Span))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// The bound listeners of `[http]`.
pub struct Listeners {
    public: TcpListener,
    admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds `http.listen` and, if set, `http.admin_listen`; an address in
    /// use or not allowed is an error naming the key.
    pub async fn bind(settings: &crate::config::HttpSettings) -> Result<Listeners, crate::Error> {
        let bind = |key: &'static str, address: String| async move {
            TcpListener::bind(&address).await.map_err(|e| {
                crate::Error::Runtime(format!(
                    "cannot listen on {key} = {address}: {e} (another process on that port, or a wrong address)"
                ))
            })
        };
        let public = bind("http.listen", settings.listen.clone()).await?;
        let admin = match settings.admin_listen.trim() {
            "" => None,
            address => Some(bind("http.admin_listen", address.to_string()).await?),
        };
        Ok(Listeners { public, admin })
    }

    /// The address of `http.listen`.
    pub fn public_addr(&self) -> Option<SocketAddr> {
        self.public.local_addr().ok()
    }

    /// The address of `http.admin_listen`, if set.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }
}

/// Serves the listeners until `shutdown` resolves; then lets connections
/// finish for at most [`SHUTDOWN_GRACE`].
pub async fn serve(
    engine: Arc<Engine>,
    listeners: Listeners,
    ready: Readiness,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), crate::Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut servers = JoinSet::new();
    let Listeners { public, admin } = listeners;
    let public_routes = if admin.is_some() {
        Routes::Webhook
    } else {
        Routes::All
    };
    let log = |l: &TcpListener, what: &str| {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, serves = what, "HTTP server listening");
        }
    };
    log(
        &public,
        if admin.is_some() {
            "webhook"
        } else {
            "health, metrics, API, webhook"
        },
    );
    let public_router = routes(engine.clone(), public_routes, ready.clone());
    servers.spawn(accept_loop(public, public_router, stop_rx.clone()));
    if let Some(admin) = admin {
        log(&admin, "health, metrics, API");
        let admin_router = routes(engine, Routes::Admin, ready);
        servers.spawn(accept_loop(admin, admin_router, stop_rx));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    while servers.join_next().await.is_some() {}
    Ok(())
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = MAX_CONNECTIONS,
                "HTTP connection refused: too many open"
            );
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let stop = stop.clone();
        connections.spawn(async move {
            let _slot = slot;
            serve_connection(stream, service, stop).await;
        });
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "HTTP connections still open after the grace period: closed"
        );
        connections.shutdown().await;
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    service: TowerToHyperService<Router>,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let aged = tokio::time::sleep(CONNECTION_MAX_AGE);
    tokio::pin!(aged);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stop.changed() => {}
        _ = &mut aged => {}
    }
    // Finish the request in hand, then close; the caller's grace period
    // bounds how long that may take.
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
}

/// Telegram's webhook: checks the shared secret before reading the body,
/// stores the update in the inbox, and only then answers 200 (so a crash
/// after the answer loses nothing). A database failure answers 503 and
/// Telegram delivers again.
async fn webhook(State(engine): State<Arc<Engine>>, headers: HeaderMap, body: Body) -> Response {
    let given = headers
        .get("X-Telegram-Bot-Api-Secret-Token")
        .map(|v| v.as_bytes())
        .unwrap_or(b"");
    let expected = engine.settings.telegram.webhook_secret.expose();
    if expected.is_empty() || !constant_time_eq(given, expected.as_bytes()) {
        engine.metrics.webhook_rejected();
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, WEBHOOK_BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
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

async fn readyz(
    State(engine): State<Arc<Engine>>,
    Extension(ready): Extension<Readiness>,
) -> Response {
    if ready.stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response();
    }
    healthz(State(engine)).await
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
    // Each value is one COUNT(*) or MIN() query: a scrape costs the same
    // with ten rows or a million.
    let store = &engine.store;
    let now_ms = engine.now().timestamp_millis();
    let stats = store
        .ticket_stat_rows(now_ms - 7 * 86_400_000)
        .await
        .map(|rows| crate::tickets::stats::compute(&rows))
        .ok();
    let db = DatabaseGauges {
        outbox_pending: store.outbox_pending_count().await.ok(),
        outbox_lag_seconds: store.outbox_oldest_pending().await.ok().map(|oldest| {
            oldest
                .map(|t| (now_ms - t).max(0) as f64 / 1000.0)
                .unwrap_or(0.0)
        }),
        inbox_pending: store.inbox_len().await.ok(),
        tickets_open: store.count_open_tickets().await.ok(),
        requests: store.count_requests_by_status().await.ok(),
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        with_ticket_stats(engine.metrics.render(&db), &stats),
    )
        .into_response()
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
        .and_then(|v| bearer_token(v.as_bytes()))
        .unwrap_or(b"");
    !expected.is_empty() && constant_time_eq(given, expected.as_bytes())
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is
/// case-insensitive (RFC 7235), spaces around the token are ignored.
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at(value.iter().position(|b| *b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    Some(rest.trim_ascii())
}

/// Compares two byte strings in time independent of where they differ
/// (`subtle`; only the length may show).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

async fn set_status(
    State(engine): State<Arc<Engine>>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Body,
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
    let too_long = format!(
        "body larger than {API_BODY_LIMIT} bytes; the reason is at most {MAX_REASON_CHARS} characters"
    );
    let Ok(body) = axum::body::to_bytes(body, API_BODY_LIMIT).await else {
        return error(StatusCode::BAD_REQUEST, &too_long);
    };
    let Ok(body) = serde_json::from_slice::<StatusBody>(&body) else {
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
        Err(e @ StatusChangeError::ReasonTooLong { .. }) => error(StatusCode::BAD_REQUEST, &e.to_string()),
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

/// The staff numbers of the last seven days (`crate::tickets::stats`), set
/// into the exposition before its closing `# EOF`.
fn with_ticket_stats(
    mut exposition: String,
    stats: &Option<crate::tickets::stats::Stats>,
) -> String {
    let Some(stats) = stats else {
        return exposition;
    };
    let extra = crate::tickets::stats::prometheus(stats);
    match exposition.rfind("# EOF") {
        Some(at) => exposition.insert_str(at, &extra),
        None => exposition.push_str(&extra),
    }
    exposition
}
