//! SQLite's batched statements: each takes a whole batch of rows as one
//! JSON array (read with `jsonb_each`, which parses it once and hands each
//! row over already parsed), so its text never changes with the
//! rows and the connection prepares it once and keeps it, instead of
//! parsing a script of literal values afresh for every batch. Rows come
//! back gathered (`json_group_array`): the connection's thread answers with
//! a couple of rows per batch rather than one per row, and each answer is a
//! wake-up of the writer.
//!
//! PostgreSQL keeps the literal scripts of `script.rs`: it cannot prepare
//! several statements as one.

use serde::Serialize;

use super::StoreError;
use super::tx::{Deferred, HeldWrite};
use crate::conversation::Write;

/// The text of a batch of statements (the same for every batch of the same
/// kinds of rows) and its JSON arguments, `$1`, `$2`, … in order.
pub(super) struct JsonBatch {
    pub(super) sql: String,
    pub(super) args: Vec<String>,
}

impl JsonBatch {
    /// An empty batch; `opening` puts `BEGIN IMMEDIATE` first.
    pub(super) fn new(opening: bool) -> JsonBatch {
        JsonBatch {
            sql: if opening {
                String::from("BEGIN IMMEDIATE;\n")
            } else {
                String::new()
            },
            args: Vec::new(),
        }
    }

    /// Appends `statements` (`;`-terminated), in which `$?` stands for the
    /// JSON array of `rows`; nothing when there are no rows.
    pub(super) fn push<T: Serialize>(
        &mut self,
        statements: &str,
        rows: &[T],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.push_always(statements, rows)
    }

    /// `push`, also when there are no rows (the statement answers anyway).
    pub(super) fn push_always<T: Serialize>(
        &mut self,
        statements: &str,
        rows: &[T],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.args.push(json);
        let placeholder = format!("${}", self.args.len());
        self.sql.push_str(&statements.replace("$?", &placeholder));
        self.sql.push('\n');
        Ok(())
    }

    /// Appends statements without arguments (`COMMIT`).
    pub(super) fn push_sql(&mut self, statements: &str) {
        self.sql.push_str(statements);
        self.sql.push('\n');
    }
}

/// Stores updates (`[update_id, chat_id, payload, received_at]`).
pub(super) const STORE_UPDATES: &str = "INSERT INTO inbox (update_id, chat_id, payload, received_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM jsonb_each($?) WHERE true \
     ON CONFLICT (update_id) DO NOTHING;";

/// Marks messages sent (`[id, sent_at]`).
pub(super) const MARK_SENT: &str = "UPDATE outbox SET status = 'sent', sent_at = s.value ->> 1, attempts = attempts + 1 \
     FROM jsonb_each($?) AS s WHERE outbox.id = s.value ->> 0;";

/// A code sent (`[merchant, code_hash, expires_at, user_id, at]`).
pub(super) const OTP_ISSUED: &str = "INSERT INTO otp_state (merchant_id, code_hash, expires_at, failures, last_sent_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, 0, value ->> 4 FROM jsonb_each($?) WHERE true \
     ON CONFLICT (merchant_id) DO UPDATE SET code_hash = excluded.code_hash, \
     expires_at = excluded.expires_at, last_sent_at = excluded.last_sent_at;\n\
     INSERT INTO otp_sends (merchant_id, user_id, sent_at) \
     SELECT value ->> 0, value ->> 3, value ->> 4 FROM jsonb_each($?);";

/// A code that could not be sent does not count (`[merchant]`).
pub(super) const OTP_REFUNDED: &str = "UPDATE otp_state SET code_hash = NULL, expires_at = NULL, last_sent_at = NULL \
     WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($?));\n\
     DELETE FROM otp_sends WHERE id IN (SELECT (SELECT MAX(id) FROM otp_sends WHERE merchant_id = j.value ->> 0) \
     FROM jsonb_each($?) AS j);";

/// A wrong code (`[merchant]`).
pub(super) const OTP_FAILED: &str = "UPDATE otp_state SET failures = failures + 1 \
     WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($?));";

