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

/// HMAC-SHA256 of a body as `sha256=<hex>`, the SMS gateway signature header.
pub fn sign_body(secret: &[u8], body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
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
}
