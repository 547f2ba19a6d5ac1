//! A small fake Telegram Bot API on 127.0.0.1: serves queued updates to
//! getUpdates, records every call, answers Telegram-shaped JSON, and can be
//! told to fail (429, 500, blocked, deleted topics).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The bot's own user id in the fake.
pub const BOT_ID: i64 = 999_000;

/// One recorded Bot API call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method name as called (`sendMessage`, …).
    pub method: String,
    /// The JSON body.
    pub body: Value,
    /// The message id we returned, for sends.
    pub message_id: Option<i64>,
}

impl Call {
    /// Destination chat.
    pub fn chat_id(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }
    /// Text of a sendMessage, tags stripped.
    pub fn text(&self) -> String {
        posdesk::i18n::strip_html(self.body.get("text").and_then(Value::as_str).unwrap_or(""))
    }
    /// Raw HTML text.
    pub fn html(&self) -> String {
        self.body
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
    /// Callback data of the inline buttons, row-major.
    pub fn buttons(&self) -> Vec<String> {
        self.body
            .pointer("/reply_markup/inline_keyboard")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .filter_map(|b| {
                        b.get("callback_data")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Forum topic of the call.
    pub fn thread_id(&self) -> Option<i64> {
        self.body.get("message_thread_id").and_then(Value::as_i64)
    }
}

/// What to do with the next calls.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every n-th send answers 429 with retry_after 1 (0 = never).
    pub every_nth_429: u64,
    /// Every n-th send answers 500 (0 = never).
    pub every_nth_500: u64,
    /// Chats that blocked the bot (403).
    pub blocked: BTreeSet<i64>,
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    calls: Vec<Call>,
    next_message_id: i64,
    next_thread_id: i64,
    live_threads: BTreeSet<i64>,
    faults: Faults,
    send_counter: u64,
    messages: BTreeMap<(i64, i64), Value>,
}

/// Handle to the running fake.
#[derive(Clone)]
pub struct FakeBotApi {
    /// Base URL to give teloxide.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    updates_ready: Arc<Notify>,
    call_made: Arc<Notify>,
}

#[derive(Clone)]
struct AppState {
    inner: Arc<Mutex<Inner>>,
    updates_ready: Arc<Notify>,
    call_made: Arc<Notify>,
}

fn ok(result: Value) -> axum::response::Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn fail(code: u16, description: &str, retry_after: Option<u64>) -> axum::response::Response {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(s) = retry_after {
        body["parameters"] = json!({ "retry_after": s });
    }
    let status =
        axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (status, axum::Json(body)).into_response()
}

/// A private chat object.
pub fn private_chat(id: i64) -> Value {
    json!({ "id": id, "type": "private", "first_name": format!("Merchant{id}") })
}

/// A forum supergroup chat object.
pub fn staff_chat(id: i64) -> Value {
    json!({ "id": id, "type": "supergroup", "title": "Support staff", "is_forum": true })
}

fn chat_for(id: i64) -> Value {
    if id < 0 {
        staff_chat(id)
    } else {
        private_chat(id)
    }
}

/// A user object.
pub fn user(id: i64, lang: &str) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": format!("User{id}"), "language_code": lang })
}

async fn handle(
    State(state): State<AppState>,
    Path((_token, method)): Path<(String, String)>,
    body: Bytes,
) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // teloxide writes method names capitalised (SendMessage); Telegram's docs
    // write them lowerCamel. Record the docs' spelling.
    let method = {
        let mut chars = method.chars();
        match chars.next() {
            Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
            None => method,
        }
    };
    if method.eq_ignore_ascii_case("getUpdates") {
        let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
        for _ in 0..2 {
            let ready = {
                let Ok(mut inner) = state.inner.lock() else {
                    return fail(500, "poisoned", None);
                };
                while inner
                    .updates
                    .front()
                    .and_then(|u| u["update_id"].as_i64())
                    .is_some_and(|id| id < offset)
                {
                    inner.updates.pop_front();
                }
                inner.updates.iter().take(100).cloned().collect::<Vec<_>>()
            };
            if !ready.is_empty() {
                return ok(Value::Array(ready));
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(250), state.updates_ready.notified())
                    .await;
        }
        return ok(json!([]));
    }
    let response = {
        let Ok(mut inner) = state.inner.lock() else {
            return fail(500, "poisoned", None);
        };
        respond(&mut inner, &method, body)
    };
    state.call_made.notify_waiters();
    response
}

fn respond(inner: &mut Inner, method: &str, body: Value) -> axum::response::Response {
    let lower = method.to_ascii_lowercase();
    let is_send = matches!(lower.as_str(), "sendmessage" | "copymessage");
    let chat_id = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    if is_send {
        inner.send_counter += 1;
        let n = inner.send_counter;
        let f = inner.faults.clone();
        if f.blocked.contains(&chat_id) {
            inner.calls.push(Call {
                method: format!("{method}!403"),
                body,
                message_id: None,
            });
            return fail(403, "Forbidden: bot was blocked by the user", None);
        }
        if f.every_nth_429 > 0 && n.is_multiple_of(f.every_nth_429) {
            inner.calls.push(Call {
                method: format!("{method}!429"),
                body,
                message_id: None,
            });
            return fail(429, "Too Many Requests: retry after 1", Some(1));
        }
        if f.every_nth_500 > 0 && n.is_multiple_of(f.every_nth_500) {
            inner.calls.push(Call {
                method: format!("{method}!500"),
                body,
                message_id: None,
            });
            return fail(500, "Internal Server Error", None);
        }
        if let Some(thread) = body.get("message_thread_id").and_then(Value::as_i64)
            && chat_id < 0
            && !inner.live_threads.contains(&thread)
        {
            inner.calls.push(Call {
                method: format!("{method}!400"),
                body,
                message_id: None,
            });
            return fail(400, "Bad Request: message thread not found", None);
        }
    }
    match lower.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "posdesk", "username": "posdesk_test_bot",
            "can_join_groups": true, "can_read_all_group_messages": true, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false
        })),
        "sendmessage" | "copymessage" => {
            inner.next_message_id += 1;
            let id = inner.next_message_id + 5000;
            let mut message = json!({
                "message_id": id, "date": 1_700_000_000, "chat": chat_for(chat_id),
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "posdesk" },
            });
            if let Some(text) = body.get("text") {
                message["text"] = text.clone();
            }
            if let Some(thread) = body.get("message_thread_id") {
                message["message_thread_id"] = thread.clone();
                message["is_topic_message"] = json!(true);
            }
            inner.messages.insert((chat_id, id), message.clone());
            inner.calls.push(Call {
                method: method.to_string(),
                body,
                message_id: Some(id),
            });
            if lower == "copymessage" {
                ok(json!({ "message_id": id }))
            } else {
                ok(message)
            }
        }
        "createforumtopic" => {
            inner.next_thread_id += 1;
            let thread = inner.next_thread_id + 100;
            inner.live_threads.insert(thread);
            let name = body.get("name").cloned().unwrap_or(json!(""));
            inner.calls.push(Call {
                method: method.to_string(),
                body,
                message_id: Some(thread),
            });
            ok(json!({ "message_thread_id": thread, "name": name, "icon_color": 7_322_096 }))
        }
        "editmessagetext" | "editmessagecaption" => {
            let id = body.get("message_id").and_then(Value::as_i64).unwrap_or(0);
            let mut message = inner
                .messages
                .get(&(chat_id, id))
                .cloned()
                .unwrap_or_else(|| {
                    json!({
                        "message_id": id, "date": 1_700_000_000, "chat": chat_for(chat_id),
                        "from": { "id": BOT_ID, "is_bot": true, "first_name": "posdesk" },
                    })
                });
            if let Some(text) = body.get("text") {
                message["text"] = text.clone();
            }
            if let Some(caption) = body.get("caption") {
                message["caption"] = caption.clone();
            }
            inner.messages.insert((chat_id, id), message.clone());
            inner.calls.push(Call {
                method: method.to_string(),
                body,
                message_id: Some(id),
            });
            ok(message)
        }
        "getwebhookinfo" => {
            ok(json!({ "url": "", "has_custom_certificate": false, "pending_update_count": 0 }))
        }
        "getchat" => ok(json!({
            "id": chat_id, "type": "supergroup", "title": "Support staff", "is_forum": true,
            "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
                "unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false, "premium_subscription": false
            }
        })),
        _ => {
            inner.calls.push(Call {
                method: method.to_string(),
                body,
                message_id: None,
            });
            ok(json!(true))
        }
    }
}