/// Too many wrong codes (`[merchant, until]`).
pub(super) const OTP_LOCKED: &str = "UPDATE otp_state SET failures = 0, locked_until = j.value ->> 1, \
     code_hash = NULL, expires_at = NULL FROM jsonb_each($?) AS j WHERE otp_state.merchant_id = j.value ->> 0;";

/// A code used (`[merchant]`).
pub(super) const OTP_CONSUMED: &str = "UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL \
     WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($?));";

/// Unbinding requests (`[reference, merchant, chat_id, user_id, at]`).
pub(super) const REQUEST_CREATED: &str = "INSERT INTO unbind_requests (reference, merchant_id, chat_id, user_id, status, created_at, updated_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, 'submitted', value ->> 4, value ->> 4 FROM jsonb_each($?);";

/// Conversations (`[chat_id, user_id, lang, state, updated_at]`).
pub(super) const SAVE_CONVERSATIONS: &str = "INSERT INTO conversations (chat_id, user_id, lang, state, updated_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM jsonb_each($?) WHERE true \
     ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, lang = excluded.lang, \
     state = excluded.state, updated_at = excluded.updated_at;";

/// The turn record (`[chat_id, update_id, event, intent, input, state_before, state_after, at]`).
pub(super) const RECORD_TURNS: &str = "INSERT INTO turns (chat_id, update_id, event, intent, input, state_before, state_after, at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7 \
     FROM jsonb_each($?);";

/// The audit trail (`[at, actor, action, merchant, chat_id, detail]`).
pub(super) const AUDIT: &str = "INSERT INTO audit (at, actor, action, merchant_id, chat_id, detail) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM jsonb_each($?);";

/// Applied updates off the inbox (`update_id`).
pub(super) const INBOX_DONE: &str =
    "DELETE FROM inbox WHERE update_id IN (SELECT value FROM jsonb_each($?));";

/// Queued messages (`[chat_id, ticket_id, payload, priority, at]`) and their
/// ids: the newest ones, as many as were queued (ids only grow, and the
/// write lock keeps everyone else out).
pub(super) const ENQUEUE: &str = "INSERT INTO outbox (chat_id, ticket_id, payload, priority, status, attempts, next_attempt_at, created_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, 'pending', 0, value ->> 4, value ->> 4 FROM jsonb_each($?);\n\
     SELECT json_group_array(id) AS queued_ids FROM \
     (SELECT id FROM outbox ORDER BY id DESC LIMIT json_array_length($?));";

/// Merchant facts (`[merchant, user, an hour ago]`): one row per key with
/// the merchant, its code state and both hourly send counts, then each
/// merchant's latest requests (the rows of the literal facts script).
pub(super) const FACTS: &str = "SELECT k.merchant AS key_merchant, CAST(k.user AS BIGINT) AS key_user, \
     m.name, m.phone, m.card_mask, m.bank_name, \
     o.merchant_id AS otp_merchant, o.code_hash, o.expires_at, o.failures, o.locked_until, o.last_sent_at, \
     (SELECT COUNT(*) FROM otp_sends WHERE merchant_id = k.merchant AND sent_at > k.since) AS merchant_sends, \
     (SELECT COUNT(*) FROM otp_sends WHERE user_id = k.user AND sent_at > k.since) AS user_sends \
     FROM (SELECT value ->> 0 AS merchant, value ->> 1 AS user, value ->> 2 AS since FROM jsonb_each($?)) AS k \
     LEFT JOIN merchants m ON m.merchant_id = k.merchant LEFT JOIN otp_state o ON o.merchant_id = k.merchant;\n\
     SELECT merchant_id AS request_merchant, reference, status, created_at FROM (\
     SELECT merchant_id, reference, status, created_at, \
     ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY created_at DESC) AS n \
     FROM unbind_requests WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($?))) AS latest \
     WHERE n <= 20 ORDER BY request_merchant, created_at DESC;";

