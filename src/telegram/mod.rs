//! The only module that imports teloxide: updates become engine inputs,
//! outbox rows become Bot API calls. Long polling through teloxide's
//! dispatcher, which handles one chat's updates in order and different chats
//! in parallel.

pub mod inbox;
mod limiter;
mod merge;
mod send_queue;
mod sender;
mod staff;
mod update;

pub use limiter::RateLimiter;
pub use sender::{PARALLEL_CHATS, Sender};

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{BotCommand, ChatId, MessageId, ParseMode};
use tokio::sync::watch;

use crate::conversation::Msg;
use crate::domain::Lang;
use crate::engine::Engine;
use crate::i18n::strip_html;

/// Builds the Bot API client from the settings (token, API URL).
pub fn make_bot(engine: &Engine) -> Result<Bot, crate::Error> {
    bot_for(&engine.settings.telegram)
}

/// Builds the Bot API client from `[telegram]` alone (for `posdesk check`,
/// which builds no engine).
pub fn bot_for(settings: &crate::config::TelegramSettings) -> Result<Bot, crate::Error> {
    if settings.token.is_empty() {
        return Err(crate::Error::Config(crate::config::ConfigError::Invalid(
            "no bot token: set TELOXIDE_TOKEN (or telegram.token)".into(),
        )));
    }
    let url = settings.api_url.trim_end_matches('/');
    let url = reqwest::Url::parse(url).map_err(|e| {
        crate::Error::Config(crate::config::ConfigError::Invalid(format!(
            "telegram.api_url {url:?} is not a URL: {e}"
        )))
    })?;
    Ok(Bot::new(settings.token.expose()).set_api_url(url))
}

/// Checks the token and the API with getMe; returns the bot's username.
pub async fn get_me(bot: &Bot) -> Result<String, String> {
    match bot.get_me().await {
        Ok(me) => Ok(me.username.clone().unwrap_or_default()),
        Err(e) => Err(e.to_string()),
    }
}

/// Registers the command menu in Chinese (default) and English.
pub async fn register_commands(bot: &Bot, engine: &Engine) {
    for lang in Lang::ALL {
        let commands: Vec<BotCommand> = COMMANDS
            .iter()
            .map(|(name, msg)| {
                BotCommand::new(
                    *name,
                    strip_html(&engine.texts.render(lang, &Msg::new(msg))),
                )
            })
            .collect();
        let request = bot.set_my_commands(commands.clone());
        let result = match lang {
            Lang::ZhCn => {
                // Chinese is also the default for clients in any other language
                // but English.
                let _ = request.clone().language_code("zh").await;
                request.await
            }
            Lang::En => request.language_code("en").await,
        };
        if let Err(e) = result {
            tracing::warn!(lang = lang.as_str(), error = %e, "setMyCommands failed");
        }
    }
}

/// Registers the staff group's own command menu (in the staff language),
/// shown only in that chat.
pub async fn register_staff_commands(bot: &Bot, engine: &Engine) {
    let staff_chat = engine.settings.support.staff_chat_id;
    if staff_chat == 0 {
        return;
    }
    let lang = engine.staff_lang();
    let commands: Vec<BotCommand> = crate::tickets::StaffCommand::MENU
        .iter()
        .map(|(name, msg)| {
            BotCommand::new(
                *name,
                strip_html(&engine.texts.render(lang, &Msg::new(msg))),
            )
        })
        .collect();
    let scope = teloxide::types::BotCommandScope::Chat {
        chat_id: teloxide::types::Recipient::Id(ChatId(staff_chat)),
    };
    if let Err(e) = bot.set_my_commands(commands).scope(scope).await {
        tracing::warn!(error = %e, "setMyCommands for the staff group failed");
    }
}

/// The command menu: name and the message describing it.
pub const COMMANDS: [(&str, &str); 8] = [
    ("start", "cmd-start"),
    ("unbind", "cmd-unbind"),
    ("status", "cmd-status"),
    ("faq", "cmd-faq"),
    ("human", "cmd-human"),
    ("cancel", "cmd-cancel"),
    ("lang", "cmd-lang"),
    ("help", "cmd-help"),
];

/// Runs the bot with long polling until Ctrl-C / SIGTERM.
pub async fn run_polling(engine: Arc<Engine>) -> Result<(), crate::Error> {
    let bot = make_bot(&engine)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        let _ = stop_tx.send(true);
    });
    run_until(engine, bot, stop_rx).await;
    Ok(())
}

