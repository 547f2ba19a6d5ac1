//! `posdesk chat --demo` driven through a pipe, as a script would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use regex::Regex;

struct Session {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Session {
    fn start(lang: &str) -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_posdesk"))
            .args(["chat", "--demo", "--lang", lang])
            .env_remove("DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start posdesk chat --demo");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            stdin: Some(stdin),
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write");
        stdin.flush().expect("flush");
    }

    /// Reads until a line matches, returns it.
    fn expect(&mut self, pattern: &str) -> String {
        let re = Regex::new(pattern).expect("regex");
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if re.is_match(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("never saw /{pattern}/; output:\n{}", self.seen.join("\n")),
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn the_demo_walks_an_unbinding_through_a_pipe() {
    let mut s = Session::start("zh-CN");
    s.expect("M100200300");
    s.send("/start");
    s.expect(r"\[1\]");
    s.send("1");
    s.send("M100200300");
    let sms = s.expect("📱");
    let code = Regex::new(r"\b(\d{6})\b")
        .expect("regex")
        .captures(&sms)
        .expect("a code on the SMS line")[1]
        .to_string();
    s.send(&code);
    s.expect(r"6222 \*\*\*\* \*\*\*\* 0123");
    s.send("1");
    s.expect(r"\[1\]");
    s.send("1");
    let reference = s.expect(r"UB-\d{8}-[2-9A-HJ-NP-Z]{5}");
    assert!(reference.contains("UB-"));
    s.send("9");
    s.expect(r"1.*2");
    s.stdin.take();
    let status = s.child.wait().expect("exit");
    assert!(status.success());
}

#[test]
fn classify_answers_one_intent_per_line_in_order() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start classify");
    {
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(
                "验证码收不到\n\n转人工\nhow do I unbind my card\n今天天气怎么样\n解綁進度查詢\n"
                    .as_bytes(),
            )
            .expect("write");
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(
        lines,
        vec![
            "verification_failed",
            "unknown",
            "human",
            "unbind_start",
            "unknown",
            "progress_query"
        ]
    );
}

#[test]
fn bad_usage_and_bad_config_exit_2_with_one_sentence() {
    let out = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(["requests", "frobnicate"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[unbind]\nblackout = [\"25:99\"]\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(["--config", config.to_str().expect("path"), "migrate"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unbind.blackout") && !err.contains("panicked"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(["run"])
        .env_remove("TELOXIDE_TOKEN")
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TELOXIDE_TOKEN"));
}

/// The demo has no staff group: after /human the bot keeps answering
/// everything itself (no dead end), and small talk gets a fitting reply.
#[test]
fn the_demo_never_goes_silent_after_asking_for_a_person() {
    let mut s = Session::start("zh-CN");
    s.expect("M100200300");
    s.send("/human");
    s.expect("已记下您要找人工客服");
    s.send("/start");
    s.expect("商户服务助手");
    s.send("验证码一直收不到咋办");
    s.expect("验证失败，一般是");
    s.send("谢谢");
    s.expect("不客气");
    s.send("/unbind");
    s.expect("请发送您的商户编号");
    s.stdin.take();
    let status = s.child.wait().expect("exit");
    assert!(status.success());
}

#[test]
fn classify_explain_names_the_rule_and_the_runner_up_after_a_tab() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(["classify", "--explain"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start classify");
    {
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin
            .write_all("验证码收不到\n谢谢\n".as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let (intent, detail) = lines[0].split_once('\t').expect("a tab");
    assert_eq!(intent, "verification_failed");
    assert!(
        detail.contains("score=")
            && detail.contains("intents.toml#")
            && detail.contains("runner_up="),
        "{detail}"
    );
    let (intent, detail) = lines[1].split_once('\t').expect("a tab");
    assert_eq!(
        intent, "unknown",
        "small talk is out of scope for the contract"
    );
    assert!(detail.starts_with("chit_chat.thanks"), "{detail}");
}
