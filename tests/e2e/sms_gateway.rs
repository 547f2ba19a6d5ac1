//! A local HTTP endpoint standing in for the SMS gateway: checks the
//! signature, records deliveries, and can be told to refuse.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// The shared secret the tests configure.
pub const SECRET: &str = "sms-test-secret";

/// One delivery the gateway accepted (or refused).
#[derive(Debug, Clone)]
pub struct Sms {
    /// The JSON body.
    pub body: Value,
    /// Whether the signature checked out.
    pub signature_ok: bool,
    /// `X-Posdesk-Timestamp` as sent.
    pub timestamp: String,
    /// `X-Posdesk-Signature` as sent.
    pub signature: String,
    /// The raw body.
    pub raw: Vec<u8>,
}

impl Sms {
    /// The code.
    pub fn code(&self) -> String {
        self.body["code"].as_str().unwrap_or_default().to_string()
    }
    /// The merchant number.
    pub fn merchant(&self) -> String {
        self.body["merchant_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Clone)]
struct GatewayState {
    received: Arc<Mutex<Vec<Sms>>>,
    status: Arc<AtomicU16>,
}

/// Handle to the running gateway.
#[derive(Clone)]
pub struct SmsGateway {
    /// Its URL.
    pub url: String,
    received: Arc<Mutex<Vec<Sms>>>,
    status: Arc<AtomicU16>,
}

async fn receive(State(state): State<GatewayState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    // What a real gateway does: the timestamp within five minutes of its
    // clock, the HMAC of "<timestamp>.<body>".
    let signature_ok = posdesk::otp::verify_request(
        SECRET.as_bytes(),
        &header("X-Posdesk-Timestamp"),
        &header("X-Posdesk-Signature"),
        &body,
        chrono::Utc::now().timestamp(),
    );
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().expect("lock").push(Sms {
        body: json,
        signature_ok,
        timestamp: header("X-Posdesk-Timestamp"),
        signature: header("X-Posdesk-Signature"),
        raw: body.to_vec(),
    });
    StatusCode::from_u16(state.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

impl SmsGateway {
    /// Starts the gateway on a free port, answering 200.
    pub async fn start() -> SmsGateway {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let state = GatewayState {
            received: received.clone(),
            status: status.clone(),
        };
        let app = Router::new().route("/sms", post(receive)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMS gateway");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsGateway {
            url: format!("http://{addr}/sms"),
            received,
            status,
        }
    }

    /// Makes the gateway answer `status` from now on.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Everything received.
    pub fn received(&self) -> Vec<Sms> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits for the `n`-th delivery (1-based).
    pub async fn nth(&self, n: usize) -> Sms {
        for _ in 0..100 {
            if let Some(sms) = self.received().get(n - 1) {
                return sms.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("SMS #{n} never arrived; got {:?}", self.received());
    }
}
