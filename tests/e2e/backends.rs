//! Fresh databases for tests: a SQLite file, and a new PostgreSQL database
//! when `POSDESK_TEST_POSTGRES_URL` is set (otherwise the PostgreSQL half of a
//! test says it was skipped).

use posdesk::storage::Store;
use sqlx::Connection;

/// A SQLite URL in a new temporary directory (kept alive by the returned guard).
pub fn sqlite_url() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("posdesk.db").display()
    );
    (url, dir)
}

/// A URL of a brand-new PostgreSQL database, or `None` (with a note) when
/// `POSDESK_TEST_POSTGRES_URL` is not set.
pub async fn postgres_url(test: &str) -> Option<String> {
    let Ok(admin_url) = std::env::var("POSDESK_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED the PostgreSQL part of {test}: set POSDESK_TEST_POSTGRES_URL to run it");
        return None;
    };
    let name = format!(
        "posdesk_test_{}",
        hex::encode(posdesk::engine::random_bytes::<6>())
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to POSDESK_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let _ = admin.close().await;
    let base = match admin_url.rsplit_once('/') {
        Some((base, _))
            if base.contains("://")
                && base
                    .split("://")
                    .nth(1)
                    .is_some_and(|rest| !rest.is_empty()) =>
        {
            base.to_string()
        }
        _ => admin_url.trim_end_matches('/').to_string(),
    };
    Some(format!("{base}/{name}"))
}

/// Both backends, migrated: `(name, store, guard)`.
pub async fn stores(test: &str) -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let (url, dir) = sqlite_url();
    let sqlite = Store::connect(&url, 4).await.expect("sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    let mut out = vec![("sqlite", sqlite, Some(dir))];
    if let Some(url) = postgres_url(test).await {
        let pg = Store::connect(&url, 4).await.expect("postgres");
        pg.migrate().await.expect("migrate postgres");
        out.push(("postgres", pg, None));
    }
    out
}
