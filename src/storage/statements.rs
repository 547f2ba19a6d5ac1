//! A transaction's statements of their own, each one SQL text with bound
//! values: tickets, transcripts, staff prompts, request status, code
//! deliveries. Each runs after the transaction's held writes (so it sees
//! them) and drops the merchant facts read so far (it may change them).

use std::borrow::Cow;

use sqlx::Row;

use crate::conversation::{Conversation, TicketOpened, TicketReason, TicketView, Write};
use crate::domain::{Lang, MerchantId};

use super::StoreError;
use super::tx::{Tx, TxConn, released};

/// Runs `$body` with `$c` bound to the transaction's connection, after
/// `Tx::before_statement`.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {{
        $tx.before_statement().await?;
        match &mut $tx.conn {
            TxConn::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            TxConn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
            TxConn::Released => return Err(released()),
        }
    }};
}

impl Tx {
    /// A text people typed as the backend can store it: PostgreSQL's text
    /// cannot hold U+0000, which becomes U+FFFD there (as in the write path,
    /// `batch::without_nul`); SQLite keeps it.
    fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        match self.conn {
            TxConn::Postgres(_) if s.contains('\0') => Cow::Owned(s.replace('\0', "\u{FFFD}")),
            _ => Cow::Borrowed(s),
        }
    }

    /// The core's writes that are statements of their own.
    pub(super) async fn apply_at_once(
        &mut self,
        write: &Write,
        chat_id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        match write {
            Write::TicketWithdrawn { ticket } => {
                with_tx!(self, c => sqlx::query(
                    "UPDATE tickets SET status = 'withdrawn', closed_at = $2 WHERE id = $1 AND status = 'open'",
                ).bind(ticket).bind(now).execute(c).await.map(|_| ()))?;
            }
            Write::TicketRated { ticket, score } => with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET rating = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(i64::from(*score)).bind(chat_id).execute(c).await.map(|_| ()))?,
            Write::TicketComment { ticket, comment } => {
                let comment = self.text(comment);
                with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET comment = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(comment.as_ref()).bind(chat_id).execute(c).await.map(|_| ()))?
            }
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
            // Held rows (`Tx::apply`).
            Write::OtpIssued { .. }
            | Write::OtpRefunded { .. }
            | Write::OtpFailed { .. }
            | Write::OtpLocked { .. }
            | Write::OtpConsumed { .. }
            | Write::RequestCreated { .. } => {}
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
        if let Some((conversation, _)) = self.saved_conversation(chat_id) {
            return Ok(Some(conversation));
        }
        with_tx!(self, c => match sqlx::query("SELECT state FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(c)
            .await? {
            Some(row) => Ok(Some(super::tx::decode_conversation(chat_id, &row.try_get::<String, _>("state")?))),
            None => Ok(None),
        })
    }

    /// The language a chat last used (for notifications), default Chinese.
    pub async fn chat_lang(&mut self, chat_id: i64) -> Result<Lang, StoreError> {
        if let Some((_, lang)) = self.saved_conversation(chat_id) {
            return Ok(lang);
        }
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

    pub(super) async fn queue_position(&mut self, ticket: i64) -> Result<u32, StoreError> {
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
        let (user_name, merchant) = (self.text(user_name), merchant.map(|m| self.text(m)));
        let id: i64 = with_tx!(self, c => sqlx::query(
            "INSERT INTO tickets (chat_id, user_id, user_name, merchant_id, lang, reason, status, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
        )
        .bind(chat_id).bind(user_id).bind(user_name.as_ref()).bind(merchant.as_deref()).bind(lang.as_str()).bind(reason.as_str()).bind(now)
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
        let (author, body) = (self.text(author), self.text(body));
        with_tx!(self, c => sqlx::query(
            "INSERT INTO ticket_messages (ticket_id, direction, author, body, message_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
        ).bind(ticket).bind(direction).bind(author.as_ref()).bind(body.as_ref()).bind(message_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
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
        // Turns of this transaction not written yet come last.
        inputs.extend(self.unwritten_inputs(chat_id));
        let keep = usize::try_from(limit).unwrap_or(0);
        if inputs.len() > keep {
            inputs.drain(..inputs.len() - keep);
        }
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
        let agent_name = self.text(agent_name);
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'claimed', assignee_id = $2, assignee_name = $3, claimed_at = $4 WHERE id = $1 AND status = 'open'",
        ).bind(id).bind(agent_id).bind(agent_name.as_ref()).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks a ticket closed.
    pub async fn close_ticket(&mut self, id: i64, now: i64) -> Result<bool, StoreError> {
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'closed', closed_at = $2 WHERE id = $1 AND status IN ('open', 'claimed')",
        ).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The newest ticket of a staff forum topic.
    pub async fn ticket_by_thread(
        &mut self,
        thread_id: i64,
    ) -> Result<Option<super::TicketRow>, StoreError> {
        let id: Option<i64> = with_tx!(self, c => match sqlx::query(
            "SELECT id FROM tickets WHERE thread_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(thread_id).fetch_optional(c).await? {
            Some(row) => Some(row.try_get("id")?),
            None => None,
        });
        match id {
            Some(id) => self.ticket(id).await,
            None => Ok(None),
        }
    }

    /// Saves what a staff action changed of a ticket: status, owner, and
    /// the times of the claim and the close.
    pub async fn save_ticket(
        &mut self,
        ticket: &crate::tickets::Ticket,
        now: i64,
    ) -> Result<(), StoreError> {
        let (agent_id, agent_name) = match &ticket.assignee {
            Some(agent) => (Some(agent.id), Some(agent.name.as_str())),
            None => (None, None),
        };
        let claimed = ticket.assignee.is_some();
        with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = $2, assignee_id = $3, assignee_name = $4,
             claimed_at = CASE WHEN $5 THEN COALESCE(claimed_at, $6) ELSE claimed_at END,
             closed_at = $7 WHERE id = $1",
        ).bind(ticket.id).bind(ticket.status.as_str()).bind(agent_id).bind(agent_name)
        .bind(claimed).bind(now).bind(ticket.closed_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest ticket of a chat, whatever its status.
    pub async fn last_ticket_of_chat(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<super::TicketRow>, StoreError> {
        let id: Option<i64> = with_tx!(self, c => match sqlx::query(
            "SELECT id FROM tickets WHERE chat_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(chat_id).fetch_optional(c).await? {
            Some(row) => Some(row.try_get("id")?),
            None => None,
        });
        match id {
            Some(id) => self.ticket(id).await,
            None => Ok(None),
        }
    }

    /// Links a new ticket to the chat's previous one.
    pub async fn link_previous_ticket(&mut self, id: i64) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET previous_ticket_id =
               (SELECT MAX(p.id) FROM tickets p WHERE p.chat_id = tickets.chat_id AND p.id < tickets.id)
             WHERE id = $1",
        ).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether a chat has an active ticket other than `except`.
    pub async fn other_active_ticket(
        &mut self,
        chat_id: i64,
        except: i64,
    ) -> Result<bool, StoreError> {
        with_tx!(self, c => Ok(sqlx::query(
            "SELECT 1 AS x FROM tickets WHERE chat_id = $1 AND id <> $2 AND status IN ('open', 'claimed') LIMIT 1",
        ).bind(chat_id).bind(except).fetch_optional(c).await?.is_some()))
    }

    /// Earlier tickets of a chat (before `before`), newest first: id, status, topic.
    pub async fn earlier_tickets(
        &mut self,
        chat_id: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<i64>)>, StoreError> {
        with_tx!(self, c => {
            let rows = sqlx::query(
                "SELECT id, status, thread_id FROM tickets WHERE chat_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            ).bind(chat_id).bind(before).bind(limit).fetch_all(c).await?;
            rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("status")?, r.try_get("thread_id")?))).collect()
        })
    }

    /// Lifts a merchant's code-entry lock and forgets the wrong entries.
    pub async fn unlock_codes(&mut self, merchant: &str) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "UPDATE otp_state SET failures = 0, locked_until = NULL WHERE merchant_id = $1",
        ).bind(merchant).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Remembers that an agent's next reply is the reason for rejecting a request.
    pub async fn await_reason(
        &mut self,
        agent_id: i64,
        reference: &str,
        ticket: Option<i64>,
        until: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO staff_prompts (agent_id, reference, ticket_id, until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (agent_id) DO UPDATE SET reference = excluded.reference, ticket_id = excluded.ticket_id, until = excluded.until",
        ).bind(agent_id).bind(reference).bind(ticket).bind(until).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes an agent's pending rejection (if not expired): reference and ticket.
    pub async fn take_reason(
        &mut self,
        agent_id: i64,
        now: i64,
    ) -> Result<Option<(String, Option<i64>)>, StoreError> {
        let found: Option<(String, Option<i64>, i64)> = with_tx!(self, c => match sqlx::query(
            "SELECT reference, ticket_id, until FROM staff_prompts WHERE agent_id = $1",
        ).bind(agent_id).fetch_optional(c).await? {
            Some(r) => Some((r.try_get("reference")?, r.try_get("ticket_id")?, r.try_get("until")?)),
            None => None,
        });
        let Some((reference, ticket, until)) = found else {
            return Ok(None);
        };
        with_tx!(self, c => sqlx::query("DELETE FROM staff_prompts WHERE agent_id = $1")
            .bind(agent_id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok((until > now).then_some((reference, ticket)))
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
        let reason = reason.map(|r| self.text(r));
        with_tx!(self, c => sqlx::query(
            "UPDATE unbind_requests SET status = $2, reason = $3, updated_at = $4 WHERE reference = $1",
        ).bind(reference).bind(status).bind(reason.as_deref()).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A one-time code between the commit that issued it and the gateway's
/// answer (`otp_pending`; the code itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    /// The merchant the code is for.
    pub merchant_id: String,
    /// When it was issued (Unix ms); with the merchant, its key.
    pub issued_at: i64,
    /// The chat that asked for it.
    pub chat_id: i64,
    /// The Telegram user who asked for it.
    pub user_id: i64,
}
