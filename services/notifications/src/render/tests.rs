use std::collections::BTreeSet;

use super::*;

fn data(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn renders_known_fields_with_filters() {
    let t = parse(
        "Hi {{ customer.first_name }}, {{customer.attributes.region | default: \"there\"}}! \
         #{{ data.order_number | upper }} {{ score.tier | default: \"none\" }}",
        &data(&["order_number"]),
    )
    .unwrap();
    let mut v = Values::default();
    v.customer.insert("first_name".into(), "Ada".into());
    v.data.insert("order_number".into(), "ab-1".into());
    assert_eq!(t.render(&v), "Hi Ada, there! #AB-1 none");
    assert_eq!(t.fields().count(), 4);
}

#[test]
fn rendering_stops_past_the_limit() {
    let t = parse("{{ data.x }}{{ data.x }}{{ data.x }}", &data(&["x"])).unwrap();
    let mut v = Values::default();
    v.data.insert("x".into(), "abcd".into());
    assert_eq!(t.render_within(&v, 12).as_deref(), Ok("abcdabcdabcd"));
    assert_eq!(t.render_within(&v, 11), Err(11));
    assert_eq!(t.render_within(&v, 0), Err(0));
}

#[test]
fn refuses_bad_templates_with_positions() {
    let none = data(&[]);
    let e = parse("Hello\n  {{ customer.shoe_size }}", &none).unwrap_err();
    assert_eq!(e, "unknown field customer.shoe_size at line 2, column 3");
    for (template, message) in [
        ("{{ customer.email ", "unclosed tag at line 1, column 1"),
        ("{{ customer.email | shout }}", "unknown filter"),
        ("{{ customer.attributes.region }}", "needs a default"),
        ("{{ data.order }}", "required data"),
    ] {
        let e = parse(template, &none).unwrap_err();
        assert!(e.contains(message), "{template}: {e}");
    }
    assert!(parse("{{ }}", &none).is_err());
    assert!(parse("{{ customer.email | default: there }}", &none).is_err());
    assert!(parse("plain text only", &none).is_ok());
}
