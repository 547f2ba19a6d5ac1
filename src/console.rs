//! The terminal channel (`posdesk chat`): the same engine and database,
//! driven from stdin and stdout. Buttons are numbered; typing a number presses
//! one. Works piped, one input a line, so conversations can be scripted.

use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::conversation::{CallbackData, Event, Msg};
use crate::delivery::OtpMessage;
use crate::domain::Lang;
use crate::engine::{Engine, Inbound, UserInfo};
use crate::i18n::strip_html;
use crate::storage::{OutboxPayload, StoreError};

/// Options of a terminal session.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// The user id (and chat id) the terminal plays.
    pub user_id: i64,
    /// The language the user's client reports.
    pub lang: Lang,
    /// A banner message to print first.
    pub banner: Msg,
}

/// Runs the terminal conversation until stdin ends.
pub async fn run(
    engine: Arc<Engine>,
    options: ConsoleOptions,
    mut sms: Option<mpsc::UnboundedReceiver<OtpMessage>>,
) -> Result<(), crate::Error> {
    let lang = options.lang;
    let piped = !std::io::stdin().is_terminal();
    let mut out = Screen::new(engine.clone(), options.user_id);
    out.line(&strip_html(&engine.texts.render(lang, &options.banner)));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if !piped {
            out.prompt();
        }
        let line = tokio::select! {
            line = lines.next_line() => line,
            Some(code) = recv(&mut sms) => {
                out.sms(lang, &code);
                continue;
            }
        };
        let Ok(Some(line)) = line else {
            break;
        };
        let line = line.trim().to_string();
        if line.is_empty() {
            continue;
        }
        if piped {
            out.line(&format!("> {line}"));
        }
        let event = match out.button_for(&line) {
            Ok(Some(data)) => Event::Callback(CallbackData::parse(&data)),
            Ok(None) => Event::typed(&line),
            Err(max) => {
                let msg = Msg::new("console-choice-invalid").arg("max", max as i64);
                out.line(&strip_html(&engine.texts.render(lang, &msg)));
                continue;
            }
        };
        let inbound = Inbound {
            chat_id: options.user_id,
            user: UserInfo {
                id: options.user_id,
                language_code: Some(lang.as_str().to_string()),
                name: "terminal".into(),
            },
            update_id: None,
            message_id: None,
            event,
        };
        match engine.handle(inbound).await {
            Ok(outcome) => {
                if let Some(Some(toast)) = outcome.toast {
                    let msg = Msg::new("console-toast").arg("text", toast);
                    out.line(&strip_html(&engine.texts.render(lang, &msg)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "turn failed");
                out.line(&strip_html(
                    &engine.texts.render(lang, &Msg::new("console-error")),
                ));
            }
        }
        // Code deliveries run after the turn; give them a moment so the
        // simulated SMS shows before the next prompt.
        tokio::time::sleep(Duration::from_millis(30)).await;
        while let Some(code) = sms.as_mut().and_then(|r| r.try_recv().ok()) {
            out.sms(lang, &code);
        }
        out.flush_outbox().await.map_err(crate::Error::Store)?;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    out.flush_outbox().await.map_err(crate::Error::Store)?;
    out.line(&strip_html(
        &engine.texts.render(lang, &Msg::new("console-bye")),
    ));
    Ok(())
}

async fn recv(sms: &mut Option<mpsc::UnboundedReceiver<OtpMessage>>) -> Option<OtpMessage> {
    match sms {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

struct Screen {
    engine: Arc<Engine>,
    chat_id: i64,
    buttons: Vec<String>,
}

impl Screen {
    fn new(engine: Arc<Engine>, chat_id: i64) -> Screen {
        Screen {
            engine,
            chat_id,
            buttons: Vec::new(),
        }
    }

    fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not worth a crash.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    fn prompt(&self) {
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "> ");
        let _ = stdout.flush();
    }

    fn sms(&self, lang: Lang, code: &OtpMessage) {
        let msg = Msg::new("console-sms")
            .arg("phone", code.phone.masked())
            .arg("code", code.code.expose())
            .arg("minutes", self.engine.settings.otp.valid_minutes);
        self.line(&strip_html(&self.engine.texts.render(lang, &msg)));
    }

    /// `Ok(Some(data))` if `input` picks a shown button, `Ok(None)` if it is
    /// not a choice, `Err(max)` if it is a number out of range.
    fn button_for(&self, input: &str) -> Result<Option<String>, usize> {
        if self.buttons.is_empty() || input.len() > 2 {
            return Ok(None);
        }
        let Ok(choice) = input.parse::<usize>() else {
            return Ok(None);
        };
        match choice.checked_sub(1).and_then(|i| self.buttons.get(i)) {
            Some(data) => Ok(Some(data.clone())),
            None => Err(self.buttons.len()),
        }
    }

    async fn flush_outbox(&mut self) -> Result<(), StoreError> {
        let store = &self.engine.store;
        let now = self.engine.now().timestamp_millis();
        for row in store.due_outbox(now, 100).await? {
            if row.chat_id != self.chat_id {
                continue;
            }
            if let OutboxPayload::Text { html, buttons } = &row.payload {
                self.line("");
                for text_line in strip_html(html).lines() {
                    self.line(&format!("  {text_line}"));
                }
                if !buttons.is_empty() {
                    self.buttons.clear();
                    for row in buttons {
                        let labels: Vec<String> = row
                            .iter()
                            .map(|(label, data)| {
                                self.buttons.push(data.clone());
                                format!("[{}] {label}", self.buttons.len())
                            })
                            .collect();
                        self.line(&format!("  {}", labels.join("   ")));
                    }
                }
                self.line("");
            }
            store.outbox_sent(&[row.id], now).await?;
        }
        Ok(())
    }
}
