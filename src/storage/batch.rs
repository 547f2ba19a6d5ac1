//! The one write path: every statement a transaction runs for the rows it
//! writes, per backend, as files under `sql/` included at build time, and
//! the rows themselves as bound JSON arguments. No value is ever part of a
//! SQL text.
//!
//! The rows of a transaction (`Deferred`) are fourteen arrays, the same
//! arguments `$1`–`$14` on both backends:
//!
//! | arg | rows | held until |
//! |---|---|---|
//! | `$1`–`$5` | code sent, refunded, failed, locked, used | the next statement or the commit |
//! | `$6` | unbinding requests | the next statement or the commit |
//! | `$7`–`$14` | stored updates, sent marks, conversations, turn records, audit, inbox clean-up, codes pending, queued messages | the commit |
//!
//! SQLite runs each row kind as its own statement(s) (`jsonb_each`), all of
//! them in one multi-statement query that the connection prepares once and
//! keeps; PostgreSQL runs them as one statement of data-modifying CTEs
//! (`jsonb_array_elements`), also prepared once. Both answer the ids of the
//! queued messages. A CTE statement sees none of its own changes and must
//! not change a row twice, so the transaction never holds two writes of
//! one merchant's code state: the first is written before the second is
//! held (`Tx::apply`). PostgreSQL's plans are generic (the arguments are
//! not looked at), and it guesses a hundred rows in an argument: statements
//! that find rows by key say `= ANY (ARRAY(…))`, so the key's index is used
//! rather than a scan of the table.

use serde::Serialize;

use super::StoreError;

/// The texts of one backend, all static.
pub(super) struct Texts {
    /// The rows `$1`–`$14`, answering `queued_ids`.
    pub rows: &'static str,
    /// `rows` then `COMMIT`.
    pub rows_commit: &'static str,
    /// `BEGIN`, `rows`, `COMMIT` (SQLite; PostgreSQL runs `rows` alone:
    /// one statement is a transaction of its own).
    pub begin_rows_commit: &'static str,
    /// Claims update ids and loads chats (`$1`, `$2`).
    pub claim: &'static str,
    /// `BEGIN` then `claim` (SQLite).
    pub begin_claim: &'static str,
    /// Merchant facts: SQLite after the held writes `$1`–`$6`, keys `$7`;
    /// PostgreSQL keys `$1`.
    pub facts: &'static str,
    /// Locks chats (PostgreSQL; `$1`).
    pub lock: &'static str,
    /// Takes codes pending delivery (`$1`).
    pub take_codes: &'static str,
}

macro_rules! sqlite {
    ($($file:literal),*) => { concat!($(include_str!(concat!("sql/sqlite/", $file, ".sql"))),*) };
}
macro_rules! postgres {
    ($($file:literal),*) => { concat!($(include_str!(concat!("sql/postgres/", $file, ".sql"))),*) };
}

/// The held writes, `$1`–`$6` (SQLite).
macro_rules! sqlite_held {
    () => {
        sqlite!(
            "otp_issued",
            "otp_refunded",
            "otp_failed",
            "otp_locked",
            "otp_consumed",
            "request_created"
        )
    };
}
/// All rows, `$1`–`$14` (SQLite).
macro_rules! sqlite_rows {
    () => {
        concat!(
            sqlite_held!(),
            sqlite!(
                "store_updates",
                "mark_sent",
                "save_conversations",
                "record_turns",
                "audit",
                "inbox_done",
                "codes_pending",
                "enqueue"
            )
        )
    };
}
/// All rows, `$1`–`$14`, as one statement (PostgreSQL).
macro_rules! postgres_rows {
    () => {
        concat!(
            "WITH\n",
            postgres!(
                "otp_issued",
                "otp_refunded",
                "otp_failed",
                "otp_locked",
                "otp_consumed",
                "request_created",
                "store_updates",
                "mark_sent",
                "save_conversations",
                "record_turns",
                "audit",
                "inbox_done",
                "codes_pending",
                "enqueue"
            )
        )
    };
}

/// SQLite's statements.
pub(super) const SQLITE: Texts = Texts {
    rows: sqlite_rows!(),
    rows_commit: concat!(sqlite_rows!(), "COMMIT;\n"),
    begin_rows_commit: concat!("BEGIN IMMEDIATE;\n", sqlite_rows!(), "COMMIT;\n"),
    claim: sqlite!("claim_updates", "load_chats"),
    begin_claim: concat!("BEGIN IMMEDIATE;\n", sqlite!("claim_updates", "load_chats")),
    facts: concat!(sqlite_held!(), sqlite!("facts")),
    lock: "",
    take_codes: sqlite!("take_codes_pending"),
};

/// PostgreSQL's statements.
pub(super) const POSTGRES: Texts = Texts {
    rows: postgres_rows!(),
    rows_commit: postgres_rows!(),
    begin_rows_commit: postgres_rows!(),
    claim: postgres!("claim_and_load"),
    begin_claim: postgres!("claim_and_load"),
    facts: postgres!("facts"),
    lock: postgres!("lock_chats"),
    take_codes: postgres!("take_codes_pending"),
};

/// The JSON array of `rows`: one bound argument.
pub(super) fn json<T: Serialize>(rows: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// PostgreSQL's text cannot hold U+0000 (`jsonb` refuses `\u0000`): each
/// NUL of a JSON argument becomes U+FFFD, the replacement character, so the
/// row is written and shows where the NUL was (SQLite keeps it as it is).
pub(super) fn without_nul(json: String) -> String {
    if !json.contains("\\u0000") {
        return json;
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json.as_str();
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        if let Some(after) = escape.strip_prefix("\\u0000") {
            out.push_str("\\ufffd");
            rest = after;
        } else {
            // Any other escape is two characters (`\\`, `\"`, `\n`, …) or
            // `\uXXXX`, whose tail has no backslash: copied as is.
            let len = escape.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&escape[..len]);
            rest = &escape[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The JSON of the answer column `column` among a query's rows (each
/// gathered statement answers with one), decoded; `None` if no row has it.
pub(super) fn gathered<R, T>(answer: &[R], column: &str) -> Result<Option<T>, StoreError>
where
    R: sqlx::Row,
    T: serde::de::DeserializeOwned,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    answer
        .iter()
        .find_map(|row| row.try_get::<String, _>(column).ok())
        .map(|json| serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_becomes_the_replacement_character_and_nothing_else_changes() {
        let json = json(&["a\0b", "\\u0000", "\\\0", "\"\u{10FFFF}\n"]).expect("json"); // ok: a test
        let back: Vec<String> = serde_json::from_str(&without_nul(json)).expect("json"); // ok: a test
        assert_eq!(
            back,
            ["a\u{FFFD}b", "\\u0000", "\\\u{FFFD}", "\"\u{10FFFF}\n"]
        );
    }

    #[test]
    fn each_backend_numbers_the_fourteen_row_kinds_alike() {
        for n in 1..=14 {
            assert!(SQLITE.rows.contains(&format!("jsonb_each(${n})")), "${n}");
            assert!(
                POSTGRES
                    .rows
                    .contains(&format!("jsonb_array_elements(${n}::jsonb)")),
                "${n}"
            );
        }
        assert!(!SQLITE.rows.contains("$15") && !POSTGRES.rows.contains("$15"));
        assert!(SQLITE.facts.contains("jsonb_each($7)"));
    }
}
