//! Staff-group updates to the engine's staff input: buttons, commands and
//! messages in ticket topics. The ticket core decides; this only routes
//! and answers the button press.

use teloxide::prelude::*;

use crate::engine::{Engine, StaffInput as Input, StaffRequest};
use crate::tickets::{StaffCallback, StaffCommand};

use super::update::StaffInput;

/// Handles one staff-group input, once per update id. `false` when the
/// database failed: the update is kept and tried again (after the chat's
/// earlier updates, before its later ones), and staff see no toast yet.
pub async fn handle(bot: &Bot, engine: &Engine, input: StaffInput) -> bool {
    let request = |what: Input| StaffRequest {
        update: Some(input.update_id),
        actor: input.user.clone(),
        thread: input.thread_id,
        reply_to: input.reply_to.clone(),
        input: what,
    };
    if let Some((id, data)) = &input.callback {
        let reply = engine
            .staff(request(Input::Button(StaffCallback::parse(data))))
            .await;
        let applied = reply.is_ok();
        let mut answer = bot.answer_callback_query(id.clone());
        match reply {
            Ok(reply) => {
                if let Some(text) = reply.toast.filter(|t| !t.is_empty()) {
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
    let message_id = input.message_id.unwrap_or_default();
    let what = match StaffCommand::parse(&text) {
        _ if input.edited => Input::Edited {
            message_id,
            text,
            html: input.html.clone(),
            media: input.has_media,
        },
        Some(command) if !input.has_media => Input::Command(command),
        _ => Input::Message {
            message_id,
            text,
            html: input.html.clone(),
            media: input.has_media,
        },
    };
    match engine.staff(request(what)).await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "staff message failed; kept and tried again");
            false
        }
    }
}
