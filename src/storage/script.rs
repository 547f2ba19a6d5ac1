//! Several SQLite statements sent to the database's thread in one round
//! trip, for the rows a transaction appends at commit. Values are written
//! as literals: integers as digits and every text as a hex blob cast to
//! text, so no byte of user text is ever read as SQL (quotes, NULs and all).

use std::fmt::Write as _;

/// A script of SQLite statements under construction.
#[derive(Default)]
pub(super) struct Script {
    sql: String,
}

impl Script {
    /// SQL text written by us (keywords, names, punctuation).
    pub fn sql(&mut self, fixed: &'static str) -> &mut Self {
        self.sql.push_str(fixed);
        self
    }

    /// An integer.
    pub fn int(&mut self, value: i64) -> &mut Self {
        let _ = write!(self.sql, "{value}");
        self
    }

    /// An optional integer.
    pub fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.sql("NULL"),
        }
    }

    /// A text, whatever bytes it holds.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sql.push_str("CAST(X'");
        for byte in value.as_bytes() {
            let _ = write!(self.sql, "{byte:02X}");
        }
        self.sql.push_str("' AS TEXT)");
        self
    }

    /// An optional text.
    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.sql("NULL"),
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    /// The script.
    pub fn into_sql(self) -> String {
        self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_hex_and_cannot_break_out() {
        let mut s = Script::default();
        s.sql("SELECT ")
            .text("a'; DROP TABLE x; --\0")
            .sql(", ")
            .opt_int(None)
            .sql(", ")
            .int(-5);
        let sql = s.into_sql();
        assert!(!sql.contains("DROP"), "{sql}");
        assert!(sql.starts_with("SELECT CAST(X'61273B"), "{sql}");
        assert!(sql.ends_with(", NULL, -5"), "{sql}");
    }
}
