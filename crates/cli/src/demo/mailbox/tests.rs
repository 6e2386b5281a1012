use super::*;

#[tokio::test]
async fn keeps_what_a_client_sends() {
    let mailbox = Mailbox::start().await.unwrap();
    let stream = TcpStream::connect(mailbox.addr()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = String::new();
    let mut say = async |text: &str| {
        if !text.is_empty() {
            write.write_all(text.as_bytes()).await.unwrap();
        }
        let mut last = String::new();
        loop {
            last.clear();
            lines.read_line(&mut last).await.unwrap();
            // Multi-line replies have a '-' after the code.
            if last.as_bytes().get(3) != Some(&b'-') {
                return last.clone();
            }
        }
    };
    reply.push_str(&say("").await);
    assert!(reply.starts_with("220"));
    assert!(say("EHLO client\r\n").await.starts_with("250"));
    assert!(
        say("MAIL FROM:<a@example.com>\r\n")
            .await
            .starts_with("250")
    );
    assert!(say("RCPT TO:<b@example.com>\r\n").await.starts_with("250"));
    assert!(say("DATA\r\n").await.starts_with("354"));
    let queued = say("Subject: Hello\r\n\r\nline one\r\n..dotted\r\n.\r\n").await;
    assert!(queued.starts_with("250 ok queued as demo-1"), "{queued}");
    assert!(say("QUIT\r\n").await.starts_with("221"));

    let mails = mailbox.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["b@example.com"]);
    assert_eq!(mails[0].header("subject"), Some("Hello"));
    assert_eq!(mails[0].body(), "line one\r\n.dotted");
}
