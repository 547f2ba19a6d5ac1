//! Staff-group updates: buttons, `/claim`, `/close`, `/tickets`, and replies
//! in ticket topics.

use teloxide::prelude::*;

use crate::conversation::{CallbackData, Command};
use crate::engine::Engine;
use crate::staffdesk::StaffMessage;

use super::update::StaffInput;

/// Handles one staff-group input, once per update id. `false` when the
/// database failed: the update is kept and tried again (after the chat's
/// earlier updates, before its later ones), and staff see no toast yet.
pub async fn handle(bot: &Bot, engine: &Engine, input: StaffInput) -> bool {
    let update = Some(input.update_id);
    if let Some((id, data)) = input.callback {
        let reply = match data {
            CallbackData::TicketClaim(ticket) => {
                engine.staff_claim(ticket, &input.user, update).await
            }
            CallbackData::TicketClose(ticket) => {
                engine.staff_close(ticket, &input.user, update).await
            }
            _ => Ok(Default::default()),
        };
        let applied = reply.is_ok();
        let mut answer = bot.answer_callback_query(id);
        match reply {
            Ok(reply) => {
                if let Some(text) = reply.toast {
                    answer = answer.text(text);
                }
            }
            Err(e) => tracing::error!(error = %e, "staff action failed"),
        }
        if let Err(e) = answer.await {
            tracing::debug!(error = %e, "answerCallbackQuery failed");
        }
        return applied;
    }
    if input.service {
        return true;
    }
    let text = input.text.clone().unwrap_or_default();
    let result = match (text.trim_start().starts_with('/'), input.thread_id) {
        (true, thread) => {
            let name = text.split_whitespace().next().unwrap_or("");
            let name = name
                .trim_start_matches('/')
                .split('@')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let ticket = match thread {
                Some(t) => engine
                    .store
                    .ticket_by_thread(i64::from(t))
                    .await
                    .ok()
                    .flatten()
                    .map(|t| t.id),
                None => None,
            };
            match (name.as_str(), ticket) {
                ("claim", Some(ticket)) => engine
                    .staff_claim(ticket, &input.user, update)
                    .await
                    .map(|_| ()),
                ("close", Some(ticket)) => engine
                    .staff_close(ticket, &input.user, update)
                    .await
                    .map(|_| ()),
                ("tickets", _) => engine.staff_list(&input.user, thread, update).await,
                _ => {
                    let _ = Command::parse(&text);
                    Ok(())
                }
            }
        }
        (false, Some(_)) => {
            let message = StaffMessage {
                thread_id: input.thread_id,
                message_id: input.message_id.unwrap_or_default(),
                text: input.text.clone(),
                has_media: input.has_media,
            };
            engine.staff_message(&input.user, &message, update).await
        }
        (false, None) => Ok(()),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "staff message failed; kept and tried again");
            false
        }
    }
}
