//! One-time codes: keyed hashing and constant-time checking. Codes are never
//! stored; only `HMAC-SHA256(key, merchant || ":" || code)` is.
//!
//! Pure; the key and the code come in as arguments.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::{MerchantId, OtpCode};

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], merchant: &MerchantId, code: &str) -> HmacSha256 {
    let mut mac = keyed(key);
    mac.update(merchant.as_str().as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    mac
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC is defined for keys of every length; the Result exists only for
    // other MACs behind the same trait.
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length") // ok: HMAC takes any key length
}

/// The keyed hash of a code, as lower-case hex.
pub fn hash_code(key: &[u8], merchant: &MerchantId, code: &OtpCode) -> String {
    hex::encode(mac(key, merchant, code.expose()).finalize().into_bytes())
}

/// Checks `code` against a stored hash in constant time.
pub fn verify_code(key: &[u8], merchant: &MerchantId, code: &OtpCode, stored_hex: &str) -> bool {
    let Ok(stored) = hex::decode(stored_hex) else {
        return false;
    };
    mac(key, merchant, code.expose())
        .verify_slice(&stored)
        .is_ok()
}

/// How far a gateway lets `X-Posdesk-Timestamp` be from its clock.
pub const SIGNATURE_WINDOW_SECONDS: i64 = 300;

/// The SMS gateway signature header: `sha256=<hex>` of
/// HMAC-SHA256(secret, `"<timestamp>.<raw body>"`), the timestamp being the
/// `X-Posdesk-Timestamp` header (unix seconds), so a captured request cannot
/// be replayed outside the window.
pub fn sign_request(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a gateway does with a request (and what the tests' fake gateway
/// does): the timestamp is within [`SIGNATURE_WINDOW_SECONDS`] of `now` and
/// the signature matches, compared in constant time.
pub fn verify_request(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> bool {
    let Ok(timestamp) = timestamp_header.trim().parse::<i64>() else {
        return false;
    };
    if (now - timestamp).abs() > SIGNATURE_WINDOW_SECONDS {
        return false;
    }
    let Some(given) = signature_header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = keyed(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn hash_verifies_only_the_same_code_and_merchant() {
        let pattern = Regex::new("^[A-Z0-9]{6,20}$").expect("valid"); // ok: a test; failing loudly is the point
        let m = MerchantId::parse("M100200300", &pattern).expect("valid"); // ok: a test; failing loudly is the point
        let other = MerchantId::parse("M100200301", &pattern).expect("valid"); // ok: a test; failing loudly is the point
        let code = OtpCode::parse("123456", 6).expect("valid"); // ok: a test; failing loudly is the point
        let wrong = OtpCode::parse("123457", 6).expect("valid"); // ok: a test; failing loudly is the point
        let h = hash_code(b"key", &m, &code);
        assert!(!h.contains("123456"));
        assert!(verify_code(b"key", &m, &code, &h));
        assert!(!verify_code(b"key", &m, &wrong, &h));
        assert!(!verify_code(b"key", &other, &code, &h));
        assert!(!verify_code(b"other-key", &m, &code, &h));
        assert!(!verify_code(b"key", &m, &code, "not hex"));
    }

    #[test]
    fn a_request_signature_covers_the_timestamp_and_expires() {
        let body = br#"{"code":"123456"}"#;
        let now = 1_780_000_000;
        let signature = sign_request(b"secret", now, body);
        // The documented construction: HMAC of "<timestamp>.<body>".
        let mut mac = keyed(b"secret");
        mac.update(format!("{now}.").as_bytes());
        mac.update(body);
        assert_eq!(
            signature,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        let ts = now.to_string();
        assert!(verify_request(b"secret", &ts, &signature, body, now + 299));
        assert!(
            !verify_request(b"secret", &ts, &signature, body, now + 301),
            "replayed later"
        );
        assert!(!verify_request(
            b"secret",
            &(now + 1).to_string(),
            &signature,
            body,
            now
        ));
        assert!(!verify_request(b"other", &ts, &signature, body, now));
        assert!(!verify_request(b"secret", &ts, &signature, b"{}", now));
    }
}
