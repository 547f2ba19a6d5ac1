//! Back-office reads and writes outside a conversation turn: merchants,
//! requests, tickets, the audit trail.

use sqlx::Row;

use super::{Store, StoreError, with_pool, with_pool_write};

/// A merchant as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    /// Normalised merchant number.
    pub merchant_id: String,
    /// Name.
    pub name: String,
    /// Registered phone.
    pub phone: String,
    /// Masked card.
    pub card_mask: String,
    /// Bank.
    pub bank_name: String,
}

/// An unbinding request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestRow {
    /// Reference.
    pub reference: String,
    /// Merchant number.
    pub merchant_id: String,
    /// The chat that created it.
    pub chat_id: i64,
    /// Status name.
    pub status: String,
    /// Reason of the last status change.
    pub reason: Option<String>,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Last change, Unix ms.
    pub updated_at: i64,
}

/// A support ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketRow {
    /// Id.
    pub id: i64,
    /// Merchant chat.
    pub chat_id: i64,
    /// Merchant's Telegram user.
    pub user_id: i64,
    /// Merchant's Telegram name.
    pub user_name: String,
    /// Verified merchant number, if any.
    pub merchant_id: Option<String>,
    /// Merchant's language.
    pub lang: String,
    /// Why it was opened.
    pub reason: String,
    /// `open`, `claimed`, `closed`, `withdrawn`.
    pub status: String,
    /// Agent's Telegram user id.
    pub assignee_id: Option<i64>,
    /// Agent's name.
    pub assignee_name: Option<String>,
    /// Forum topic in the staff chat.
    pub thread_id: Option<i64>,
    /// Opened, Unix ms.
    pub opened_at: i64,
    /// Closed, Unix ms.
    pub closed_at: Option<i64>,
    /// 1 to 5.
    pub rating: Option<i64>,
    /// The merchant's comment.
    pub comment: Option<String>,
    /// Whether the reminder went out.
    pub reminded: bool,
}

/// An audit line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// When, Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Merchant concerned.
    pub merchant_id: Option<String>,
    /// Detail.
    pub detail: String,
}

pub(super) const REQUEST_SELECT_BY_REF: &str = "SELECT reference, merchant_id, chat_id, status, reason, created_at, updated_at FROM unbind_requests WHERE reference = $1";
pub(super) const TICKET_SELECT_BY_ID: &str = "SELECT id, chat_id, user_id, user_name, merchant_id, lang, reason, status, assignee_id, assignee_name, thread_id, opened_at, closed_at, rating, comment, reminded FROM tickets WHERE id = $1";

pub(super) fn request_from_row<R: Row>(r: &R) -> Result<RequestRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(RequestRow {
        reference: r.try_get("reference")?,
        merchant_id: r.try_get("merchant_id")?,
        chat_id: r.try_get("chat_id")?,
        status: r.try_get("status")?,
        reason: r.try_get("reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn ticket_from_row<R: Row>(r: &R) -> Result<TicketRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(TicketRow {
        id: r.try_get("id")?,
        chat_id: r.try_get("chat_id")?,
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        merchant_id: r.try_get("merchant_id")?,
        lang: r.try_get("lang")?,
        reason: r.try_get("reason")?,
        status: r.try_get("status")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        thread_id: r.try_get("thread_id")?,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
        rating: r.try_get("rating")?,
        comment: r.try_get("comment")?,
        reminded: r.try_get::<i64, _>("reminded")? != 0,
    })
}

impl Store {
    /// Inserts or updates a merchant; `true` if it was new.
    pub async fn upsert_merchant(&self, m: &MerchantRow, now: i64) -> Result<bool, StoreError> {
        with_pool_write!(self, p => {
            let existed = sqlx::query("SELECT 1 AS x FROM merchants WHERE merchant_id = $1")
                .bind(&m.merchant_id).fetch_optional(p).await?.is_some();
            sqlx::query(
                "INSERT INTO merchants (merchant_id, name, phone, card_mask, bank_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (merchant_id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                 card_mask = excluded.card_mask, bank_name = excluded.bank_name, updated_at = excluded.updated_at",
            )
            .bind(&m.merchant_id).bind(&m.name).bind(&m.phone).bind(&m.card_mask).bind(&m.bank_name).bind(now)
            .execute(p).await?;
            Ok(!existed)
        })
    }