/// Runs the bot with long polling until `stop` turns true: stops taking
/// updates, finishes the turns in hand, flushes the outbox, returns.
pub async fn run_until(engine: Arc<Engine>, bot: Bot, stop: watch::Receiver<bool>) {
    register_commands(&bot, &engine).await;
    register_staff_commands(&bot, &engine).await;
    // Codes whose delivery died with an earlier process: with one process,
    // every one left is such a code; with several, only overdue ones.
    let sweep = match inbox::several_replicas(&engine) {
        true => crate::engine::Sweep::Overdue,
        false => crate::engine::Sweep::All,
    };
    if let Err(e) = engine.recover_lost_codes(sweep).await {
        tracing::warn!(error = %e, "checking for codes cut off by a restart failed");
    }
    // The intent model trains while the bot starts; updates are taken once
    // it is ready, so that no merchant waits for it mid-turn.
    let classifier = engine.classifier.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || classifier.wait_trained()).await {
        tracing::warn!(error = %e, "waiting for the intent model failed");
    }
    let (inner_stop_tx, inner_stop_rx) = watch::channel(false);
    let sender = Sender::new(bot.clone(), engine.clone());
    let sender_task = tokio::spawn(sender.run(inner_stop_rx.clone()));
    let cards = tokio::spawn(run_card_refresh(engine.clone(), inner_stop_rx.clone()));
    let timers = tokio::spawn(run_timers(engine.clone(), inner_stop_rx));
    let wake = engine.inbox_signal.clone();
    let parsed = inbox::Parsed::default();
    let poller = if engine.settings.telegram.mode == "webhook" {
        ensure_webhook(&bot, &engine).await;
        tracing::info!("taking updates on the webhook");
        None
    } else {
        tracing::info!("polling for updates");
        Some(tokio::spawn(inbox::poll(
            bot.clone(),
            engine.clone(),
            parsed.clone(),
            stop.clone(),
        )))
    };
    inbox::process(bot.clone(), engine.clone(), wake, parsed, stop).await;
    if let Some(poller) = poller {
        let _ = poller.await;
    }
    let _ = inner_stop_tx.send(true);
    let _ = timers.await;
    let _ = cards.await;
    let _ = sender_task.await;
    tracing::info!("stopped");
}

/// The updates the bot asks Telegram for.
pub fn allowed_updates() -> Vec<teloxide::types::AllowedUpdate> {
    use teloxide::types::AllowedUpdate;
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::CallbackQuery,
    ]
}

/// Registers the webhook (URL, shared secret, allowed updates) unless it is
/// already registered exactly so. Safe to call from every replica; nothing
/// ever deletes it on shutdown.
pub async fn ensure_webhook(bot: &Bot, engine: &Engine) {
    let telegram = &engine.settings.telegram;
    let Ok(url) = reqwest::Url::parse(&telegram.webhook_url) else {
        tracing::error!("telegram.webhook_url is not a URL");
        return;
    };
    if let Ok(info) = bot.get_webhook_info().await
        && info.url.as_ref().map(|u| u.as_str()) == Some(url.as_str())
    {
        return;
    }
    if let Err(e) = set_webhook(bot, engine).await {
        tracing::error!(error = %e, "setWebhook failed");
    }
}

/// Calls setWebhook with the configured URL and secret.
pub async fn set_webhook(bot: &Bot, engine: &Engine) -> Result<(), String> {
    let telegram = &engine.settings.telegram;
    let url = reqwest::Url::parse(&telegram.webhook_url).map_err(|e| e.to_string())?;
    bot.set_webhook(url)
        .secret_token(telegram.webhook_secret.expose().to_string())
        .allowed_updates(allowed_updates())
        .max_connections(40)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Removes the webhook (back to polling).
pub async fn delete_webhook(bot: &Bot) -> Result<(), String> {
    bot.delete_webhook()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// What Telegram says about the webhook: URL, pending updates, last error.
pub async fn webhook_info(bot: &Bot) -> Result<String, String> {
    let info = bot.get_webhook_info().await.map_err(|e| e.to_string())?;
    Ok(format!(
        "url: {}
pending updates: {}
last error: {}",
        info.url
            .map(|u| u.to_string())
            .unwrap_or_else(|| "(none)".into()),
        info.pending_update_count,
        info.last_error_message.unwrap_or_else(|| "(none)".into()),
    ))
}

/// Resolves at SIGTERM or Ctrl-C (logged).
pub async fn wait_for_stop_signal() {
    tokio::select! {
        _ = wait_for_sigterm() => tracing::info!("SIGTERM: finishing the turns in hand"),
        _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: finishing the turns in hand"),
    }
}

async fn wait_for_sigterm() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

/// Edits ticket cards once their merchant's burst of messages is over
/// (`tickets::refresh`): looks when the next one falls due, and at least
/// every half second (a turn may have noted a ticket meanwhile).
pub async fn run_card_refresh(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    if engine.settings.support.staff_chat_id == 0 {
        return;
    }
    let mut wait = Duration::from_millis(500);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = Duration::from_millis(500);
        match engine.refresh_cards().await {
            Ok((_, Some(next))) => {
                let ahead = next - engine.now().timestamp_millis();
                wait = wait.min(Duration::from_millis(ahead.clamp(50, 500) as u64));
            }
            Ok((_, None)) => {}
            Err(e) => tracing::warn!(error = %e, "refreshing ticket cards failed"),
        }
    }
}

/// Periodic work: flow expiry and ticket reminders.
pub async fn run_timers(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = engine.expire_idle_flows().await {
            tracing::warn!(error = %e, "expiring idle flows failed");
        }
        if let Err(e) = engine
            .recover_lost_codes(crate::engine::Sweep::Overdue)
            .await
        {
            tracing::warn!(error = %e, "checking for codes cut off by a crash failed");
        }
        if let Err(e) = engine.remind_unclaimed_tickets().await {
            tracing::warn!(error = %e, "ticket reminders failed");
        }
        // Keep a week of sent messages and applied update ids, then let go.
        let week_ago = engine.now().timestamp_millis() - 7 * 86_400_000;
        if let Err(e) = engine.store.purge_before(week_ago).await {
            tracing::warn!(error = %e, "purging old outbox rows failed");
        }
    }
}