/// Update ids already applied among those claimed (`[update_id, chat_id,
/// at]`), then the claim itself.
pub(super) const CLAIM_UPDATES: &str = "SELECT json_group_array(update_id) AS already_applied FROM processed_updates \
     WHERE update_id IN (SELECT value ->> 0 FROM jsonb_each($?));\n\
     INSERT INTO processed_updates (update_id, chat_id, processed_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2 FROM jsonb_each($?) WHERE true \
     ON CONFLICT (update_id) DO NOTHING;";

/// Conversations and open (or claimed) tickets of chats (`chat_id`), as one
/// array of `[chat_id, state, ticket_id, assignee_name]`.
pub(super) const LOAD_CHATS: &str = "SELECT json_group_array(json_array(c.chat_id, c.state, t.id, t.assignee_name)) AS chats \
     FROM conversations c LEFT JOIN tickets t ON t.chat_id = c.chat_id AND t.status IN ('open', 'claimed') \
     WHERE c.chat_id IN (SELECT value FROM jsonb_each($?));";

/// The commit of `deferred` as one batch ending in `COMMIT`; `None` when
/// the held-back unbinding writes must keep their order (two of them change
/// the same merchant's code state), which only a literal script keeps.
pub(super) fn commit_batch(
    opening: bool,
    deferred: &Deferred,
) -> Result<Option<JsonBatch>, StoreError> {
    let Some(held) = HeldRows::of(&deferred.writes) else {
        return Ok(None);
    };
    let mut b = JsonBatch::new(opening);
    let stored: Vec<_> = deferred
        .unapplied_stored()
        .map(|(row, at)| (row.update_id, row.chat_id, row.payload.as_str(), *at))
        .collect();
    b.push(STORE_UPDATES, &stored)?;
    b.push(MARK_SENT, &deferred.sent)?;
    b.push(OTP_ISSUED, &held.issued)?;
    b.push(OTP_REFUNDED, &held.refunded)?;
    b.push(OTP_FAILED, &held.failed)?;
    b.push(OTP_LOCKED, &held.locked)?;
    b.push(OTP_CONSUMED, &held.consumed)?;
    b.push(REQUEST_CREATED, &held.requests)?;
    let conversations: Vec<_> = deferred
        .last_conversations()
        .map(|c| (c.chat_id, c.user_id, c.lang, c.state.as_str(), c.updated_at))
        .collect();
    b.push(SAVE_CONVERSATIONS, &conversations)?;
    let turns: Vec<_> = deferred
        .turns
        .iter()
        .map(|t| {
            (
                t.chat_id,
                t.update_id,
                t.event,
                t.intent,
                t.input.as_deref(),
                t.state_before,
                t.state_after,
                t.at,
            )
        })
        .collect();
    b.push(RECORD_TURNS, &turns)?;
    let audit: Vec<_> = deferred
        .audit
        .iter()
        .map(|a| {
            (
                a.at,
                a.actor.as_str(),
                a.action.as_str(),
                a.merchant.as_deref(),
                a.chat_id,
                a.detail.as_str(),
            )
        })
        .collect();
    b.push(AUDIT, &audit)?;
    b.push(INBOX_DONE, &deferred.inbox_done)?;
    let queued: Vec<_> = deferred
        .outbox
        .iter()
        .map(|q| (q.chat_id, q.ticket_id, q.json.as_str(), q.priority, q.at))
        .collect();
    b.push(ENQUEUE, &queued)?;
    b.push_sql("COMMIT;");
    Ok(Some(b))
}

