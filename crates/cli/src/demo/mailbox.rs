//! The demo's mailbox: a small SMTP receiver on 127.0.0.1 that keeps what it
//! is sent in memory, so `rapport demo` can show the emails its rules caused
//! without a mail server. Not for anything but the demo: no TLS, no auth, no
//! limits beyond a message size cap.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// Largest message kept; larger ones are refused with 552.
const MAX_MESSAGE: usize = 1 << 20;

/// One message as received.
#[derive(Debug, Clone)]
pub struct Mail {
    /// RCPT TO addresses.
    pub to: Vec<String>,
    /// Headers and body, dot-unstuffed.
    pub data: String,
}

impl Mail {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.data.split("\r\n\r\n").next()?.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// Everything after the headers.
    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("")
    }
}

/// A running mailbox.
#[derive(Clone)]
pub struct Mailbox {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Mailbox {
    /// Listens on a free port of 127.0.0.1 until the process ends.
    pub async fn start() -> std::io::Result<Mailbox> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let mailbox = Mailbox {
            addr: listener.local_addr()?,
            mails: Arc::default(),
        };
        let mails = mailbox.mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mails = mails.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-conversation loses its message; nothing to do.
                    let _ = converse(stream, mails).await;
                });
            }
        });
        Ok(mailbox)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mailbox lock").clone()
    }
}

async fn converse(stream: TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 rapport-demo mailbox\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-rapport-demo\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "MAIL" => {
                to.clear();
                b"250 ok\r\n"
            }
            "RCPT" => {
                let addr = command
                    .split_once(':')
                    .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_owned())
                    .unwrap_or_default();
                to.push(addr);
                b"250 ok\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 ok\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                let Some(data) = data else {
                    write.write_all(b"552 message too large\r\n").await?;
                    continue;
                };
                let number = {
                    let mut mails = mails.lock().expect("mailbox lock");
                    mails.push(Mail {
                        to: std::mem::take(&mut to),
                        data,
                    });
                    mails.len()
                };
                let reply = format!("250 ok queued as demo-{number}\r\n");
                write.write_all(reply.as_bytes()).await?;
                continue;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads DATA lines up to the lone dot; None when the message is too large
/// (it is still read to the end so the conversation can go on).
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut R,
) -> std::io::Result<Option<String>> {
    let mut data = String::new();
    let mut too_large = false;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == ".\r\n" || line == ".\n" {
            break;
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(&line);
        if data.len() + unstuffed.len() > MAX_MESSAGE {
            too_large = true;
        } else {
            data.push_str(unstuffed);
        }
    }
    Ok((!too_large).then(|| data.trim_end_matches("\r\n").to_owned()))
}

#[cfg(test)]
mod tests;
