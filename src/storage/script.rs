//! Several statements sent to the database in one round trip: the rows a
//! transaction appends at commit, the unbinding writes it holds back, the
//! facts of several merchants. Values are written as literals: integers as
//! digits, texts quoted with every quote (and, for PostgreSQL, backslash)
//! doubled, or as hex when they hold a NUL, so no byte of user text is ever
//! read as SQL.

use std::fmt::Write as _;

/// Which database a script is for (they spell a hex text differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// `CAST(X'..' AS TEXT)`.
    Sqlite,
    /// `convert_from(decode('..', 'hex'), 'UTF8')`.
    Postgres,
}

/// A script of statements under construction.
pub(super) struct Script {
    dialect: Dialect,
    sql: String,
}

impl Script {
    /// An empty script for `dialect`.
    pub fn new(dialect: Dialect) -> Script {
        Script {
            dialect,
            sql: String::new(),
        }
    }

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

    /// A text, whatever bytes it holds: a quoted literal (quotes doubled;
    /// PostgreSQL: an `E''` literal with backslashes doubled too, whatever
    /// `standard_conforming_strings` says), or hex decoded by the database
    /// for a text with a NUL (which would end SQLite's SQL text early).
    pub fn text(&mut self, value: &str) -> &mut Self {
        if value.contains('\0') {
            return self.hex_text(value);
        }
        self.sql.reserve(value.len() + 4);
        self.sql.push_str(match self.dialect {
            Dialect::Sqlite => "'",
            Dialect::Postgres => "E'",
        });
        for c in value.chars() {
            match c {
                '\'' => self.sql.push_str("''"),
                '\\' if self.dialect == Dialect::Postgres => self.sql.push_str("\\\\"),
                c => self.sql.push(c),
            }
        }
        self.sql.push('\'');
        self
    }

    /// A text as hex, decoded by the database.
    fn hex_text(&mut self, value: &str) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.sql.reserve(value.len() * 2 + 32);
        self.sql.push_str(match self.dialect {
            Dialect::Sqlite => "CAST(X'",
            Dialect::Postgres => "convert_from(decode('",
        });
        for byte in value.as_bytes() {
            self.sql.push(char::from(HEX[usize::from(byte >> 4)]));
            self.sql.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
        self.sql.push_str(match self.dialect {
            Dialect::Sqlite => "' AS TEXT)",
            Dialect::Postgres => "', 'hex'), 'UTF8')",
        });
        self
    }

    /// An optional text.
    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.sql("NULL"),
        }
    }

    /// Integers separated by commas (for `IN (...)`).
    pub fn ints(&mut self, values: impl IntoIterator<Item = i64>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.int(value);
        }
        self
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
    fn quotes_and_backslashes_cannot_break_out() {
        let mut s = Script::new(Dialect::Sqlite);
        s.sql("SELECT ")
            .text("a'; DROP TABLE x; --\\")
            .sql(", ")
            .opt_int(None)
            .sql(", ")
            .int(-5);
        assert_eq!(s.into_sql(), "SELECT 'a''; DROP TABLE x; --\\', NULL, -5");
        let mut p = Script::new(Dialect::Postgres);
        p.text("a'\\b");
        assert_eq!(p.into_sql(), "E'a''\\\\b'");
    }

    #[test]
    fn a_nul_goes_as_hex() {
        let mut s = Script::new(Dialect::Sqlite);
        s.text("h\0i");
        assert_eq!(s.into_sql(), "CAST(X'680069' AS TEXT)");
        let mut p = Script::new(Dialect::Postgres);
        p.text("h\0i");
        assert_eq!(
            p.into_sql(),
            "convert_from(decode('680069', 'hex'), 'UTF8')"
        );
    }
}