/// The held-back unbinding writes by kind, as JSON rows.
#[derive(Default)]
struct HeldRows<'a> {
    issued: Vec<(&'a str, &'a str, i64, i64, i64)>,
    refunded: Vec<(&'a str,)>,
    failed: Vec<(&'a str,)>,
    locked: Vec<(&'a str, i64)>,
    consumed: Vec<(&'a str,)>,
    requests: Vec<(&'a str, &'a str, i64, i64, i64)>,
}

impl<'a> HeldRows<'a> {
    /// `None` if two writes change the same merchant's code state (their
    /// order would be lost: each kind is one statement).
    fn of(writes: &'a [HeldWrite]) -> Option<HeldRows<'a>> {
        let mut rows = HeldRows::default();
        let mut code_states = std::collections::HashSet::new();
        for held in writes {
            let (at, user) = (held.at, held.user_id);
            let merchant = match &held.write {
                Write::OtpIssued {
                    merchant,
                    code_hash,
                    expires_at,
                } => {
                    rows.issued.push((
                        merchant.as_str(),
                        code_hash.as_str(),
                        *expires_at,
                        user,
                        at,
                    ));
                    merchant
                }
                Write::OtpRefunded { merchant } => {
                    rows.refunded.push((merchant.as_str(),));
                    merchant
                }
                Write::OtpFailed { merchant } => {
                    rows.failed.push((merchant.as_str(),));
                    merchant
                }
                Write::OtpLocked { merchant, until } => {
                    rows.locked.push((merchant.as_str(), *until));
                    merchant
                }
                Write::OtpConsumed { merchant } => {
                    rows.consumed.push((merchant.as_str(),));
                    merchant
                }
                Write::RequestCreated {
                    reference,
                    merchant,
                } => {
                    rows.requests.push((
                        reference.as_str(),
                        merchant.as_str(),
                        held.chat_id,
                        user,
                        at,
                    ));
                    continue;
                }
                Write::TicketWithdrawn { .. }
                | Write::TicketRated { .. }
                | Write::TicketComment { .. }
                | Write::Audit { .. } => continue,
            };
            if !code_states.insert(merchant.as_str()) {
                return None;
            }
        }
        Some(rows)
    }
}

/// Claims update ids (`[update_id, chat_id, at]`) and loads the chats'
/// conversations and tickets: answers `already_applied` and `chats`.
pub(super) fn claim_and_load_batch(
    opening: bool,
    updates: &[(i64, i64)],
    chat_ids: &[i64],
    now: i64,
) -> Result<JsonBatch, StoreError> {
    let mut b = JsonBatch::new(opening);
    let claims: Vec<(i64, i64, i64)> = updates.iter().map(|(u, c)| (*u, *c, now)).collect();
    b.push_always(CLAIM_UPDATES, &claims)?;
    b.push_always(LOAD_CHATS, chat_ids)?;
    Ok(b)
}

/// Reads merchant facts (`[merchant, user, an hour ago]`).
pub(super) fn facts_batch(
    opening: bool,
    keys: &[(&str, i64, i64)],
) -> Result<JsonBatch, StoreError> {
    let mut b = JsonBatch::new(opening);
    b.push_always(FACTS, keys)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pushed_row_set_is_the_next_argument_and_empty_ones_are_left_out() {
        let mut b = JsonBatch::new(true);
        b.push(INBOX_DONE, &[1_i64, 2]).expect("push"); // ok: a test; failing loudly is the point
        b.push(INBOX_DONE, &[] as &[i64]).expect("push nothing"); // ok: a test; failing loudly is the point
        b.push(OTP_ISSUED, &[("M1", "h", 1_i64, 2_i64, 3_i64)])
            .expect("push"); // ok: a test; failing loudly is the point
        b.push_sql("COMMIT;");
        assert!(b.sql.starts_with("BEGIN IMMEDIATE;\n"));
        assert!(b.sql.ends_with("COMMIT;\n"));
        assert_eq!(b.args, vec!["[1,2]", r#"[["M1","h",1,2,3]]"#]);
        assert!(b.sql.contains("jsonb_each($1)"));
        // Both statements of a code send read the same rows.
        assert_eq!(b.sql.matches("jsonb_each($2)").count(), 2);
        assert!(!b.sql.contains("$?") && !b.sql.contains("$3"));
    }

    #[test]
    fn facts_keep_as_many_requests_as_the_literal_script() {
        let limit = format!("n <= {}", super::super::tx::REQUESTS_PER_MERCHANT);
        assert!(FACTS.contains(&limit));
    }
}