/// Applies one update: merchant turn or staff action, then the button
/// answer and the deletion of a message that held a secret. `false` when the
/// turn could not be applied (the database failed): the caller keeps the
/// update and tries again; the merchant got an apology.
pub async fn handle_update(bot: Bot, update: Update, engine: Arc<Engine>) -> bool {
    let staff_chat = engine.settings.support.staff_chat_id;
    match update::route(&update, staff_chat) {
        update::Routed::Merchant {
            inbound,
            callback_id,
        } => {
            let chat_id = inbound.chat_id;
            let message_id = inbound.message_id;
            let lang = Lang::negotiate(inbound.user.language_code.as_deref());
            match engine.handle(inbound).await {
                Ok(outcome) => {
                    if let Ok(mut set) = APOLOGISED.lock() {
                        set.remove(&chat_id);
                    }
                    if let Some(id) = callback_id {
                        let mut answer = bot.answer_callback_query(id);
                        if let Some(Some(text)) = outcome.toast {
                            answer = answer.text(text);
                        }
                        if let Err(e) = answer.await {
                            tracing::debug!(error = %e, "answerCallbackQuery failed");
                        }
                    }
                    if let (true, Some(message_id)) = (outcome.delete_incoming, message_id)
                        && let Err(e) = bot
                            .delete_message(ChatId(chat_id), MessageId(message_id))
                            .await
                    {
                        tracing::info!(error = %e, "could not delete a message holding a secret");
                    }
                    true
                }
                Err(e) => {
                    tracing::error!(chat_id, error = %e, "turn failed; the update is kept and retried");
                    if let Some(id) = callback_id {
                        let _ = bot.answer_callback_query(id).await;
                    }
                    // One apology per chat per outage, not one per retry.
                    let first = APOLOGISED
                        .lock()
                        .map(|mut set| set.insert(chat_id))
                        .unwrap_or(false);
                    if first {
                        let text = engine.texts.render(lang, &Msg::new("error-internal"));
                        let _ = bot
                            .send_message(ChatId(chat_id), text)
                            .parse_mode(ParseMode::Html)
                            .await;
                    }
                    false
                }
            }
        }
        update::Routed::Staff(input) => staff::handle(&bot, &engine, input).await,
        update::Routed::Ignore => true,
    }
}

/// Chats that got an apology during the current database outage.
static APOLOGISED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<i64>>> =
    std::sync::LazyLock::new(Default::default);

/// Checks the staff chat exists, is a forum supergroup, and the bot may manage topics.
pub async fn check_staff_chat(bot: &Bot, chat_id: i64) -> Result<(), String> {
    let chat = bot
        .get_chat(ChatId(chat_id))
        .await
        .map_err(|e| e.to_string())?;
    use teloxide::types::{ChatFullInfoKind, ChatFullInfoPublicKind};
    let is_forum = match &chat.kind {
        ChatFullInfoKind::Public(public) => match &public.kind {
            ChatFullInfoPublicKind::Supergroup(group) => group.is_forum,
            _ => false,
        },
        ChatFullInfoKind::Private(_) => false,
    };
    if !is_forum {
        return Err("is not a supergroup with topics enabled".into());
    }
    Ok(())
}
