//! Copies every table from one database to another (SQLite to PostgreSQL,
//! or back), for `posdesk copy-db`. The target must be empty and migrated.

use sqlx::Row;

use super::{Store, StoreError, with_pool};

/// Column kinds of the copied tables.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
}

use Kind::{Int, Text};

/// A table to copy: name, whether `id` is an identity column, columns.
type TableSpec = (&'static str, bool, &'static [(&'static str, Kind)]);

/// The tables, in an order that respects foreign keys.
const TABLES: &[TableSpec] = &[
    ("secrets", false, &[("name", Text), ("value", Text)]),
    (
        "merchants",
        false,
        &[
            ("merchant_id", Text),
            ("name", Text),
            ("phone", Text),
            ("card_mask", Text),
            ("bank_name", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "conversations",
        false,
        &[
            ("chat_id", Int),
            ("user_id", Int),
            ("lang", Text),
            ("state", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "processed_updates",
        false,
        &[("update_id", Int), ("chat_id", Int), ("processed_at", Int)],
    ),
    (
        "turns",
        true,
        &[
            ("id", Int),
            ("chat_id", Int),
            ("update_id", Int),
            ("event", Text),
            ("intent", Text),
            ("input", Text),
            ("state_before", Text),
            ("state_after", Text),
            ("at", Int),
        ],
    ),
    (
        "outbox",
        true,
        &[
            ("id", Int),
            ("chat_id", Int),
            ("ticket_id", Int),
            ("payload", Text),
            ("priority", Int),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("created_at", Int),
            ("sent_at", Int),
            ("last_error", Text),
        ],
    ),
    (
        "otp_state",
        false,
        &[
            ("merchant_id", Text),
            ("code_hash", Text),
            ("expires_at", Int),
            ("failures", Int),
            ("locked_until", Int),
            ("last_sent_at", Int),
        ],
    ),
    (
        "otp_sends",
        true,
        &[
            ("id", Int),
            ("merchant_id", Text),
            ("user_id", Int),
            ("sent_at", Int),
        ],
    ),
    (
        "unbind_requests",
        false,
        &[
            ("reference", Text),
            ("merchant_id", Text),
            ("chat_id", Int),
            ("user_id", Int),
            ("status", Text),
            ("reason", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "audit",
        true,
        &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("merchant_id", Text),
            ("chat_id", Int),
            ("detail", Text),
        ],
    ),
    (
        "tickets",
        true,
        &[
            ("id", Int),
            ("chat_id", Int),
            ("user_id", Int),
            ("user_name", Text),
            ("merchant_id", Text),
            ("lang", Text),
            ("reason", Text),
            ("status", Text),
            ("assignee_id", Int),
            ("assignee_name", Text),
            ("thread_id", Int),
            ("opened_at", Int),
            ("claimed_at", Int),
            ("closed_at", Int),
            ("rating", Int),
            ("comment", Text),
            ("reminded", Int),
        ],
    ),
    (
        "ticket_messages",
        true,
        &[
            ("id", Int),
            ("ticket_id", Int),
            ("direction", Text),
            ("author", Text),
            ("body", Text),
            ("message_id", Int),
            ("at", Int),
        ],
    ),
    (
        "inbox",
        false,
        &[
            ("update_id", Int),
            ("chat_id", Int),
            ("payload", Text),
            ("received_at", Int),
        ],
    ),
];

/// A value in transit.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// Rows copied per table.
pub type CopyReport = Vec<(&'static str, u64)>;

impl Store {
    /// Copies all rows into `target` (which must hold no data), table by table.
    pub async fn copy_into(&self, target: &Store) -> Result<CopyReport, StoreError> {
        for (table, _, _) in TABLES {
            let n = target.count_rows(table).await?;
            if n > 0 {
                return Err(StoreError::Corrupt(format!(
                    "the target database is not empty (table {table} has {n} rows)"
                )));
            }
        }
        let mut report = Vec::new();
        for (table, identity, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            // Table and column names from `TABLES` only: no value is in the text.
            let select = format!("SELECT {} FROM {table}", names.join(", "));
            let rows: Vec<Vec<Value>> = with_pool!(self, p => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch_all(p).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut values = Vec::with_capacity(columns.len());
                    for (name, kind) in columns.iter() {
                        values.push(match kind {
                            Int => Value::Int(r.try_get::<Option<i64>, _>(*name)?),
                            Text => Value::Text(r.try_get::<Option<String>, _>(*name)?),
                        });
                    }
                    out.push(values);
                }
                Ok::<_, StoreError>(out)
            })?;
            // Names from `TABLES` and `$n` placeholders only; values are bound.
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let overriding = match (target, identity) {
                (Store::Postgres(_), true) => " OVERRIDING SYSTEM VALUE",
                _ => "",
            };
            let insert = format!(
                "INSERT INTO {table} ({}){overriding} VALUES ({})",
                names.join(", "),
                placeholders.join(", ")
            );
            let mut tx = target.begin().await?;
            for values in &rows {
                tx.insert_values(&insert, values).await?;
            }
            if let (Store::Postgres(_), true) = (target, identity) {
                tx.reset_identity(table).await?;
            }
            tx.commit().await?;
            report.push((*table, rows.len() as u64));
        }
        Ok(report)
    }

    async fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        // A table name from `TABLES` only.
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        with_pool!(self, p => Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?.try_get("n")?))
    }

    /// Rows of every copied table, as text, for comparing two databases.
    pub async fn dump_for_comparison(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for (table, _, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            // Names from `TABLES` only.
            let sql = format!(
                "SELECT {} FROM {table} ORDER BY {}",
                names.join(", "),
                names[0]
            );
            let lines: Vec<String> = with_pool!(self, p => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?;
                let mut lines = Vec::new();
                for r in rows {
                    let mut fields = Vec::new();
                    for (name, kind) in columns.iter() {
                        fields.push(match kind {
                            Int => format!("{:?}", r.try_get::<Option<i64>, _>(*name)?),
                            Text => format!("{:?}", r.try_get::<Option<String>, _>(*name)?),
                        });
                    }
                    lines.push(format!("{table}: {}", fields.join(" | ")));
                }
                Ok::<_, StoreError>(lines)
            })?;
            out.extend(lines);
        }
        Ok(out)
    }
}

impl super::Tx {
    async fn insert_values(&mut self, sql: &str, values: &[Value]) -> Result<(), StoreError> {
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                for v in values {
                    q = match v {
                        Value::Int(i) => q.bind(*i),
                        Value::Text(t) => q.bind(t.clone()),
                    };
                }
                q
            }};
        }
        self.before_statement().await?;
        match &mut self.conn {
            super::tx::TxConn::Sqlite(t, _) => {
                bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())))
                    .execute(&mut **t)
                    .await?;
            }
            super::tx::TxConn::Postgres(t) => {
                bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())))
                    .execute(&mut **t)
                    .await?;
            }
            super::tx::TxConn::Released => return Err(super::tx::released()),
        }
        Ok(())
    }

    async fn reset_identity(&mut self, table: &str) -> Result<(), StoreError> {
        self.before_statement().await?;
        if let super::tx::TxConn::Postgres(t) = &mut self.conn {
            // A table name from `TABLES` only.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }
}