impl FakeBotApi {
    /// Starts the fake on a free port.
    pub async fn start() -> FakeBotApi {
        let inner = Arc::new(Mutex::new(Inner {
            next_update_id: 1,
            ..Inner::default()
        }));
        let updates_ready = Arc::new(Notify::new());
        let call_made = Arc::new(Notify::new());
        let state = AppState {
            inner: inner.clone(),
            updates_ready: updates_ready.clone(),
            call_made: call_made.clone(),
        };
        let app = Router::new()
            .route("/{token}/{method}", post(handle))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Bot API");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeBotApi {
            url: format!("http://{addr}"),
            inner,
            updates_ready,
            call_made,
        }
    }

    fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.inner.lock().expect("lock");
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update["update_id"] = json!(id);
            inner.updates.push_back(update);
            id
        };
        self.updates_ready.notify_waiters();
        id
    }

    /// Re-queues an update that was already delivered (as Telegram retries do).
    pub fn redeliver(&self, update: Value) {
        self.inner.lock().expect("lock").updates.push_back(update);
        self.updates_ready.notify_waiters();
    }

    fn next_incoming_id(&self) -> i64 {
        let mut inner = self.inner.lock().expect("lock");
        inner.next_message_id += 1;
        inner.next_message_id
    }

    /// A merchant writes text in their private chat; returns the message id.
    pub fn merchant_text(&self, user_id: i64, lang: &str, text: &str) -> i64 {
        let id = self.next_incoming_id();
        self.push_update(json!({ "message": {
            "message_id": id, "date": 1_700_000_000, "chat": private_chat(user_id),
            "from": user(user_id, lang), "text": text,
        }}));
        id
    }

    /// The update JSON a merchant text would produce (for duplicate tests).
    pub fn merchant_text_update(&self, user_id: i64, lang: &str, text: &str) -> Value {
        let id = self.next_incoming_id();
        let update_id = {
            let mut inner = self.inner.lock().expect("lock");
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            id
        };
        json!({ "update_id": update_id, "message": {
            "message_id": id, "date": 1_700_000_000, "chat": private_chat(user_id),
            "from": user(user_id, lang), "text": text,
        }})
    }

    /// A merchant sends a photo.
    pub fn merchant_photo(&self, user_id: i64, lang: &str) -> i64 {
        let id = self.next_incoming_id();
        self.push_update(json!({ "message": {
            "message_id": id, "date": 1_700_000_000, "chat": private_chat(user_id),
            "from": user(user_id, lang),
            "photo": [{ "file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 1000 }],
        }}));
        id
    }

    /// A merchant sends a sticker.
    pub fn merchant_sticker(&self, user_id: i64, lang: &str) -> i64 {
        let id = self.next_incoming_id();
        self.push_update(json!({ "message": {
            "message_id": id, "date": 1_700_000_000, "chat": private_chat(user_id),
            "from": user(user_id, lang),
            "sticker": { "file_id": "s1", "file_unique_id": "su1", "type": "regular", "width": 512, "height": 512,
                         "is_animated": false, "is_video": false },
        }}));
        id
    }

    /// A merchant edits an earlier message.
    pub fn merchant_edit(&self, user_id: i64, lang: &str, message_id: i64, text: &str) {
        self.push_update(json!({ "edited_message": {
            "message_id": message_id, "date": 1_700_000_000, "edit_date": 1_700_000_100, "chat": private_chat(user_id),
            "from": user(user_id, lang), "text": text,
        }}));
    }

    /// A merchant presses an inline button on a bot message.
    pub fn merchant_press(&self, user_id: i64, lang: &str, message_id: i64, data: &str) {
        let id = format!("cb{}", self.next_incoming_id());
        self.push_update(json!({ "callback_query": {
            "id": id, "from": user(user_id, lang), "chat_instance": "ci", "data": data,
            "message": { "message_id": message_id, "date": 1_700_000_000, "chat": private_chat(user_id),
                         "from": { "id": BOT_ID, "is_bot": true, "first_name": "posdesk" }, "text": "…" },
        }}));
    }

    /// A staff member writes in the staff group, in a topic if `thread` is given.
    pub fn staff_text(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: Option<i64>,
        text: &str,
    ) -> i64 {
        let id = self.next_incoming_id();
        let mut message = json!({
            "message_id": id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
            "from": user(user_id, "zh-hans"), "text": text,
        });
        if let Some(thread) = thread {
            message["message_thread_id"] = json!(thread);
            message["is_topic_message"] = json!(true);
        }
        self.push_update(json!({ "message": message }));
        id
    }

    /// A staff member writes formatted text in a topic (`entities` as Telegram sends them).
    pub fn staff_formatted(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: i64,
        text: &str,
        entities: Value,
    ) -> i64 {
        let id = self.next_incoming_id();
        self.push_update(json!({ "message": {
            "message_id": id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
            "from": user(user_id, "zh-hans"), "text": text, "entities": entities,
            "message_thread_id": thread, "is_topic_message": true,
        }}));
        id
    }

    /// A staff member edits their message `message_id` in a topic.
    pub fn staff_edit(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: i64,
        message_id: i64,
        text: &str,
    ) {
        self.push_update(json!({ "edited_message": {
            "message_id": message_id, "date": 1_700_000_000, "edit_date": 1_700_000_100,
            "chat": staff_chat_json(staff_chat), "from": user(user_id, "zh-hans"), "text": text,
            "message_thread_id": thread, "is_topic_message": true,
        }}));
    }

    /// A staff member sends a photo with a caption in a topic.
    pub fn staff_photo(&self, staff_chat: i64, user_id: i64, thread: i64, caption: &str) -> i64 {
        let id = self.next_incoming_id();
        self.push_update(json!({ "message": {
            "message_id": id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
            "from": user(user_id, "zh-hans"), "caption": caption,
            "photo": [{ "file_id": "p2", "file_unique_id": "u2", "width": 90, "height": 90, "file_size": 1000 }],
            "message_thread_id": thread, "is_topic_message": true,
        }}));
        id
    }

    /// A staff member edits the caption of their photo `message_id` in a
    /// topic (`entities` as Telegram sends them).
    pub fn staff_edit_caption(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: i64,
        message_id: i64,
        caption: &str,
        entities: Value,
    ) {
        self.push_update(json!({ "edited_message": {
            "message_id": message_id, "date": 1_700_000_000, "edit_date": 1_700_000_100,
            "chat": staff_chat_json(staff_chat), "from": user(user_id, "zh-hans"),
            "caption": caption, "caption_entities": entities,
            "photo": [{ "file_id": "p2", "file_unique_id": "u2", "width": 90, "height": 90, "file_size": 1000 }],
            "message_thread_id": thread, "is_topic_message": true,
        }}));
    }

    /// A staff member replies to a message in a ticket's topic, written by
    /// `to_user` (`None`: by the bot).
    pub fn staff_reply(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: i64,
        to: (i64, Option<i64>),
        text: &str,
    ) -> i64 {
        let id = self.next_incoming_id();
        let (to_message, to_user) = to;
        let author = match to_user {
            Some(u) => user(u, "zh-hans"),
            None => json!({ "id": BOT_ID, "is_bot": true, "first_name": "posdesk" }),
        };
        let message = json!({
            "message_id": id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
            "from": user(user_id, "zh-hans"), "text": text,
            "message_thread_id": thread, "is_topic_message": true,
            "reply_to_message": {
                "message_id": to_message, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
                "from": author, "text": "…",
                "message_thread_id": thread, "is_topic_message": true,
            },
        });
        self.push_update(json!({ "message": message }));
        id
    }

    /// A staff member presses a button on a message in a ticket's topic.
    pub fn staff_press_in(
        &self,
        staff_chat: i64,
        user_id: i64,
        thread: i64,
        message_id: i64,
        data: &str,
    ) -> String {
        let id = format!("cb{}", self.next_incoming_id());
        self.push_update(json!({ "callback_query": {
            "id": id, "from": user(user_id, "zh-hans"), "chat_instance": "ci", "data": data,
            "message": { "message_id": message_id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
                         "from": { "id": BOT_ID, "is_bot": true, "first_name": "posdesk" }, "text": "…",
                         "message_thread_id": thread, "is_topic_message": true },
        }}));
        id
    }

    /// Calls of one method, in order.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// A staff member presses a button in the staff group.
    pub fn staff_press(&self, staff_chat: i64, user_id: i64, message_id: i64, data: &str) {
        let id = format!("cb{}", self.next_incoming_id());
        self.push_update(json!({ "callback_query": {
            "id": id, "from": user(user_id, "zh-hans"), "chat_instance": "ci", "data": data,
            "message": { "message_id": message_id, "date": 1_700_000_000, "chat": staff_chat_json(staff_chat),
                         "from": { "id": BOT_ID, "is_bot": true, "first_name": "posdesk" }, "text": "…" },
        }}));
    }

    /// Sets the fault plan.
    pub fn set_faults(&self, faults: Faults) {
        self.inner.lock().expect("lock").faults = faults;
    }

    /// A forum topic made by hand (e.g. the requests topic).
    pub fn add_topic(&self, thread: i64) {
        self.inner.lock().expect("lock").live_threads.insert(thread);
    }

    /// Deletes a forum topic (sends to it now fail with "thread not found").
    pub fn delete_topic(&self, thread: i64) {
        self.inner
            .lock()
            .expect("lock")
            .live_threads
            .remove(&thread);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().expect("lock").calls.clone()
    }

    /// Successful sends (sendMessage, copyMessage) to a chat, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| {
                matches!(c.method.as_str(), "sendMessage" | "copyMessage")
                    && c.chat_id() == Some(chat_id)
            })
            .collect()
    }

    /// Waits until `pred` holds for the calls, or panics after `secs`.
    pub async fn wait_until<F>(&self, secs: u64, what: &str, pred: F) -> Vec<Call>
    where
        F: Fn(&[Call]) -> bool,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let notified = self.call_made.notified();
            let calls = self.calls();
            if pred(&calls) {
                return calls;
            }
            if tokio::time::Instant::now() > deadline {
                let summary: Vec<String> = calls
                    .iter()
                    .map(|c| {
                        format!(
                            "{} chat={:?} thread={:?} text={:?} buttons={:?}",
                            c.method,
                            c.chat_id(),
                            c.thread_id(),
                            c.text(),
                            c.buttons()
                        )
                    })
                    .collect();
                panic!(
                    "timed out waiting for {what}; calls so far:\n{}",
                    summary.join("\n")
                );
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// Waits for the `n`-th (1-based) successful send to `chat_id` and returns it.
    pub async fn nth_sent_to(&self, chat_id: i64, n: usize) -> Call {
        let calls = self
            .wait_until(10, &format!("message #{n} to chat {chat_id}"), |calls| {
                calls
                    .iter()
                    .filter(|c| {
                        matches!(c.method.as_str(), "sendMessage" | "copyMessage")
                            && c.chat_id() == Some(chat_id)
                    })
                    .count()
                    >= n
            })
            .await;
        calls
            .into_iter()
            .filter(|c| {
                matches!(c.method.as_str(), "sendMessage" | "copyMessage")
                    && c.chat_id() == Some(chat_id)
            })
            .nth(n - 1)
            .expect("counted above")
    }
}

fn staff_chat_json(id: i64) -> Value {
    staff_chat(id)
}
