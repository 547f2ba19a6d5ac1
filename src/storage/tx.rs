//! One turn's transaction: exactly-once update claim, conversation load and
//! save, merchant facts, the core's writes, the outbox and the turn record.

use sqlx::{Postgres, Row, Sqlite, Transaction};

use crate::conversation::{
    Conversation, MerchantFacts, MerchantRecord, OtpFacts, RequestSummary, TicketOpened,
    TicketReason, TicketView, Write,
};
use crate::domain::{Lang, MaskedCard, MerchantId, Phone, Reference, RequestStatus};

use super::StoreError;
use super::outbox::{OutboxPayload, Priority};

/// An open write transaction on either backend.
pub enum Tx {
    /// SQLite, holding the in-process write lock until commit or rollback.
    Sqlite(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

const HOUR_MS: i64 = 3_600_000;

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _guard) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _guard) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// PostgreSQL: serialises turns of one chat across replicas until commit.
    /// SQLite: a no-op, the write lock already serialises everything.
    pub async fn lock_chat(&mut self, chat_id: i64) -> Result<(), StoreError> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(chat_id)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Records `update_id` as processed; `false` if it already was.
    pub async fn claim_update(
        &mut self,
        update_id: i64,
        chat_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = with_tx!(self, c => sqlx::query(
            "INSERT INTO processed_updates (update_id, chat_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(update_id)
        .bind(chat_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// The conversation of a chat, or `None` for a new chat.
    pub async fn load_conversation(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        let json: Option<String> = with_tx!(self, c => match sqlx::query("SELECT state FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(c)
            .await? {
            Some(row) => Some(row.try_get::<String, _>("state")?),
            None => None,
        });
        let Some(json) = json else {
            return Ok(None);
        };
        match serde_json::from_str(&json) {
            Ok(conversation) => Ok(Some(conversation)),
            Err(e) => {
                // A row written by a future or broken version: start over rather than fail forever.
                tracing::warn!(chat_id, error = %e, "stored conversation unreadable, starting fresh");
                Ok(Some(Conversation::default()))
            }
        }
    }

    /// Saves a conversation.
    pub async fn save_conversation(
        &mut self,
        chat_id: i64,
        user_id: i64,
        conversation: &Conversation,
        lang: Lang,
        now: i64,
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(conversation).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        with_tx!(self, c => sqlx::query(
            "INSERT INTO conversations (chat_id, user_id, lang, state, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, lang = excluded.lang,
             state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(chat_id)
        .bind(user_id)
        .bind(lang.as_str())
        .bind(json)
        .bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The language a chat last used (for notifications), default Chinese.
    pub async fn chat_lang(&mut self, chat_id: i64) -> Result<Lang, StoreError> {
        let stored: Option<String> = with_tx!(self, c => match sqlx::query("SELECT lang FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(c)
            .await? {
            Some(row) => row.try_get::<Option<String>, _>("lang")?,
            None => None,
        });
        let lang = stored.as_deref().and_then(Lang::parse).unwrap_or_default();
        Ok(lang)
    }

    /// Appends a turn to the record.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_turn(
        &mut self,
        chat_id: i64,
        update_id: Option<i64>,
        event: &str,
        intent: Option<&str>,
        input: Option<&str>,
        state_before: &str,
        state_after: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO turns (chat_id, update_id, event, intent, input, state_before, state_after, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(chat_id)
        .bind(update_id)
        .bind(event)
        .bind(intent)
        .bind(input)
        .bind(state_before)
        .bind(state_after)
        .bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Queues a message; returns its id.
    pub async fn enqueue(
        &mut self,
        chat_id: i64,
        ticket_id: Option<i64>,
        payload: &OutboxPayload,
        priority: Priority,
        now: i64,
    ) -> Result<i64, StoreError> {
        let json =
            serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id: i64 = with_tx!(self, c => sqlx::query(
            "INSERT INTO outbox (chat_id, ticket_id, payload, priority, status, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) RETURNING id",
        )
        .bind(chat_id)
        .bind(ticket_id)
        .bind(json)
        .bind(priority as i64)
        .bind(now)
        .fetch_one(c)
        .await?
        .try_get("id")?);
        Ok(id)
    }

    /// Everything the unbinding flow needs about a merchant number.
    pub async fn merchant_facts(
        &mut self,
        merchant: &MerchantId,
        user_id: i64,
        now: i64,
    ) -> Result<MerchantFacts, StoreError> {
        let id = merchant.as_str();
        let hour_ago = now - HOUR_MS;
        let (merchant_row, otp_row, merchant_sends, user_sends, request_rows) = with_tx!(self, c => {
            let m = sqlx::query("SELECT name, phone, card_mask, bank_name FROM merchants WHERE merchant_id = $1")
                .bind(id).fetch_optional(&mut *c).await?;
            let o = sqlx::query("SELECT code_hash, expires_at, failures, locked_until, last_sent_at FROM otp_state WHERE merchant_id = $1")
                .bind(id).fetch_optional(&mut *c).await?;
            let ms: i64 = sqlx::query("SELECT COUNT(*) AS n FROM otp_sends WHERE merchant_id = $1 AND sent_at > $2")
                .bind(id).bind(hour_ago).fetch_one(&mut *c).await?.try_get("n")?;
            let us: i64 = sqlx::query("SELECT COUNT(*) AS n FROM otp_sends WHERE user_id = $1 AND sent_at > $2")
                .bind(user_id).bind(hour_ago).fetch_one(&mut *c).await?.try_get("n")?;
            let rs = sqlx::query("SELECT reference, status, created_at FROM unbind_requests WHERE merchant_id = $1 ORDER BY created_at DESC LIMIT 20")
                .bind(id).fetch_all(&mut *c).await?;
            let mut requests = Vec::new();
            for r in rs {
                requests.push((r.try_get::<String, _>("reference")?, r.try_get::<String, _>("status")?, r.try_get::<i64, _>("created_at")?));
            }
            let merchant = match m {
                Some(r) => Some((r.try_get::<String, _>("name")?, r.try_get::<String, _>("phone")?, r.try_get::<String, _>("card_mask")?, r.try_get::<String, _>("bank_name")?)),
                None => None,
            };
            let otp = match o {
                Some(r) => Some((r.try_get::<Option<String>, _>("code_hash")?, r.try_get::<Option<i64>, _>("expires_at")?, r.try_get::<i64, _>("failures")?, r.try_get::<Option<i64>, _>("locked_until")?, r.try_get::<Option<i64>, _>("last_sent_at")?)),
                None => None,
            };
            Ok::<_, StoreError>((merchant, otp, ms, us, requests))
        })?;
        let merchant_record = merchant_row.map(|(name, phone, card, bank)| MerchantRecord {
            name,
            phone: Phone::from_trusted(phone),
            card: MaskedCard::from_trusted(card),
            bank,
        });
        let otp = match otp_row {
            Some((code_hash, expires_at, failures, locked_until, last_sent_at)) => OtpFacts {
                code_hash,
                expires_at,
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                locked_until,
                last_sent_at,
                sends_last_hour: u32::try_from(merchant_sends).unwrap_or(u32::MAX),
            },
            None => OtpFacts {
                sends_last_hour: u32::try_from(merchant_sends).unwrap_or(u32::MAX),
                ..OtpFacts::default()
            },
        };
        let requests = request_rows
            .into_iter()
            .filter_map(|(reference, status, created_at)| {
                Some(RequestSummary {
                    reference: Reference::parse(&reference)?,
                    status: RequestStatus::parse(&status)?,
                    created_at,
                })
            })
            .collect();
        Ok(MerchantFacts {
            merchant_id: merchant.clone(),
            merchant: merchant_record,
            otp,
            user_sends_last_hour: u32::try_from(user_sends).unwrap_or(u32::MAX),
            requests,
        })
    }

    /// Applies one of the core's writes.
    pub async fn apply(
        &mut self,
        write: &Write,
        chat_id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        match write {
            Write::OtpIssued {
                merchant,
                code_hash,
                expires_at,
            } => with_tx!(self, c => {
                sqlx::query(
                    "INSERT INTO otp_state (merchant_id, code_hash, expires_at, failures, last_sent_at) VALUES ($1, $2, $3, 0, $4)
                     ON CONFLICT (merchant_id) DO UPDATE SET code_hash = excluded.code_hash,
                     expires_at = excluded.expires_at, last_sent_at = excluded.last_sent_at",
                )
                .bind(merchant.as_str()).bind(code_hash).bind(expires_at).bind(now)
                .execute(&mut *c).await?;
                sqlx::query("INSERT INTO otp_sends (merchant_id, user_id, sent_at) VALUES ($1, $2, $3)")
                    .bind(merchant.as_str()).bind(user_id).bind(now)
                    .execute(&mut *c).await?;
                Ok::<_, StoreError>(())
            })?,
            Write::OtpRefunded { merchant } => with_tx!(self, c => {
                sqlx::query("UPDATE otp_state SET code_hash = NULL, expires_at = NULL, last_sent_at = NULL WHERE merchant_id = $1")
                    .bind(merchant.as_str()).execute(&mut *c).await?;
                sqlx::query(
                    "DELETE FROM otp_sends WHERE id = (SELECT MAX(id) FROM otp_sends WHERE merchant_id = $1)",
                )
                .bind(merchant.as_str()).execute(&mut *c).await?;
                Ok::<_, StoreError>(())
            })?,
            Write::OtpFailed { merchant } => with_tx!(self, c => sqlx::query(
                "UPDATE otp_state SET failures = failures + 1 WHERE merchant_id = $1",
            ).bind(merchant.as_str()).execute(c).await.map(|_| ()))?,
            Write::OtpLocked { merchant, until } => with_tx!(self, c => sqlx::query(
                "UPDATE otp_state SET failures = 0, locked_until = $2, code_hash = NULL, expires_at = NULL WHERE merchant_id = $1",
            ).bind(merchant.as_str()).bind(until).execute(c).await.map(|_| ()))?,
            Write::OtpConsumed { merchant } => with_tx!(self, c => sqlx::query(
                "UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL WHERE merchant_id = $1",
            ).bind(merchant.as_str()).execute(c).await.map(|_| ()))?,
            Write::RequestCreated {
                reference,
                merchant,
            } => with_tx!(self, c => sqlx::query(
                "INSERT INTO unbind_requests (reference, merchant_id, chat_id, user_id, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'submitted', $5, $5)",
            ).bind(reference.as_str()).bind(merchant.as_str()).bind(chat_id).bind(user_id).bind(now)
            .execute(c).await.map(|_| ()))?,
            Write::TicketWithdrawn { ticket } => {
                with_tx!(self, c => sqlx::query(
                    "UPDATE tickets SET status = 'withdrawn', closed_at = $2 WHERE id = $1 AND status = 'open'",
                ).bind(ticket).bind(now).execute(c).await.map(|_| ()))?;
            }
            Write::TicketRated { ticket, score } => with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET rating = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(i64::from(*score)).bind(chat_id).execute(c).await.map(|_| ()))?,
            Write::TicketComment { ticket, comment } => with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET comment = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(comment).bind(chat_id).execute(c).await.map(|_| ()))?,
            Write::Audit {
                action,
                merchant,
                detail,
            } => {
                self.audit(
                    &format!("user:{user_id}"),
                    action,
                    merchant.as_ref().map(MerchantId::as_str),
                    Some(chat_id),
                    detail,
                    now,
                )
                .await?
            }
        }
        Ok(())
    }

    /// Appends to the audit trail.
    pub async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        merchant: Option<&str>,
        chat_id: Option<i64>,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO audit (at, actor, action, merchant_id, chat_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now).bind(actor).bind(action).bind(merchant).bind(chat_id).bind(detail)
        .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The open (or claimed) ticket of a chat with its queue position.
    pub async fn open_ticket_of_chat(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<TicketView>, StoreError> {
        let found: Option<(i64, Option<String>)> = with_tx!(self, c => match sqlx::query(
            "SELECT id, assignee_name FROM tickets WHERE chat_id = $1 AND status IN ('open', 'claimed')",
        ).bind(chat_id).fetch_optional(c).await? {
            Some(row) => Some((row.try_get("id")?, row.try_get("assignee_name")?)),
            None => None,
        });
        let Some((id, assignee)) = found else {
            return Ok(None);
        };
        let position = self.queue_position(id).await?;
        Ok(Some(TicketView {
            id,
            assignee,
            position,
        }))
    }

    async fn queue_position(&mut self, ticket: i64) -> Result<u32, StoreError> {
        let n: i64 = with_tx!(self, c => sqlx::query(
            "SELECT COUNT(*) AS n FROM tickets WHERE status = 'open' AND id <= $1",
        ).bind(ticket).fetch_one(c).await?.try_get("n"))?;
        Ok(u32::try_from(n.max(1)).unwrap_or(u32::MAX))
    }

    /// Opens a ticket for a chat (the caller checked none is open).
    #[allow(clippy::too_many_arguments)]
    pub async fn open_ticket(
        &mut self,
        chat_id: i64,
        user_id: i64,
        user_name: &str,
        merchant: Option<&str>,
        lang: Lang,
        reason: TicketReason,
        staff_chat: bool,
        now: i64,
    ) -> Result<TicketOpened, StoreError> {
        let id: i64 = with_tx!(self, c => sqlx::query(
            "INSERT INTO tickets (chat_id, user_id, user_name, merchant_id, lang, reason, status, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
        )
        .bind(chat_id).bind(user_id).bind(user_name).bind(merchant).bind(lang.as_str()).bind(reason.as_str()).bind(now)
        .fetch_one(c).await?.try_get("id")?);
        let position = self.queue_position(id).await?;
        Ok(TicketOpened {
            id,
            position,
            staff_chat,
        })
    }

    /// Tickets opened since `since` (topic-creation guard).
    pub async fn tickets_opened_since(&mut self, since: i64) -> Result<i64, StoreError> {
        Ok(
            with_tx!(self, c => sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE opened_at > $1")
            .bind(since).fetch_one(c).await?.try_get("n"))?,
        )
    }

    /// Appends to a ticket's transcript.
    pub async fn ticket_message(
        &mut self,
        ticket: i64,
        direction: &str,
        author: &str,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.ticket_message_with_id(ticket, direction, author, body, None, now)
            .await
    }

    /// Appends to a ticket's transcript, remembering the merchant's message id.
    pub async fn ticket_message_with_id(
        &mut self,
        ticket: i64,
        direction: &str,
        author: &str,
        body: &str,
        message_id: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO ticket_messages (ticket_id, direction, author, body, message_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
        ).bind(ticket).bind(direction).bind(author).bind(body).bind(message_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The transcript text of a merchant message in a ticket (its first version).
    pub async fn ticket_message_body(
        &mut self,
        ticket: i64,
        message_id: i64,
    ) -> Result<Option<String>, StoreError> {
        with_tx!(self, c => match sqlx::query(
            "SELECT body FROM ticket_messages WHERE ticket_id = $1 AND message_id = $2 AND direction = 'in' ORDER BY id LIMIT 1",
        ).bind(ticket).bind(message_id).fetch_optional(c).await? {
            Some(row) => Ok(Some(row.try_get::<String, _>("body")?)),
            None => Ok(None),
        })
    }

    /// The last `limit` turns' inputs of a chat, oldest first (already redacted).
    pub async fn recent_inputs(
        &mut self,
        chat_id: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut inputs: Vec<String> = with_tx!(self, c => sqlx::query(
            "SELECT input FROM turns WHERE chat_id = $1 AND input IS NOT NULL ORDER BY id DESC LIMIT $2",
        ).bind(chat_id).bind(limit).fetch_all(c).await?
            .into_iter()
            .filter_map(|r| r.try_get::<Option<String>, _>("input").ok().flatten())
            .collect());
        inputs.reverse();
        Ok(inputs)
    }

    /// The newest request of a merchant: reference and status.
    pub async fn latest_request(
        &mut self,
        merchant: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        with_tx!(self, c => match sqlx::query(
            "SELECT reference, status FROM unbind_requests WHERE merchant_id = $1 ORDER BY created_at DESC LIMIT 1",
        ).bind(merchant).fetch_optional(c).await? {
            Some(r) => Ok(Some((r.try_get("reference")?, r.try_get("status")?))),
            None => Ok(None),
        })
    }

    /// Loads a full ticket row.
    pub async fn ticket(&mut self, id: i64) -> Result<Option<super::TicketRow>, StoreError> {
        with_tx!(self, c => sqlx::query(super::records::TICKET_SELECT_BY_ID).bind(id).fetch_optional(c).await?
            .map(|r| super::records::ticket_from_row(&r)).transpose())
    }

    /// Marks a ticket claimed.
    pub async fn claim_ticket(
        &mut self,
        id: i64,
        agent_id: i64,
        agent_name: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'claimed', assignee_id = $2, assignee_name = $3, claimed_at = $4 WHERE id = $1 AND status = 'open'",
        ).bind(id).bind(agent_id).bind(agent_name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks a ticket closed.
    pub async fn close_ticket(&mut self, id: i64, now: i64) -> Result<bool, StoreError> {
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'closed', closed_at = $2 WHERE id = $1 AND status IN ('open', 'claimed')",
        ).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Loads a request for a status change, with its chat.
    pub async fn request_for_update(
        &mut self,
        reference: &str,
    ) -> Result<Option<super::RequestRow>, StoreError> {
        with_tx!(self, c => sqlx::query(super::records::REQUEST_SELECT_BY_REF).bind(reference).fetch_optional(c).await?
            .map(|r| super::records::request_from_row(&r)).transpose())
    }

    /// Sets a request's status.
    pub async fn set_request_status(
        &mut self,
        reference: &str,
        status: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "UPDATE unbind_requests SET status = $2, reason = $3, updated_at = $4 WHERE reference = $1",
        ).bind(reference).bind(status).bind(reason).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
