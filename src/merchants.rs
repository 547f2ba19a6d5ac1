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
    /// The file's encoding: `UTF-8` or `GB18030` (which includes GBK).
    pub encoding: &'static str,
}

/// How far the reading got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Data lines read.
    pub done: u64,
    /// Data lines in the file.
    pub total: u64,
}

/// A file-level problem (nothing imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Unreadable file.
    #[error("cannot read the CSV: {0}")]
    Read(String),
    /// Neither UTF-8 nor GBK/GB18030.
    #[error("the CSV is neither UTF-8 nor GBK/GB18030: save it from Excel as \"CSV UTF-8\"")]
    Encoding,
    /// The first line is a merchant, not the header.
    #[error("the first line is data, not the header: add the line {expected} at the top")]
    NoHeader {
        /// The contract header.
        expected: String,
    },
    /// Wrong header.
    #[error("the CSV header must be {expected}, found {found}")]
    Header {
        /// The contract header.
        expected: String,
        /// What the file has (numbers masked).
        found: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The file's text: UTF-8 (with or without BOM) as is, else GB18030 (what
/// Excel on a Chinese Windows saves, GBK included).
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), "UTF-8"));
    }
    match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok((text.into_owned(), "GB18030")),
        None => Err(ImportError::Encoding),
    }
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

/// Imports a CSV; good rows are kept even when others are rejected, and
/// all of them are written in one transaction. `progress` is told how many
/// data lines were read.
pub async fn import(
    store: &Store,
    mut reader: impl Read,
    pattern: &Regex,
    now_ms: i64,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Read(e.to_string()))?;
    let (text, encoding) = decode(&bytes)?;
    let (rows, mut report) = parse(&text, pattern, &mut progress)?;
    report.encoding = encoding;
    let (inserted, updated) = store.upsert_merchants(&rows, now_ms).await?;
    report.inserted = inserted;
    report.updated = updated;
    Ok(report)
}

/// Parses the whole text: checks the header, validates each row, and
/// recovers from an unclosed quote by rejecting its line and reading on
/// from the next one.
pub fn parse(
    text: &str,
    pattern: &Regex,
    progress: &mut impl FnMut(Progress),
) -> Result<(Vec<MerchantRow>, ImportReport), ImportError> {
    let header_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let header = fields_of(&text[..header_end]);
    let found: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if found != HEADER {
        let borrowed: Vec<&str> = header.iter().map(String::as_str).collect();
        if header.len() == HEADER.len() && parse_row(&borrowed, pattern).is_ok() {
            return Err(ImportError::NoHeader {
                expected: HEADER.join(","),
            });
        }
        return Err(ImportError::Header {
            expected: HEADER.join(","),
            found: crate::redact::redacted(&found.join(",")),
        });
    }
    let total = text[header_end..].lines().count() as u64;
    let mut report = ImportReport::default();
    let mut rows = Vec::new();
    // `offset` is where the slice being read starts; its line 1 is file
    // line `line_base + 1`.
    let (mut offset, mut line_base) = (header_end, 1u64);
    let mut read = 0u64;
    loop {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::None)
            .from_reader(&text.as_bytes()[offset..]);
        let mut restart = None;
        let mut record = csv::StringRecord::new();
        loop {
            let at = csv.position().clone();
            let result = csv.read_record(&mut record);
            let start = record.position().cloned().unwrap_or(at);
            let line = line_base + start.line();
            match result {
                Ok(false) => break,
                Ok(true) if !record.iter().any(|f| f.contains(['\n', '\r'])) => {}
                // A field over several lines: a quote opened and never
                // closed (merchant fields have no line breaks).
                Ok(true) | Err(_) => {
                    report.errors.push(RowError {
                        line,
                        merchant: None,
                        reason: "a quote opened on this line is never closed".into(),
                    });
                    let from = offset + start.byte() as usize;
                    restart = text[from..].find('\n').map(|i| (from + i + 1, line));
                    break;
                }
            }
            read += 1;
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let fields: Vec<&str> = record.iter().collect();
            match parse_row(&fields, pattern) {
                Ok(row) => rows.push(row),
                Err(reason) => report.errors.push(RowError {
                    line,
                    merchant: fields
                        .first()
                        .and_then(|m| MerchantId::parse(m, pattern))
                        .map(|m| m.as_str().to_string()),
                    reason,
                }),
            }
            if read.is_multiple_of(500) {
                progress(Progress { done: read, total });
            }
        }
        match restart {
            Some((next, line)) if next < text.len() => {
                read += 1;
                offset = next;
                line_base = line;
            }
            _ => break,
        }
    }
    progress(Progress { done: total, total });
    Ok((rows, report))
}

/// The fields of one line (for the header check).
fn fields_of(line: &str) -> Vec<String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match csv.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_string).collect(),
        _ => Vec::new(),
    }
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

    fn parsed(text: &str) -> Result<(Vec<MerchantRow>, ImportReport), ImportError> {
        parse(text, &pattern(), &mut |_| {})
    }

    #[test]
    fn gbk_files_decode_and_other_bytes_are_refused() {
        let (bytes, _, _) = encoding_rs::GBK.encode(DEMO_CSV);
        let (text, encoding) = decode(&bytes).expect("GBK decodes"); // ok: a test; failing loudly is the point
        assert_eq!(encoding, "GB18030");
        assert_eq!(text, DEMO_CSV);
        let (rows, report) = parsed(&text).expect("parses"); // ok: a test; failing loudly is the point
        assert_eq!((rows.len(), report.errors.len()), (3, 0));
        assert_eq!(rows[0].name, "示例便利店");
        let bom = [b"\xEF\xBB\xBF".as_slice(), DEMO_CSV.as_bytes()].concat();
        assert_eq!(decode(&bom).expect("utf-8").1, "UTF-8"); // ok: a test; failing loudly is the point
        assert!(matches!(
            decode(b"\xFF\xFE\x00\x81\x30"),
            Err(ImportError::Encoding)
        ));
    }

    #[test]
    fn a_file_without_its_header_says_so() {
        let body = DEMO_CSV.split_once('\n').expect("lines").1; // ok: a test; failing loudly is the point
        let e = parsed(body).expect_err("no header");
        assert!(matches!(e, ImportError::NoHeader { .. }), "{e}");
        assert!(!e.to_string().contains("6222021234567890123"), "{e}");
        let e = parsed("id,name\n").expect_err("wrong header");
        assert!(matches!(e, ImportError::Header { .. }), "{e}");
    }

    #[test]
    fn an_unclosed_quote_rejects_its_line_only() {
        let mut text = String::from("merchant_id,name,phone,card_number,bank_name\n");
        for i in 0..10 {
            let name = if i == 3 {
                "\"Broken shop".to_string()
            } else {
                format!("Shop {i}")
            };
            text.push_str(&format!(
                "M10020030{i},{name},1380013123{i},6222********012{i},Bank\n"
            ));
        }
        let (rows, report) = parsed(&text).expect("parses"); // ok: a test; failing loudly is the point
        assert_eq!(rows.len(), 9, "{report:?}");
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert_eq!(report.errors[0].line, 5);
        assert!(report.errors[0].reason.contains("quote"));
    }
}
