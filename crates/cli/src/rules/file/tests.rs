use super::*;

#[test]
fn a_full_rule_file_becomes_a_definition() {
    let def = parse(
        r#"
name = "appointment-reminder"
condition = "event.kind == 'appointment_booked'"
trigger = "event"
event_kinds = ["appointment_booked"]
holdout_percent = 0
[[actions]]
notify = { channel = "sms", template = "reminder", purpose = "transactional", before_event_property = "appointment_at", before = "24h" }
[[actions]]
tag = "booked"
[[actions]]
set_tier = "Gold"
[[actions]]
webhook = "crm"
"#,
    )
    .unwrap();
    assert_eq!(def.trigger, RuleTrigger::Event as i32);
    assert_eq!(def.event_kinds, ["appointment_booked"]);
    assert_eq!(def.actions.len(), 4);
    let Some(rule_action::Action::Notify(n)) = &def.actions[0].action else {
        panic!("first action is notify: {:?}", def.actions[0]);
    };
    assert_eq!(n.channel, Channel::Sms as i32);
    assert_eq!(n.purpose, Purpose::Transactional as i32);
    assert_eq!(n.before.as_ref().unwrap().seconds, 86_400);
    assert!(n.delay.is_none());
}

#[test]
fn mistakes_name_the_key() {
    let err = |text: &str| format!("{:#}", parse(text).unwrap_err());
    assert!(err("name = 'x'\ncondition = 'true'\ntrigger = 'hourly'").contains("trigger"));
    assert!(err("name = 'x'\ncondition = 'true'\ncolour = 'red'").contains("colour"));
    let bad_channel = err(
        "name = 'x'\ncondition = 'true'\n[[actions]]\nnotify = { channel = 'fax', template = 't' }",
    );
    assert!(
        bad_channel.contains("actions[0]") && bad_channel.contains("fax"),
        "{bad_channel}"
    );
    let bad_delay = err(
        "name = 'x'\ncondition = 'true'\n[[actions]]\nnotify = { channel = 'email', template = 't', delay = '3 weeks' }",
    );
    assert!(bad_delay.contains("notify.delay"), "{bad_delay}");
}
