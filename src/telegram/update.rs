//! Telegram updates to engine inputs, in one place. Anything we do not
//! understand becomes an `Unsupported`-style input or is ignored, never an error.

use teloxide::types::{CallbackQueryId, Message, MessageKind, Update, UpdateKind, User};
use teloxide::utils::render::RenderMessageTextHelper;

use crate::conversation::{CallbackData, Event, MediaKind};
use crate::engine::{Inbound, UserInfo};

/// Where an update goes.
pub enum Routed {
    /// A merchant's private chat.
    Merchant {
        /// The engine input.
        inbound: Inbound,
        /// The button press to answer.
        callback_id: Option<CallbackQueryId>,
    },
    /// The staff group.
    Staff(StaffInput),
    /// Nothing for us (other groups, channels, service messages).
    Ignore,
}

/// An input from the staff group.
pub struct StaffInput {
    /// Telegram's update id (a staff action is applied once).
    pub update_id: i64,
    /// The staff member.
    pub user: UserInfo,
    /// Forum topic the message was posted in (only real topic messages).
    pub thread_id: Option<i32>,
    /// The message id (for copying replies).
    pub message_id: Option<i32>,
    /// Text or caption.
    pub text: Option<String>,
    /// The text with its formatting as Telegram HTML (bold, links, code…).
    pub html: Option<String>,
    /// Whether this is an edit of an earlier message.
    pub edited: bool,
    /// A button press (its raw data; staff buttons are parsed by the ticket core).
    pub callback: Option<(CallbackQueryId, String)>,
    /// The author of the message this one replies to (a real reply, not
    /// the topic's first message), and whether that author is a bot.
    pub reply_to: Option<(UserInfo, bool)>,
    /// Whether the message is a service message (topic created, member joined…).
    pub service: bool,
    /// Whether the message carries media.
    pub has_media: bool,
}

fn user_info(user: &User) -> UserInfo {
    let mut name = clean_text(&user.first_name);
    if let Some(last) = &user.last_name {
        name.push(' ');
        name.push_str(&clean_text(last));
    }
    UserInfo {
        id: i64::try_from(user.id.0).unwrap_or(i64::MAX),
        language_code: user.language_code.clone(),
        name,
    }
}

/// Text from Telegram without control characters other than line breaks
/// and tabs: a NUL cannot be stored in PostgreSQL, and none of them means
/// anything to a reader.
pub fn clean_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// Routes one update.
pub fn route(update: &Update, staff_chat: i64) -> Routed {
    let update_id = Some(i64::from(update.id.0));
    match &update.kind {
        UpdateKind::Message(message) => route_message(message, update_id, staff_chat, false),
        UpdateKind::EditedMessage(message) => route_message(message, update_id, staff_chat, true),
        UpdateKind::CallbackQuery(query) => {
            let Some(message) = &query.message else {
                return Routed::Ignore;
            };
            let chat = message.chat();
            let raw = query.data.as_deref().unwrap_or("");
            if staff_chat != 0 && chat.id.0 == staff_chat {
                let thread_id = match message.regular_message() {
                    Some(m) if m.is_topic_message => m.thread_id.map(|t| t.0.0),
                    _ => None,
                };
                return Routed::Staff(StaffInput {
                    update_id: i64::from(update.id.0),
                    user: user_info(&query.from),
                    thread_id,
                    message_id: None,
                    text: None,
                    html: None,
                    edited: false,
                    callback: Some((query.id.clone(), raw.to_string())),
                    reply_to: None,
                    service: false,
                    has_media: false,
                });
            }
            let data = CallbackData::parse(raw);
            if !chat.is_private() {
                return Routed::Ignore;
            }
            Routed::Merchant {
                inbound: Inbound {
                    chat_id: chat.id.0,
                    user: user_info(&query.from),
                    update_id,
                    message_id: Some(message.id().0),
                    event: Event::Callback(data),
                },
                callback_id: Some(query.id.clone()),
            }
        }
        _ => Routed::Ignore,
    }
}

