//! A real SMTP server (Python's aiosmtpd) run by a test, recording each
//! message it accepts as a JSON file.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The interpreter with aiosmtpd: `RAPPORT_TEST_PYTHON`, or the repo's
/// `.ci/.venv` that `scripts/test` creates.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("RAPPORT_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/.venv/bin/python")
}

/// How the server is secured and authenticated.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Require AUTH with this login and password.
    pub login: Option<(String, String)>,
    /// Offer STARTTLS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Refuse mail before STARTTLS.
    pub require_tls: bool,
}

/// A running aiosmtpd, killed on drop.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    out: PathBuf,
    _child: Child,
}

/// One message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// Headers, names lower-cased.
    pub headers: std::collections::HashMap<String, String>,
    /// The decoded text body.
    pub body: String,
    /// Whether the session was upgraded with STARTTLS.
    pub tls: bool,
    /// The login that authenticated, if any.
    pub login: Option<String>,
    /// The id the server answered with.
    pub queue_id: String,
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port. Fails the test, saying how to install
    /// it, when the interpreter or aiosmtpd is missing.
    pub async fn start(options: Options) -> SmtpServer {
        let python = python();
        let ok = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "the SMTP tests need Python with aiosmtpd at {} (or RAPPORT_TEST_PYTHON): \
             run `python3 -m venv .ci/.venv && .ci/.venv/bin/pip install aiosmtpd==1.4.6` \
             in the workspace root, or scripts/test, which does it",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let out = super::fresh_dir();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testing/smtp_server.py");
        let mut cmd = Command::new(&python);
        // aiosmtpd warns about AUTH without TLS, which the plain test wants.
        cmd.args(["-W", "ignore"])
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some((user, password)) = &options.login {
            cmd.args(["--user", user, "--password", password]);
        }
        if let Some((cert, key)) = &options.tls {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            if options.require_tls {
                cmd.arg("--require-tls");
            }
        }
        let mut child = cmd.spawn().expect("start aiosmtpd");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("aiosmtpd starts")
            .expect("aiosmtpd output");
        assert_eq!(ready.as_deref(), Some("READY"), "aiosmtpd did not start");
        SmtpServer {
            port,
            out,
            _child: child,
        }
    }

    /// Every message accepted so far.
    pub fn mails(&self) -> Vec<Mail> {
        let mut mails: Vec<Mail> = std::fs::read_dir(&self.out)
            .expect("read mail dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| {
                serde_json::from_slice(&std::fs::read(e.path()).expect("read mail"))
                    .expect("mail json")
            })
            .collect();
        mails.sort_by(|a, b| a.queue_id.cmp(&b.queue_id));
        mails
    }
}