    /// Upserts many merchants in one transaction (all or none); returns
    /// how many were new and how many updated.
    pub async fn upsert_merchants(
        &self,
        rows: &[MerchantRow],
        now: i64,
    ) -> Result<(u64, u64), StoreError> {
        with_pool_write!(self, p => {
            let mut tx = p.begin().await?;
            let (mut inserted, mut updated) = (0u64, 0u64);
            for m in rows {
                let existed = sqlx::query("SELECT 1 AS x FROM merchants WHERE merchant_id = $1")
                    .bind(&m.merchant_id).fetch_optional(&mut *tx).await?.is_some();
                sqlx::query(
                    "INSERT INTO merchants (merchant_id, name, phone, card_mask, bank_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (merchant_id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                     card_mask = excluded.card_mask, bank_name = excluded.bank_name, updated_at = excluded.updated_at",
                )
                .bind(&m.merchant_id).bind(&m.name).bind(&m.phone).bind(&m.card_mask).bind(&m.bank_name).bind(now)
                .execute(&mut *tx).await?;
                if existed {
                    updated += 1;
                } else {
                    inserted += 1;
                }
            }
            tx.commit().await?;
            Ok((inserted, updated))
        })
    }

    /// Number of merchants.
    pub async fn merchant_count(&self) -> Result<i64, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) AS n FROM merchants").fetch_one(p).await?.try_get("n")?))
    }

    /// Requests, newest first, optionally only one status.
    pub async fn list_requests(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        with_pool!(self, p => {
            let rows = match status {
                Some(s) => sqlx::query("SELECT reference, merchant_id, chat_id, status, reason, created_at, updated_at FROM unbind_requests WHERE status = $1 ORDER BY created_at DESC LIMIT $2")
                    .bind(s).bind(limit).fetch_all(p).await?,
                None => sqlx::query("SELECT reference, merchant_id, chat_id, status, reason, created_at, updated_at FROM unbind_requests ORDER BY created_at DESC LIMIT $1")
                    .bind(limit).fetch_all(p).await?,
            };
            rows.iter().map(request_from_row).collect()
        })
    }

    /// Requests by status, counted in the database (for `/metrics`).
    pub async fn count_requests_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM unbind_requests GROUP BY status")
                .fetch_all(p).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>("status")?, r.try_get::<i64, _>("n")?)))
                .collect()
        })
    }

    /// Tickets open or claimed, counted in the database (for `/metrics`).
    pub async fn count_open_tickets(&self) -> Result<i64, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE status IN ('open', 'claimed')").fetch_one(p).await?.try_get("n")?))
    }

    /// One request.
    pub async fn request(&self, reference: &str) -> Result<Option<RequestRow>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(REQUEST_SELECT_BY_REF).bind(reference).fetch_optional(p).await?;
            row.as_ref().map(request_from_row).transpose()
        })
    }

    /// The audit lines about a merchant, oldest first.
    pub async fn audit_for_merchant(&self, merchant: &str) -> Result<Vec<AuditRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT at, actor, action, merchant_id, detail FROM audit WHERE merchant_id = $1 ORDER BY id")
                .bind(merchant).fetch_all(p).await?;
            rows.iter().map(|r| Ok(AuditRow {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                merchant_id: r.try_get("merchant_id")?,
                detail: r.try_get("detail")?,
            })).collect()
        })
    }

    /// Tickets, newest first; only open and claimed ones if `open_only`.
    pub async fn list_tickets(
        &self,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<TicketRow>, StoreError> {
        // `$2`: open and claimed tickets only.
        let sql = "SELECT id, chat_id, user_id, user_name, merchant_id, lang, reason, status, assignee_id, assignee_name, thread_id, opened_at, closed_at, rating, comment, reminded FROM tickets WHERE status IN ('open', 'claimed') OR NOT $2 ORDER BY id DESC LIMIT $1";
        with_pool!(self, p => {
            let rows = sqlx::query(sql).bind(limit).bind(open_only).fetch_all(p).await?;
            rows.iter().map(ticket_from_row).collect()
        })
    }

    /// One ticket.
    pub async fn ticket(&self, id: i64) -> Result<Option<TicketRow>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(TICKET_SELECT_BY_ID).bind(id).fetch_optional(p).await?;
            row.as_ref().map(ticket_from_row).transpose()
        })
    }

    /// The open or claimed ticket of a staff forum topic.
    pub async fn ticket_by_thread(&self, thread_id: i64) -> Result<Option<TicketRow>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT id FROM tickets WHERE thread_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(thread_id).fetch_optional(p).await?;
            match row {
                Some(r) => {
                    let id: i64 = r.try_get("id")?;
                    let row = sqlx::query(TICKET_SELECT_BY_ID).bind(id).fetch_optional(p).await?;
                    row.as_ref().map(ticket_from_row).transpose()
                }
                None => Ok(None),
            }
        })
    }

    /// Tickets opened since `since` (Unix ms) as the statistics see them.
    pub async fn ticket_stat_rows(
        &self,
        since: i64,
    ) -> Result<Vec<crate::tickets::stats::StatRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT t.opened_at, t.closed_at, t.rating, t.assignee_name,
                        (SELECT MIN(m.at) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.direction = 'out') AS first_out
                 FROM tickets t WHERE t.opened_at >= $1 ORDER BY t.id",
            ).bind(since).fetch_all(p).await?;
            rows.iter().map(|r| Ok(crate::tickets::stats::StatRow {
                opened_at: r.try_get("opened_at")?,
                first_response_at: r.try_get("first_out")?,
                closed_at: r.try_get("closed_at")?,
                rating: r.try_get("rating")?,
                agent: r.try_get("assignee_name")?,
            })).collect()
        })
    }

    /// Remembers a request's post in the requests topic.
    pub async fn set_request_post(
        &self,
        reference: &str,
        message_id: i64,
    ) -> Result<(), StoreError> {
        with_pool_write!(self, p => sqlx::query("UPDATE unbind_requests SET post_message_id = $2 WHERE reference = $1")
            .bind(reference).bind(message_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The message id of a request's post, once sent.
    pub async fn request_post(&self, reference: &str) -> Result<Option<i64>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT post_message_id FROM unbind_requests WHERE reference = $1")
                .bind(reference).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(r.try_get::<Option<i64>, _>("post_message_id")?),
                None => Ok(None),
            }
        })
    }

    /// Remembers which merchant message a staff reply became.
    pub async fn remember_relay(
        &self,
        staff_message: i64,
        chat_id: i64,
        message_id: i64,
    ) -> Result<(), StoreError> {
        with_pool_write!(self, p => sqlx::query(
            "INSERT INTO staff_relays (staff_message_id, chat_id, message_id) VALUES ($1, $2, $3)
             ON CONFLICT (staff_message_id) DO UPDATE SET chat_id = excluded.chat_id, message_id = excluded.message_id",
        ).bind(staff_message).bind(chat_id).bind(message_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The merchant message a staff reply became: (chat, message id).
    pub async fn relay_of(&self, staff_message: i64) -> Result<Option<(i64, i64)>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT chat_id, message_id FROM staff_relays WHERE staff_message_id = $1")
                .bind(staff_message).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some((r.try_get("chat_id")?, r.try_get("message_id")?))),
                None => Ok(None),
            }
        })
    }

    /// Remembers the message id of a ticket's context card.
    pub async fn set_ticket_card(&self, id: i64, message_id: i64) -> Result<(), StoreError> {
        with_pool_write!(self, p => sqlx::query("UPDATE tickets SET card_message_id = $2 WHERE id = $1").bind(id).bind(message_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The message id of a ticket's context card, once sent.
    pub async fn ticket_card(&self, id: i64) -> Result<Option<i64>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT card_message_id FROM tickets WHERE id = $1").bind(id).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(r.try_get::<Option<i64>, _>("card_message_id")?),
                None => Ok(None),
            }
        })
    }

    /// Remembers the forum topic of a ticket.
    pub async fn set_ticket_thread(
        &self,
        id: i64,
        thread_id: Option<i64>,
    ) -> Result<(), StoreError> {
        with_pool_write!(self, p => sqlx::query("UPDATE tickets SET thread_id = $2 WHERE id = $1").bind(id).bind(thread_id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Unclaimed tickets opened before `before` that were not re-announced yet;
    /// marks them reminded.
    pub async fn take_tickets_to_remind(&self, before: i64) -> Result<Vec<TicketRow>, StoreError> {
        with_pool_write!(self, p => {
            let rows = sqlx::query(
                "UPDATE tickets SET reminded = 1 WHERE status = 'open' AND reminded = 0 AND opened_at < $1
                 RETURNING id, chat_id, user_id, user_name, merchant_id, lang, reason, status, assignee_id, assignee_name, thread_id, opened_at, closed_at, rating, comment, reminded",
            ).bind(before).fetch_all(p).await?;
            rows.iter().map(ticket_from_row).collect()
        })
    }

    /// The transcript of a ticket: (direction, author, body, at).
    pub async fn ticket_transcript(
        &self,
        id: i64,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT direction, author, body, at FROM ticket_messages WHERE ticket_id = $1 ORDER BY id")
                .bind(id).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get("direction")?, r.try_get("author")?, r.try_get("body")?, r.try_get("at")?))).collect()
        })
    }

    /// Chats whose flow has been idle since before `before` (for expiry).
    pub async fn chats_idle_in_flow(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT chat_id FROM conversations WHERE updated_at < $1 AND state NOT LIKE '%\"kind\":\"idle\"%' LIMIT $2",
            ).bind(before).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(r.try_get("chat_id")?)).collect()
        })
    }
}
