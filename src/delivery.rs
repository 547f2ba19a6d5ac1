//! One-time code delivery behind one trait: the signed SMS-gateway webhook,
//! the log (development only), and an in-memory sink for the terminal demo.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::mpsc;

use crate::config::Secret;
use crate::domain::{MerchantId, OtpCode, Phone};
use crate::otp::sign_request;

/// A code to deliver.
#[derive(Debug, Clone)]
pub struct OtpMessage {
    /// Merchant number.
    pub merchant: MerchantId,
    /// Registered phone.
    pub phone: Phone,
    /// The code.
    pub code: OtpCode,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// When it was issued (Unix ms): with the merchant, which code it is.
    pub issued_at: i64,
}

/// Why a code was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The gateway answered with a non-2xx status.
    #[error("gateway answered {0}")]
    Status(u16),
    /// The gateway could not be reached or timed out (the gateway named by
    /// scheme, host and path only: gateways put API keys in query strings).
    #[error("gateway unreachable: {0}")]
    Transport(String),
}

/// Boxed future of a delivery.
pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Sends codes to phones.
pub trait OtpDelivery: Send + Sync {
    /// Delivers one code.
    fn deliver<'a>(&'a self, message: &'a OtpMessage) -> DeliveryFuture<'a>;
}

/// `otp.delivery = "webhook"`: a signed JSON POST to the SMS gateway.
pub struct WebhookDelivery {
    client: reqwest::Client,
    url: String,
    secret: Secret,
}

impl WebhookDelivery {
    /// A gateway client with the given timeout.
    pub fn new(
        url: String,
        secret: Secret,
        timeout: Duration,
    ) -> Result<WebhookDelivery, DeliveryError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| DeliveryError::Transport(e.to_string()))?;
        Ok(WebhookDelivery {
            client,
            url,
            secret,
        })
    }

    /// The JSON body of the contract.
    pub fn body(message: &OtpMessage) -> Vec<u8> {
        serde_json::json!({
            "merchant_id": message.merchant.as_str(),
            "phone": message.phone.expose(),
            "code": message.code.expose(),
            "purpose": "unbind",
            "expires_at": message.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        })
        .to_string()
        .into_bytes()
    }

    async fn post(&self, body: &[u8]) -> Result<(), DeliveryError> {
        // Retry only when the connection itself failed: the gateway never saw
        // the request, so a retry cannot send two SMS.
        let mut last_error = String::new();
        for attempt in 0..3u64 {
            // Signed at each attempt: the timestamp is the time of sending.
            let timestamp = Utc::now().timestamp();
            let signature = sign_request(self.secret.expose().as_bytes(), timestamp, body);
            let result = self
                .client
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header("X-Posdesk-Timestamp", timestamp.to_string())
                .header("X-Posdesk-Signature", &signature)
                .body(body.to_vec())
                .send()
                .await;
            match result {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => return Err(DeliveryError::Status(response.status().as_u16())),
                Err(e) if e.is_connect() => {
                    last_error = transport_error(e, &self.url);
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                }
                Err(e) => return Err(DeliveryError::Transport(transport_error(e, &self.url))),
            }
        }
        Err(DeliveryError::Transport(last_error))
    }
}

impl OtpDelivery for WebhookDelivery {
    fn deliver<'a>(&'a self, message: &'a OtpMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let body = WebhookDelivery::body(message);
            self.post(&body).await
        })
    }
}

/// A URL by scheme, host, port and path only: no user, password, query or
/// fragment (where gateways put API keys).
pub fn url_for_log(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(not a URL)".to_string(),
    }
}

/// A transport error with its causes, the URL reduced to [`url_for_log`].
fn transport_error(e: reqwest::Error, url: &str) -> String {
    let e = e.without_url();
    let mut text = format!("{e} ({})", url_for_log(url));
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `otp.delivery = "log"`: writes the code to the log. Development only.
pub struct LogDelivery;

impl OtpDelivery for LogDelivery {
    fn deliver<'a>(&'a self, message: &'a OtpMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            tracing::warn!(
                merchant = %message.merchant,
                phone = %message.phone.masked(),
                code = message.code.expose(),
                "one-time code (otp.delivery = \"log\": development only)"
            );
            Ok(())
        })
    }
}

/// Hands codes to the terminal demo, which shows them on screen.
pub struct ChannelDelivery {
    sender: mpsc::UnboundedSender<OtpMessage>,
}

impl ChannelDelivery {
    /// A delivery and the receiving end.
    pub fn new() -> (ChannelDelivery, mpsc::UnboundedReceiver<OtpMessage>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (ChannelDelivery { sender }, receiver)
    }
}

impl OtpDelivery for ChannelDelivery {
    fn deliver<'a>(&'a self, message: &'a OtpMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            self.sender
                .send(message.clone())
                .map_err(|_| DeliveryError::Transport("terminal closed".into()))
        })
    }
}

/// No delivery configured: every send fails (and is not counted).
pub struct NoDelivery;

impl OtpDelivery for NoDelivery {
    fn deliver<'a>(&'a self, _message: &'a OtpMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            tracing::error!("a one-time code could not be sent: otp.delivery is not configured");
            Err(DeliveryError::Transport(
                "otp.delivery not configured".into(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_logged_by_scheme_host_and_path() {
        assert_eq!(
            url_for_log("https://user:pw@sms.example.com:8443/send?api_key=K1#x"),
            "https://sms.example.com:8443/send"
        );
        assert_eq!(url_for_log("nonsense"), "(not a URL)");
    }

    #[tokio::test]
    async fn a_failed_delivery_names_no_query_string() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(9); // ok: a test; a closed port either way
        let url = format!("http://127.0.0.1:{port}/send?api_key=SECRET4711");
        let delivery =
            WebhookDelivery::new(url, Secret::new("s"), Duration::from_secs(2)).expect("a client"); // ok: a test
        let message = OtpMessage {
            merchant: MerchantId::parse("M100200300", &regex::Regex::new(".*").expect("regex")) // ok: a test
                .expect("merchant"), // ok: a test
            phone: Phone::parse("13800131234").expect("phone"), // ok: a test
            code: OtpCode::parse("123456", 6).expect("code"),   // ok: a test
            expires_at: Utc::now(),
            issued_at: 0,
        };
        let error = delivery
            .deliver(&message)
            .await
            .expect_err("nobody listens"); // ok: a test
        let text = error.to_string();
        assert!(!text.contains("SECRET4711"), "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
    }
}
