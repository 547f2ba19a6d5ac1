//! Merchant CSV import (`merchant_id,name,phone,card_number,bank_name`).
//! A full card number is masked before anything else sees it: it never
//! reaches the database, the logs or an error message. Errors name a row by
//! its line number and merchant number only, never echoing its values.

use std::io::Read;

use regex::Regex;

use crate::domain::{MaskedCard, MerchantId, Phone};
use crate::storage::{MerchantRow, Store, StoreError};

/// The header the contract fixes.
pub const HEADER: [&str; 5] = ["merchant_id", "name", "phone", "card_number", "bank_name"];

/// One rejected line, named by its line number and merchant number only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// The row's merchant number, when it is a valid one.
    pub merchant: Option<String>,
    /// What is wrong, without echoing any value of the row.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.merchant {
            Some(merchant) => write!(
                f,
                "line {} (merchant {merchant}): {}",
                self.line, self.reason
            ),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// New merchants.
    pub inserted: u64,
    /// Existing merchants updated.
    pub updated: u64,
    /// Rejected lines.
    pub errors: Vec<RowError>,
}

/// A file-level problem (nothing imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Unreadable file.
    #[error("cannot read the CSV: {0}")]
    Read(String),
    /// Wrong header (what the file has is not echoed: a file without its
    /// header starts with a merchant's row).
    #[error(
        "the first line of the CSV must be the header {expected} (its first line has {found} columns)"
    )]
    Header {
        /// The contract header.
        expected: String,
        /// How many columns the file's first line has.
        found: usize,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and validates one record; never returns the card number itself.
pub fn parse_row(fields: &[&str], pattern: &Regex) -> Result<MerchantRow, String> {
    if fields.len() != HEADER.len() {
        return Err(format!(
            "expected {} fields, found {}",
            HEADER.len(),
            fields.len()
        ));
    }
    let merchant_id = MerchantId::parse(fields[0], pattern)
        .ok_or("merchant_id does not match the merchant number format")?;
    let name = fields[1].trim();
    if name.is_empty() {
        return Err("name is empty".into());
    }
    let phone = Phone::parse(fields[2]).ok_or("phone is not a phone number (6 to 15 digits)")?;
    let card = MaskedCard::parse(fields[3])
        .ok_or("card_number is neither a card number nor a mask like 6222********1234")?;
    let bank_name = fields[4].trim();
    if bank_name.is_empty() {
        return Err("bank_name is empty".into());
    }
    Ok(MerchantRow {
        merchant_id: merchant_id.as_str().to_string(),
        name: name.to_string(),
        phone: phone.expose().to_string(),
        card_mask: card.as_str().to_string(),
        bank_name: bank_name.to_string(),
    })
}

/// Imports a CSV; good rows are kept even when others are rejected.
/// `progress` is called with the number of data lines read so far.
pub async fn import(
    store: &Store,
    reader: impl Read,
    pattern: &Regex,
    now_ms: i64,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| ImportError::Read(e.to_string()))?
        .clone();
    let found: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    if found != HEADER {
        return Err(ImportError::Header {
            expected: HEADER.join(","),
            found: found.len(),
        });
    }
    let mut report = ImportReport::default();
    let mut record = csv::StringRecord::new();
    let mut count = 0u64;
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                let reason = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the line is not valid UTF-8".to_string(),
                    _ => "the line is not valid CSV".to_string(),
                };
                report.errors.push(RowError {
                    line,
                    merchant: None,
                    reason,
                });
                // A UTF-8 error leaves the reader usable; anything else ends the file.
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    continue;
                }
                break;
            }
        }
        count += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let fields: Vec<&str> = record.iter().collect();
        match parse_row(&fields, pattern) {
            Ok(row) => {
                if store.upsert_merchant(&row, now_ms).await? {
                    report.inserted += 1;
                } else {
                    report.updated += 1;
                }
            }
            Err(reason) => report.errors.push(RowError {
                line,
                merchant: fields
                    .first()
                    .and_then(|m| MerchantId::parse(m, pattern))
                    .map(|m| m.as_str().to_string()),
                reason,
            }),
        }
        if count.is_multiple_of(500) {
            progress(count);
        }
    }
    progress(count);
    Ok(report)
}

/// The sample merchants of `posdesk chat --demo`, as CSV.
pub const DEMO_CSV: &str = "\
merchant_id,name,phone,card_number,bank_name
M100200300,示例便利店,13800131234,6222021234567890123,中国工商银行
862100058120001,好又多餐饮,13912345678,6217 0000 1111 5678,中国建设银行
M900800700,Sunrise Cafe,13700001111,6225********7788,招商银行
";

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> Regex {
        Regex::new("^[A-Z0-9]{6,20}$").expect("valid") // ok: a test; failing loudly is the point
    }

    #[test]
    fn rows_are_validated_without_echoing_cards() {
        let row = parse_row(
            &[
                "m100200300",
                "店",
                "138 0013 1234",
                "6222021234567890123",
                "银行",
            ],
            &pattern(),
        )
        .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(row.card_mask, "6222 **** **** 0123");
        assert_eq!(row.merchant_id, "M100200300");
        let e = parse_row(
            &["M100200300", "店", "13800131234", "6222-02x", "银行"],
            &pattern(),
        )
        .expect_err("bad card");
        assert!(!e.contains("6222-02x"), "{e}");
        let e = parse_row(
            &[
                "13987654321!",
                "店",
                "13987654321",
                "6222021234567890128",
                "银行",
            ],
            &pattern(),
        )
        .expect_err("bad merchant number");
        assert!(!e.contains("13987654321"), "{e}");
        assert!(
            parse_row(
                &["x", "店", "13800131234", "6222021234567890123", "银行"],
                &pattern()
            )
            .is_err()
        );
        assert!(parse_row(&["M100200300"], &pattern()).is_err());
    }
}