fn route_message(
    message: &Message,
    update_id: Option<i64>,
    staff_chat: i64,
    edited: bool,
) -> Routed {
    let Some(from) = &message.from else {
        return Routed::Ignore;
    };
    if from.is_bot {
        return Routed::Ignore;
    }
    let text = message.text().or(message.caption()).map(clean_text);
    if staff_chat != 0 && message.chat.id.0 == staff_chat {
        let thread_id = message
            .is_topic_message
            .then_some(message.thread_id)
            .flatten()
            .map(|t| t.0.0);
        let reply_to = message
            .reply_to_message()
            .filter(|r| Some(r.id.0) != thread_id)
            .and_then(|r| r.from.as_ref())
            .map(|u| (user_info(u), u.is_bot));
        return Routed::Staff(StaffInput {
            update_id: update_id.unwrap_or_default(),
            user: user_info(from),
            thread_id,
            message_id: Some(message.id.0),
            html: message
                .html_text()
                .or_else(|| message.html_caption())
                .map(|h| clean_text(&h)),
            text,
            edited,
            callback: None,
            reply_to,
            service: !matches!(message.kind, MessageKind::Common(_)),
            has_media: message.text().is_none(),
        });
    }
    if !message.chat.is_private() {
        return Routed::Ignore;
    }
    let event = if edited {
        Event::Edited(text.unwrap_or_default())
    } else if let Some(text) = message.text() {
        Event::typed(&clean_text(text))
    } else if !matches!(message.kind, MessageKind::Common(_)) {
        return Routed::Ignore;
    } else if let Some(caption) = message
        .caption()
        .filter(|c| crate::redact::redact(c).1.secret())
    {
        // A caption holding a card number or a password makes the message
        // a text to the core, which deletes it (media would be relayed).
        Event::Text(clean_text(caption))
    } else {
        Event::Media(media_kind(message))
    };
    Routed::Merchant {
        inbound: Inbound {
            chat_id: message.chat.id.0,
            user: user_info(from),
            update_id,
            message_id: Some(message.id.0),
            event,
        },
        callback_id: None,
    }
}

fn media_kind(message: &Message) -> MediaKind {
    if message.photo().is_some() {
        MediaKind::Photo
    } else if message.document().is_some() {
        MediaKind::Document
    } else if message.voice().is_some() || message.audio().is_some() {
        MediaKind::Voice
    } else if message.video().is_some()
        || message.video_note().is_some()
        || message.animation().is_some()
    {
        MediaKind::Video
    } else if message.sticker().is_some() {
        MediaKind::Sticker
    } else {
        MediaKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_carrying_a_secret_makes_a_text() {
        for (caption, media) in [("卡号 4111 1111 1111 1111", false), ("收据", true)] {
            let json = serde_json::json!({
                "update_id": 1,
                "message": {
                    "message_id": 5, "date": 1_700_000_000,
                    "chat": { "id": 42, "type": "private", "first_name": "A" },
                    "from": { "id": 42, "is_bot": false, "first_name": "A" },
                    "photo": [{ "file_id": "p", "file_unique_id": "u", "width": 9, "height": 9 }],
                    "caption": caption,
                }
            });
            let update: Update = serde_json::from_str(&json.to_string()).expect("an update"); // ok: a test
            let Routed::Merchant { inbound, .. } = route(&update, 0) else {
                panic!("a merchant's message: {caption}"); // ok: a test
            };
            assert_eq!(matches!(inbound.event, Event::Media(_)), media, "{caption}");
        }
    }

    #[test]
    fn a_command_carrying_a_secret_is_a_text() {
        for (text, command) in [
            ("/start 4111 1111 1111 1111", false),
            ("/4111111111111111", false),
            ("/human 密码 Mima#778899", false),
            ("/start", true),
            ("/unbind M100200300", true),
        ] {
            let json = serde_json::json!({
                "update_id": 1,
                "message": {
                    "message_id": 5, "date": 1_700_000_000,
                    "chat": { "id": 42, "type": "private", "first_name": "A" },
                    "from": { "id": 42, "is_bot": false, "first_name": "A" },
                    "text": text,
                }
            });
            let update: Update = serde_json::from_str(&json.to_string()).expect("an update"); // ok: a test
            let Routed::Merchant { inbound, .. } = route(&update, 0) else {
                panic!("a merchant's message: {text}"); // ok: a test
            };
            assert_eq!(
                matches!(inbound.event, Event::Command(_)),
                command,
                "{text}"
            );
        }
    }

    #[test]
    fn control_characters_are_dropped_line_breaks_kept() {
        assert_eq!(clean_text("解\u{0}绑\u{7}\n第二行\tok"), "解绑\n第二行\tok");
    }
}
