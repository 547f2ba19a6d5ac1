//! Command-line interface (contracts.md: binary and commands).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use posdesk::config::{Loaded, Settings, redact_url};
use posdesk::conversation::Msg;
use posdesk::delivery::ChannelDelivery;
use posdesk::domain::{Lang, RequestStatus};
use posdesk::engine::StatusChangeError;
use posdesk::tickets::card::format_ms;
use posdesk::{Error, app, console, http, merchants, telegram};
use tracing_subscriber::EnvFilter;

/// posdesk: a Telegram support bot for merchants of a POS payment acquirer.
#[derive(Debug, Parser)]
#[command(name = "posdesk", version, about)]
pub struct Args {
    /// Configuration file (default: posdesk.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Run the bot (long polling); applies migrations first.
    Run,
    /// Talk to the bot in the terminal through the same engine and database.
    Chat {
        /// Use a temporary database with sample merchants; show one-time codes on screen.
        #[arg(long)]
        demo: bool,
        /// Language of the terminal user (zh-CN or en).
        #[arg(long, default_value = "zh-CN", value_parser = parse_lang)]
        lang: Lang,
        /// Telegram-like user id (and chat id) the terminal plays.
        #[arg(long, default_value_t = 10_001)]
        user: i64,
    },
    /// Read utterances on stdin, one a line; write the intent id of each.
    Classify {
        /// Preferred language: rules of both languages always apply; where two
        /// intents score the same, the one this language's rules found wins.
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
        /// After a tab: the rule-file name of the intent, its score, the
        /// rules that matched and the runner-up.
        #[arg(long)]
        explain: bool,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Merchant data.
    Merchants {
        #[command(subcommand)]
        command: MerchantCommands,
    },
    /// Unbinding requests (back office).
    Requests {
        #[command(subcommand)]
        command: RequestCommands,
    },
    /// Support tickets.
    Tickets {
        #[command(subcommand)]
        command: TicketCommands,
    },
    /// Check config, database, Bot API (getMe) and the staff chat (never
    /// migrates).
    Check {
        /// Only load and check the configuration (same as `config check`).
        #[arg(long)]
        config_only: bool,
    },
    /// Probe the running service's /healthz (for container and load-balancer
    /// health checks; no curl needed): exit 0 on 200, 1 otherwise.
    Healthcheck {
        /// The URL to probe (default: /healthz on http.admin_listen, else http.listen).
        #[arg(long)]
        url: Option<String>,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommands,
    },
    /// The FAQ catalogue (locales/faq.toml, or faq.toml in i18n.locales_dir).
    Faq {
        #[command(subcommand)]
        command: FaqCommands,
    },
    /// Copy every table of the configured database into another one (e.g.
    /// SQLite to PostgreSQL); the target is migrated first and must be empty.
    CopyDb {
        /// The target database URL.
        #[arg(long)]
        to: String,
    },
    /// The Telegram webhook (webhook mode).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommands,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommands {
    /// Print the effective configuration (secrets redacted) and where each
    /// value came from (file, env, default); exit 2 on any problem.
    Check,
}

#[derive(Debug, Subcommand)]
enum FaqCommands {
    /// Check every topic against the texts and intent rules of every
    /// language, as start-up does, without starting; exit 2 with one line a
    /// problem.
    Check,
    /// List the topics: id, menu row, what `classify` prints, label.
    List,
}

#[derive(Debug, Subcommand)]
enum WebhookCommands {
    /// Register telegram.webhook_url with the shared secret (once per deployment).
    Set,
    /// Remove the webhook (to go back to polling).
    Delete,
    /// Show what Telegram reports: URL, pending updates, last error.
    Info,
}

#[derive(Debug, Subcommand)]
enum MerchantCommands {
    /// Upsert merchants from a CSV (merchant_id,name,phone,card_number,bank_name).
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RequestCommands {
    /// List requests, newest first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Show one request and its audit trail.
    Show {
        /// Reference, UB-YYYYMMDD-XXXXX.
        reference: String,
    },
    /// Change a request's status; the merchant is notified.
    SetStatus {
        /// Reference.
        reference: String,
        /// submitted, processing, completed, rejected or cancelled.
        status: String,
        /// Reason shown to the merchant (for rejected / cancelled).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TicketCommands {
    /// List tickets, newest first.
    List {
        /// Only open and claimed tickets.
        #[arg(long)]
        open: bool,
    },
    /// Tickets opened, first response and resolution times (median, p90),
    /// CSAT, per agent.
    Stats {
        /// The period: tickets opened in the last this many days.
        #[arg(long, default_value_t = 7)]
        since: i64,
    },
}

fn parse_lang(raw: &str) -> Result<Lang, String> {
    Lang::parse(raw).ok_or_else(|| format!("unknown language {raw:?}; use zh-CN or en"))
}

fn init_logging(settings: &Settings, quiet: bool) {
    let default = if quiet {
        "warn"
    } else {
        settings.log.level.as_str()
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if settings.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn usage(message: impl Into<String>) -> Error {
    Error::Config(posdesk::config::ConfigError::Invalid(message.into()))
}

/// Runs one command.
pub async fn run(args: Args) -> Result<(), Error> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let loaded = Settings::load_with_sources(args.config.as_deref(), &env)?;
    if let Commands::Config {
        command: ConfigCommands::Check,
    }
    | Commands::Check { config_only: true } = args.command
    {
        return config_check(&loaded);
    }
    let config_file = loaded.file.clone();
    let mut settings = loaded.settings;
    let quiet = matches!(
        args.command,
        Commands::Chat { .. } | Commands::Classify { .. } | Commands::Healthcheck { .. }
    );
    init_logging(&settings, quiet);
    if config_file.is_none() && matches!(args.command, Commands::Run) {
        tracing::warn!(
            database = %redact_url(&settings.database.url),
            "no config file (--config, POSDESK_CONFIG or ./posdesk.toml): running on defaults and the environment"
        );
    }
    match args.command {
        Commands::Run => run_bot(settings).await,
        Commands::Chat { demo, lang, user } => {
            if demo {
                chat_demo(settings, lang, user).await
            } else {
                let store = app::open_store(&settings).await?;
                let database = settings.database.url.clone();
                let delivery = app::delivery_for(&settings)?;
                let engine = app::build_engine(settings, store, delivery).await?;
                let banner = Msg::new("console-banner").arg("database", redact_url(&database));
                console::run(
                    engine,
                    console::ConsoleOptions {
                        user_id: user,
                        lang,
                        banner,
                    },
                    None,
                )
                .await
            }
        }
        Commands::Classify { lang, explain } => classify(&settings, lang, explain),
        Commands::Migrate => {
            let store = app::open_store(&settings).await?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Commands::Merchants {
            command: MerchantCommands::Import { file },
        } => import(&settings, &file).await,
        Commands::Requests { command } => requests(&mut settings, command).await,
        Commands::Tickets {
            command: TicketCommands::List { open },
        } => {
            let store = app::open_store(&settings).await?;
            let tickets = store.list_tickets(open, 500).await?;
            if tickets.is_empty() {
                println!("no tickets");
            }
            for t in tickets {
                println!(
                    "#{:<5} {:<9} {:<16} {:<18} opened {}  assignee {}  rating {}",
                    t.id,
                    t.status,
                    t.reason,
                    t.merchant_id
                        .clone()
                        .unwrap_or_else(|| format!("user {}", t.user_id)),
                    format_ms(t.opened_at),
                    t.assignee_name.clone().unwrap_or_else(|| "-".into()),
                    t.rating
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
            }
            Ok(())
        }
        Commands::Tickets {
            command: TicketCommands::Stats { since },
        } => {
            let store = app::open_store(&settings).await?;
            let from = chrono::Utc::now().timestamp_millis() - since.max(0) * 86_400_000;
            let stats = posdesk::tickets::stats::compute(&store.ticket_stat_rows(from).await?);
            let spread = |s: Option<posdesk::tickets::stats::Spread>| match s {
                Some(s) => format!(
                    "{} / {}",
                    posdesk::tickets::stats::duration(s.median),
                    posdesk::tickets::stats::duration(s.p90)
                ),
                None => "-".into(),
            };
            let csat = |c: Option<(f64, usize)>| match c {
                Some((avg, n)) => format!("{avg:.2} ({n} rated)"),
                None => "-".into(),
            };
            println!("tickets opened in the last {since} days");
            println!(
                "{:<20} {:>7}  {:<22} {:<22} csat",
                "agent", "tickets", "first response med/p90", "resolution med/p90"
            );
            let mut rows = vec![("(all)".to_string(), stats.all)];
            rows.extend(stats.agents);
            for (agent, f) in rows {
                println!(
                    "{:<20} {:>7}  {:<22} {:<22} {}",
                    agent,
                    f.tickets,
                    spread(f.first_response),
                    spread(f.resolution),
                    csat(f.csat)
                );
            }
            Ok(())
        }
        Commands::Check { .. } => check(settings).await,
        Commands::Config { .. } => Ok(()),
        Commands::Faq { command } => faq(&settings, command),
        Commands::Healthcheck { url } => healthcheck(&settings, url).await,
        Commands::Webhook { command } => webhook(settings, command).await,
        Commands::CopyDb { to } => {
            let source = app::open_store(&settings).await?;
            let target = posdesk::storage::Store::connect(&to, 4).await?;
            target.migrate().await?;
            let report = source.copy_into(&target).await?;
            for (table, rows) in &report {
                println!("{table:<18} {rows} rows");
            }
            println!(
                "copied {} ({}) into {} ({})",
                redact_url(&settings.database.url),
                source.backend(),
                redact_url(&to),
                target.backend()
            );
            target.close().await;
            Ok(())
        }
    }
}

async fn run_bot(settings: Settings) -> Result<(), Error> {
    if settings.telegram.token.is_empty() {
        return Err(usage(
            "no bot token: set TELOXIDE_TOKEN (or telegram.token)",
        ));
    }
    if settings.otp.delivery.is_empty() {
        tracing::warn!("otp.delivery is not set: merchants cannot receive one-time codes");
    }
    // Bind first: an address in use ends the start here, not at shutdown.
    let listeners = http::Listeners::bind(&settings.http).await?;
    let content = app::load_content(&settings)?;
    let store = app::open_store(&settings).await?;
    let delivery = app::delivery_for(&settings)?;
    let engine = app::build_engine_with(settings, store, delivery, content).await?;
    let bot = telegram::make_bot(&engine)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        telegram::wait_for_stop_signal().await;
        // /readyz answers 503 from here on, while the turns in hand finish.
        let _ = stop_tx.send(true);
    });
    let (http_stop_tx, http_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(http::serve(
        engine.clone(),
        listeners,
        http::Readiness::new(stop_rx.clone()),
        async move {
            let _ = http_stop_rx.await;
        },
    ));
    telegram::run_until(engine.clone(), bot, stop_rx).await;
    let _ = http_stop_tx.send(());
    match http.await {
        Ok(Err(e)) => tracing::error!(error = %e, "HTTP server stopped"),
        Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
        Ok(Ok(())) => {}
    }
    engine.close().await;
    Ok(())
}

async fn chat_demo(mut settings: Settings, lang: Lang, user: i64) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!(
        "posdesk-demo-{}-{}",
        std::process::id(),
        hex::encode(posdesk::engine::random_bytes::<4>())
    ));
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::Runtime(format!(
            "cannot create a temporary directory {}: {e}",
            dir.display()
        ))
    })?;
    settings.database.url = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());
    let result = async {
        let store = app::open_store(&settings).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let pattern = settings.derive()?.merchant_pattern;
        merchants::import(
            &store,
            merchants::DEMO_CSV.as_bytes(),
            &pattern,
            now,
            |_| {},
        )
        .await
        .map_err(|e| Error::Runtime(e.to_string()))?;
        let (delivery, sms) = ChannelDelivery::new();
        let engine = app::build_engine(settings, store, Arc::new(delivery)).await?;
        let banner = Msg::new("console-demo-banner")
            .arg("merchants", "M100200300, 862100058120001, M900800700");
        let result = console::run(
            engine.clone(),
            console::ConsoleOptions {
                user_id: user,
                lang,
                banner,
            },
            Some(sms),
        )
        .await;
        engine.close().await;
        result
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn faq(settings: &Settings, command: FaqCommands) -> Result<(), Error> {
    let texts = app::load_texts(settings)?;
    let classifier = app::load_classifier(settings)?;
    let catalogue = classifier.faq();
    match command {
        FaqCommands::Check => {
            let problems = app::faq_problems(settings, &texts, &classifier);
            if !problems.is_empty() {
                return Err(Error::Faq(problems.join("\n")));
            }
            println!(
                "faq: ok ({} topics, {} in the menu; texts and rules in {})",
                catalogue.topics().len(),
                catalogue
                    .topics()
                    .iter()
                    .filter(|t| t.menu.is_some())
                    .count(),
                Lang::ALL.map(|l| l.as_str()).join(", ")
            );
        }
        FaqCommands::List => {
            let mut out = std::io::stdout().lock();
            for topic in catalogue.topics() {
                let menu = topic.menu.map_or("-".to_string(), |row| row.to_string());
                let label = texts.render(Lang::ZhCn, &posdesk::conversation::Msg::new(topic.label));
                let _ = writeln!(
                    out,
                    "{:<24} menu {:<2} classify {:<22} {label}",
                    topic.id.as_str(),
                    menu,
                    catalogue.reported_id(topic.id),
                );
            }
        }
    }
    Ok(())
}

fn classify(settings: &Settings, lang: Option<Lang>, explain: bool) -> Result<(), Error> {
    let classifier = app::load_classifier(settings)?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        // Invalid UTF-8 on a line still gets an answer, so output stays aligned.
        let line = line.unwrap_or_default();
        let written = if explain {
            let explanation = classifier.explain_preferring(&line, lang);
            writeln!(
                out,
                "{}\t{}",
                explanation.intent.reported_id(classifier.faq()),
                explanation.detail()
            )
        } else {
            writeln!(
                out,
                "{}",
                classifier
                    .classify_preferring(&line, lang)
                    .reported_id(classifier.faq())
            )
        };
        if written.is_err() {
            break;
        }
    }
    let _ = out.flush();
    Ok(())
}

async fn import(settings: &Settings, file: &PathBuf) -> Result<(), Error> {
    let derived = settings.derive()?;
    let reader = std::fs::File::open(file)
        .map_err(|e| usage(format!("cannot open {}: {e}", file.display())))?;
    let store = app::open_store(settings).await?;
    let now = chrono::Utc::now().timestamp_millis();
    // A bar on a terminal; plain lines (every tenth of the file) otherwise.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let mut next_line = 0u64;
    let report = merchants::import(
        &store,
        reader,
        &derived.merchant_pattern,
        now,
        |p| match &bar {
            Some(bar) => {
                bar.set_length(p.total);
                bar.set_position(p.done);
            }
            None if p.total >= 5_000 && p.done >= next_line => {
                eprintln!("read {}/{} rows", p.done, p.total);
                next_line = p.done + p.total / 10;
            }
            None => {}
        },
    )
    .await
    .map_err(|e| match e {
        merchants::ImportError::Store(e) => Error::Store(e),
        other => usage(other.to_string()),
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for error in &report.errors {
        eprintln!("{error}");
    }
    println!(
        "imported {} new, {} updated, {} rejected ({})",
        report.inserted,
        report.updated,
        report.errors.len(),
        report.encoding
    );
    if report.inserted + report.updated == 0 && !report.errors.is_empty() {
        return Err(Error::Runtime(format!(
            "nothing imported: all {} rows were rejected",
            report.errors.len()
        )));
    }
    Ok(())
}

async fn requests(settings: &mut Settings, command: RequestCommands) -> Result<(), Error> {
    let store = app::open_store(settings).await?;
    match command {
        RequestCommands::List { status, limit } => {
            if let Some(s) = &status
                && RequestStatus::parse(s).is_none()
            {
                return Err(usage(format!(
                    "unknown status {s:?}; use submitted, processing, completed, rejected or cancelled"
                )));
            }
            let rows = store.list_requests(status.as_deref(), limit).await?;
            if rows.is_empty() {
                println!("no requests");
            }
            for r in rows {
                println!(
                    "{}  {:<10}  merchant {:<16}  created {}  {}",
                    r.reference,
                    r.status,
                    r.merchant_id,
                    format_ms(r.created_at),
                    r.reason.unwrap_or_default()
                );
            }
            Ok(())
        }
        RequestCommands::Show { reference } => {
            let Some(r) = store.request(&reference.trim().to_uppercase()).await? else {
                return Err(Error::Runtime(format!("no request {reference}")));
            };
            println!("reference  {}", r.reference);
            println!("merchant   {}", r.merchant_id);
            println!("status     {}", r.status);
            println!("reason     {}", r.reason.clone().unwrap_or_default());
            println!("created    {}", format_ms(r.created_at));
            println!("updated    {}", format_ms(r.updated_at));
            println!("audit:");
            // Only this request's lines (each names its reference), not
            // every line of the merchant.
            let reference = r.reference.clone();
            for a in store
                .audit_for_merchant(&r.merchant_id)
                .await?
                .into_iter()
                .filter(|a| a.detail.contains(&reference))
            {
                println!(
                    "  {}  {:<22} {:<14} {}",
                    format_ms(a.at),
                    a.action,
                    a.actor,
                    a.detail
                );
            }
            Ok(())
        }
        RequestCommands::SetStatus {
            reference,
            status,
            reason,
        } => {
            let Some(status) = RequestStatus::parse(&status) else {
                return Err(usage(format!(
                    "unknown status {status:?}; use processing, completed, rejected or cancelled"
                )));
            };
            let delivery = app::delivery_for(settings)?;
            let engine = app::build_engine(settings.clone(), store, delivery).await?;
            match engine
                .set_request_status(&reference, status, reason.as_deref(), "cli")
                .await
            {
                Ok(()) => {
                    println!(
                        "{} is now {}; the merchant will be notified",
                        reference.trim().to_uppercase(),
                        status.as_str()
                    );
                    Ok(())
                }
                Err(StatusChangeError::Store(e)) => Err(Error::Store(e)),
                Err(e @ StatusChangeError::ReasonTooLong { .. }) => Err(usage(e.to_string())),
                Err(e) => Err(Error::Runtime(e.to_string())),
            }
        }
    }
}

async fn healthcheck(settings: &Settings, url: Option<String>) -> Result<(), Error> {
    let url = url.unwrap_or_else(|| {
        let address = match settings.http.admin_listen.trim() {
            "" => settings.http.listen.as_str(),
            admin => admin,
        };
        // A wildcard address is reached on the loopback interface.
        let address = address
            .replace("0.0.0.0:", "127.0.0.1:")
            .replace("[::]:", "[::1]:");
        format!("http://{address}/healthz")
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| Error::Runtime(format!("cannot build an HTTP client: {e}")))?;
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => {
            println!("healthy ({url}: {})", response.status());
            Ok(())
        }
        Ok(response) => Err(Error::Runtime(format!(
            "unhealthy: {url} answered {}",
            response.status()
        ))),
        Err(e) => Err(Error::Runtime(format!("unhealthy: {url}: {e}"))),
    }
}

fn config_check(loaded: &Loaded) -> Result<(), Error> {
    let file = match &loaded.file {
        Some(file) => format!("# config file: {}\n", file.display()),
        None => "# no config file (defaults and environment only)\n".to_string(),
    };
    // A closed pipe (`| head`) is not an error of the configuration.
    let _ = writeln!(
        std::io::stdout().lock(),
        "{file}{}# config: ok",
        loaded.render()
    );
    Ok(())
}

async fn check(settings: Settings) -> Result<(), Error> {
    let mut problems = Vec::new();
    println!("config: ok (brand {:?})", settings.brand);
    match app::load_texts(&settings).and_then(|texts| {
        let classifier = app::load_classifier(&settings)?;
        Ok(app::faq_problems(&settings, &texts, &classifier))
    }) {
        Ok(faq) if faq.is_empty() => println!("texts, intent rules and FAQ catalogue: ok"),
        Ok(faq) => problems.extend(faq.into_iter().map(|p| format!("faq: {p}"))),
        Err(e) => problems.push(format!("texts, intent rules or FAQ catalogue: {e}")),
    }
    // A check changes nothing: no migrations, only a connection and a ping.
    match posdesk::storage::Store::connect(
        &settings.database.url,
        settings.database.max_connections,
    )
    .await
    {
        Ok(store) => {
            match store.ping().await {
                Ok(()) => println!("database: ok ({})", store.backend()),
                Err(e) => problems.push(format!("database: {e}")),
            }
            store.close().await;
        }
        Err(e) => problems.push(format!("database: {e}")),
    }
    if settings.otp.delivery.is_empty() {
        problems
            .push("otp.delivery is not set (webhook or log): merchants cannot get codes".into());
    }
    if settings.telegram.token.is_empty() {
        problems.push("no bot token: set TELOXIDE_TOKEN".into());
    } else {
        match telegram::bot_for(&settings.telegram) {
            Ok(bot) => match telegram::get_me(&bot).await {
                Ok(name) => println!("Bot API: ok (@{name})"),
                Err(e) => problems.push(format!("Bot API getMe failed: {e}")),
            },
            Err(e) => problems.push(e.to_string()),
        }
        if settings.support.staff_chat_id == 0 {
            println!(
                "staff chat: not configured (tickets are stored; merchants are told: {:?})",
                settings.support.contact
            );
        } else {
            match telegram::bot_for(&settings.telegram) {
                Ok(bot) => {
                    match telegram::check_staff_chat(&bot, settings.support.staff_chat_id).await {
                        Ok(()) => println!("staff chat: ok"),
                        Err(e) => problems.push(format!(
                            "staff chat {}: {e}",
                            settings.support.staff_chat_id
                        )),
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    if problems.is_empty() {
        println!("all checks passed");
        return Ok(());
    }
    for p in &problems {
        eprintln!("problem: {p}");
    }
    Err(Error::Runtime(format!(
        "{} problem(s) found",
        problems.len()
    )))
}

async fn webhook(settings: Settings, command: WebhookCommands) -> Result<(), Error> {
    if settings.telegram.token.is_empty() {
        return Err(usage(
            "no bot token: set TELOXIDE_TOKEN (or telegram.token)",
        ));
    }
    if matches!(command, WebhookCommands::Set) && settings.telegram.webhook_url.is_empty() {
        return Err(usage(
            "set telegram.webhook_url and telegram.webhook_secret first",
        ));
    }
    let store = app::open_store(&settings).await?;
    let delivery = app::delivery_for(&settings)?;
    let engine = app::build_engine(settings, store, delivery).await?;
    let bot = telegram::make_bot(&engine)?;
    let result = match command {
        WebhookCommands::Set => telegram::set_webhook(&bot, &engine)
            .await
            .map(|()| "webhook set".to_string()),
        WebhookCommands::Delete => telegram::delete_webhook(&bot)
            .await
            .map(|()| "webhook deleted".to_string()),
        WebhookCommands::Info => telegram::webhook_info(&bot).await,
    };
    match result {
        Ok(text) => {
            println!("{text}");
            Ok(())
        }
        Err(e) => Err(Error::Runtime(format!("Bot API call failed: {e}"))),
    }
}
