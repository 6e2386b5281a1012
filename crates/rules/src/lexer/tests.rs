use super::*;

fn toks(src: &str) -> Vec<Tok> {
    tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
}

#[test]
fn numbers() {
    assert_eq!(
        toks(".5 1 0x1F 2u 0xFFu 1.5 1e3 2E-2"),
        vec![
            Tok::Double(0.5),
            Tok::Int(1),
            Tok::Int(31),
            Tok::Uint(2),
            Tok::Uint(255),
            Tok::Double(1.5),
            Tok::Double(1000.0),
            Tok::Double(0.02),
            Tok::Eof
        ]
    );
}

#[test]
fn selection_after_identifier_is_not_a_number() {
    assert_eq!(
        toks("a.b"),
        vec![
            Tok::Ident("a".into()),
            Tok::Dot,
            Tok::Ident("b".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn strings_and_escapes() {
    assert_eq!(
        toks(r#"'a\n' "b\"c" r'\n' '\x41\u00e9\101' '''x'y'''"#),
        vec![
            Tok::Str("a\n".into()),
            Tok::Str("b\"c".into()),
            Tok::Str("\\n".into()),
            Tok::Str("AéA".into()),
            Tok::Str("x'y".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn operators_and_comments() {
    assert_eq!(
        toks("a<=b && !c // comment\n|| d != e"),
        vec![
            Tok::Ident("a".into()),
            Tok::Le,
            Tok::Ident("b".into()),
            Tok::AndAnd,
            Tok::Bang,
            Tok::Ident("c".into()),
            Tok::OrOr,
            Tok::Ident("d".into()),
            Tok::NotEq,
            Tok::Ident("e".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn errors_point_at_the_token() {
    let e = tokenize("a = b").unwrap_err();
    assert_eq!(e.offset, 2);
    assert!(tokenize("'open").is_err());
    assert!(tokenize("99999999999999999999").is_err());
    assert!(tokenize("12abc").is_err());
    assert!(tokenize("'\\q'").is_err());
    assert!(tokenize("b'x'").is_err());
    assert!(tokenize("while").is_err());
    assert!(tokenize("1e").is_err());
    assert!(tokenize("#").is_err());
}
