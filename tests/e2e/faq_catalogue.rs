//! Adding an FAQ topic takes locale files only: a copy of locales/ in a
//! temporary folder gets a new topic, `posdesk faq check` names every piece
//! still missing, and once they are there the bot understands and answers it
//! (`posdesk classify`, `posdesk chat --demo`) without a rebuild.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read locales").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

fn posdesk(locales: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(args)
        .env("POSDESK_I18N__LOCALES_DIR", locales)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start posdesk");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("output")
}

const TOPIC: &str = r#"
[[topic]]
id = "support_hours"
menu = 8
then = ["human", "menu"]
quotes = ["hours"]
"#;

const ZH_TEXTS: &str = "
btn-faq-support-hours = 客服几点上班
faq-support-hours = 人工客服的工作时间是 { $hours }。其他时间也可以留言，上班后会按顺序回复。
";

const EN_TEXTS: &str = "
btn-faq-support-hours = Support hours
faq-support-hours = People answer { $hours }. You can leave a message at other times; it is answered in order when support opens.
";

const ZH_RULE: &str = r#"
[[rule]]
intent = "support_hours"
weight = 3.0
patterns = ['(客服|人工).{0,4}(几点|什么时候|啥时候)(上班|下班|在线)|(工作|上班|营业)时间']
"#;

const EN_RULE: &str = r#"
[[rule]]
intent = "support_hours"
weight = 3.0
patterns = ['(^|[^a-z])(support|office|opening|working) hours']
"#;

#[test]
fn a_new_topic_is_added_with_locale_files_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let locales = dir.path().join("locales");
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/locales")),
        &locales,
    );

    // The topic alone: start-up would refuse it, and the check says why.
    append(&locales.join("faq.toml"), TOPIC);
    let out = posdesk(&locales, &["faq", "check"], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for missing in [
        "zh-CN/posdesk.ftl has no message \"faq-support-hours\"",
        "zh-CN/posdesk.ftl has no message \"btn-faq-support-hours\"",
        "en/posdesk.ftl has no message \"faq-support-hours\"",
        "zh-CN/intents.toml has no rule with intent = \"support_hours\"",
        "en/intents.toml has no rule with intent = \"support_hours\"",
    ] {
        assert!(stderr.contains(missing), "{missing:?} not in:\n{stderr}");
    }
    // The bot itself does not start with it either.
    let out = posdesk(&locales, &["chat", "--demo"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("support_hours"));

    // An answer that names a variable the topic does not quote is caught.
    append(
        &locales.join("zh-CN/posdesk.ftl"),
        "\nfaq-support-hours = { $brand } 的客服时间是 { $hours }\n",
    );
    let out = posdesk(&locales, &["faq", "check"], "");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not render with its quotes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Texts and rules in both languages: all good.
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/locales/zh-CN/posdesk.ftl"),
        locales.join("zh-CN/posdesk.ftl"),
    )
    .expect("restore");
    append(&locales.join("zh-CN/posdesk.ftl"), ZH_TEXTS);
    append(&locales.join("en/posdesk.ftl"), EN_TEXTS);
    append(&locales.join("zh-CN/intents.toml"), ZH_RULE);
    append(&locales.join("en/intents.toml"), EN_RULE);
    let out = posdesk(&locales, &["faq", "check"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("17 topics"));

    // Understood in both languages...
    let out = posdesk(
        &locales,
        &["classify"],
        "客服几点上班？\nwhat are your support hours\n验证码收不到\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
        ["support_hours", "support_hours", "verification_failed"]
    );

    // ...and answered, with the setting it quotes in the reader's language,
    // and listed in the FAQ menu.
    let out = posdesk(&locales, &["chat", "--demo"], "客服几点上班\n/faq\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("人工客服的工作时间是 周一至周五 9:00–18:00"),
        "{stdout}"
    );
    assert!(stdout.contains("客服几点上班"), "{stdout}");
}
