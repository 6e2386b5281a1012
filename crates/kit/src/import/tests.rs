use rapport_proto::v1::RowError;

use super::*;

fn options() -> RowOptions {
    RowOptions {
        source: "erp".to_owned(),
        now: Utc::now(),
    }
}

/// Feeds `text` in pieces of `chunk` bytes, sending nothing: the batches
/// (their lines) and the summary.
fn run(text: &str, chunk: usize, batch: usize) -> (Vec<Vec<u64>>, ImportSummary) {
    let mut import = Import::new(Customers(options()), batch, usize::MAX, 1 << 20, 100);
    let mut batches = Vec::new();
    for piece in text.as_bytes().chunks(chunk) {
        let mut input = piece;
        while let Some(b) = import.feed(&mut input).unwrap() {
            batches.push(b.lines);
        }
    }
    while let Some(b) = import.finish().unwrap() {
        batches.push(b.lines);
    }
    (batches, import.summary)
}

#[test]
fn rows_come_out_whole_whatever_the_chunks() {
    let text = "\u{feff}Customer_ID , name,kind\nC1,\"Ada\nLovelace\",person\r\nC2, Bob ,alien\nC3,\"Cy, \"\"the\"\" third\",\nC4,Di,business";
    for chunk in [1, 2, 3, 7, 1000] {
        let (batches, summary) = run(text, chunk, 2);
        // C2 is refused (its kind), so C1 and C3 make one batch, C4 the next;
        // lines are where each row starts, C1's quoted newline counted.
        assert_eq!(batches, vec![vec![2, 5], vec![6]], "chunk {chunk}");
        assert_eq!(summary.rows, 4);
        assert_eq!(summary.rejected_rows(), 1);
        assert_eq!(summary.rejected[0].line, 4);
        assert_eq!(summary.rejected[0].field, "kind");
    }
}

#[test]
fn fields_are_read_trimmed_with_quotes_undone() {
    let mut feed = Feed::new(1 << 10);
    let mut input = &b"a , \"b\" ,\"b,\n\"\"c\"\"\",d\n"[..];
    let (line, record) = feed.next(&mut input, false).unwrap().unwrap();
    assert_eq!(line, 1);
    // A quote opens a quoted field only as its first character.
    assert_eq!(record, ["a", "\"b\"", "b,\n\"c\"", "d"]);
    assert_eq!(feed.next(&mut input, true).unwrap(), None);
}

#[test]
fn a_bad_file_says_where() {
    let missing = Import::new(Transactions(options()), 10, usize::MAX, 1 << 10, 10)
        .feed(&mut &b"transaction_id,customer_id\n"[..])
        .expect_err("refused");
    assert_eq!(
        missing.to_string(),
        "the header row has no `occurred_at` column"
    );
    let mut import = Import::new(Customers(options()), 10, usize::MAX, 1 << 10, 10);
    let err = import
        .feed(&mut &b"customer_id,name\nC1,Ada\nC2\n"[..])
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "line 3: found a row with 1 fields, but the header has 2"
    );
    let mut import = Import::new(Customers(options()), 10, usize::MAX, 16, 10);
    let err = import
        .feed(&mut &b"customer_id,name\nC1,Ada Augusta King Lovelace\n"[..])
        .expect_err("refused");
    assert_eq!(err.to_string(), "line 2: a row over 16 bytes");
    let mut empty = Import::new(Customers(options()), 10, usize::MAX, 16, 10);
    assert!(matches!(
        empty.finish(),
        Err(ImportError::MissingColumn("customer_id"))
    ));
}

#[test]
fn batches_close_early_past_the_byte_limit() {
    let text = "customer_id,name\nC1,Ada\nC2,Bob\nC3,Cy\n";
    let mut import = Import::new(Customers(options()), 100, 40, 1 << 10, 10);
    let mut input = text.as_bytes();
    let mut batches = Vec::new();
    while let Some(b) = import.feed(&mut input).unwrap() {
        batches.push(b.lines);
    }
    while let Some(b) = import.finish().unwrap() {
        batches.push(b.lines);
    }
    assert!(batches.len() > 1, "{batches:?}");
    assert_eq!(batches.concat(), [2, 3, 4]);
}

#[test]
fn the_report_counts_rows_and_caps_its_list() {
    let mut s = ImportSummary::listing(2);
    s.reject_row(9, vec![("kind".into(), "bad".into())]);
    let outcome = BatchOutcome {
        stored: 1,
        rejected: vec![
            RowError {
                index: 1,
                field: "transactions[1].currency_code".into(),
                reason: "unknown".into(),
                ..RowError::default()
            },
            RowError {
                index: 1,
                field: "transactions[1].amount_decimal".into(),
                reason: "bad".into(),
                ..RowError::default()
            },
        ],
        ..BatchOutcome::default()
    };
    s.absorb(&outcome, &[7, 8]);
    assert_eq!(s.rejected_rows(), 2);
    let listed: Vec<(u64, &str)> = s
        .rejected
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(listed, [(8, "currency"), (9, "kind")]);
    assert!(s.rejected_truncated);
    assert_eq!((s.stored, s.last_line_stored), (1, 8));
}
