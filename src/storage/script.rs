//! Several statements sent to the database in one round trip: the rows a
//! transaction appends at commit, the unbinding writes it holds back, the
//! facts of several merchants. Values are written as literals: integers as
//! digits and every text as hex, decoded by the database itself, so no byte
//! of user text is ever read as SQL (quotes, backslashes and all).

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

    /// A text, whatever bytes it holds.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sql.push_str(match self.dialect {
            Dialect::Sqlite => "CAST(X'",
            Dialect::Postgres => "convert_from(decode('",
        });
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.sql.reserve(value.len() * 2 + 32);
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
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let mut s = Script::new(dialect);
            s.sql("SELECT ")
                .text("a'; DROP TABLE x; --\\")
                .sql(", ")
                .opt_int(None)
                .sql(", ")
                .int(-5);
            let sql = s.into_sql();
            assert!(!sql.contains("DROP"), "{sql}");
            assert!(!sql.contains('\\'), "{sql}");
            assert!(sql.contains("61273B"), "{sql}");
            assert!(sql.ends_with(", NULL, -5"), "{sql}");
        }
    }

    #[test]
    fn each_dialect_spells_text_its_own_way() {
        let mut s = Script::new(Dialect::Sqlite);
        s.text("hi");
        assert_eq!(s.into_sql(), "CAST(X'6869' AS TEXT)");
        let mut p = Script::new(Dialect::Postgres);
        p.text("hi");
        assert_eq!(p.into_sql(), "convert_from(decode('6869', 'hex'), 'UTF8')");
    }
}
