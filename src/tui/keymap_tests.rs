//! The keymap's own tests: one action per key and context, typing in dialogs, hints and help
//! generated from the table.

use super::*;

fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, m)
}

#[test]
fn no_key_is_bound_twice_in_one_context() {
    for (i, a) in KEYMAP.iter().enumerate() {
        for bnd in &KEYMAP[i + 1..] {
            if a.ctx == bnd.ctx {
                for k in a.keys {
                    assert!(!bnd.keys.contains(k), "{k} twice in {:?}", a.ctx);
                }
            }
        }
    }
}

#[test]
fn arrows_and_vim_keys() {
    let none = KeyModifiers::NONE;
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Char('j'), none)),
        Some(Action::Down)
    );
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Down, none)),
        Some(Action::Down)
    );
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Action::Bottom)
    );
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Char('s'), KeyModifiers::CONTROL)),
        Some(Action::Save)
    );
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(Action::FocusPrev)
    );
}

#[test]
fn dialogs_type_text_instead_of_running_commands() {
    let none = KeyModifiers::NONE;
    assert_eq!(
        lookup(Ctx::Input, &key(KeyCode::Char('q'), none)),
        Some(Action::Char('q'))
    );
    assert_eq!(
        lookup(Ctx::Picker, &key(KeyCode::Char('j'), none)),
        Some(Action::Char('j'))
    );
    assert_eq!(
        lookup(Ctx::Picker, &key(KeyCode::Down, none)),
        Some(Action::Down)
    );
    assert_eq!(lookup(Ctx::Confirm, &key(KeyCode::Char('q'), none)), None);
    assert_eq!(
        lookup(Ctx::Input, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Close)
    );
}

#[test]
fn what_dialogs_and_panes_handle_is_bound() {
    let none = KeyModifiers::NONE;
    for (code, want) in [
        (KeyCode::Home, Action::Top),
        (KeyCode::End, Action::Bottom),
        (KeyCode::Char('g'), Action::Top),
        (KeyCode::PageUp, Action::PageUp),
        (KeyCode::PageDown, Action::PageDown),
    ] {
        assert_eq!(lookup(Ctx::Os, &key(code, none)), Some(want));
    }
    assert_eq!(
        lookup(Ctx::Os, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Action::Bottom)
    );
    assert_eq!(
        lookup(Ctx::Rules, &key(KeyCode::Char('a'), none)),
        Some(Action::Add)
    );
    // The export preview scrolls sideways; targets are on [ and ].
    assert_eq!(
        lookup(Ctx::Export, &key(KeyCode::Right, none)),
        Some(Action::ScrollRight)
    );
    assert_eq!(
        lookup(Ctx::Export, &key(KeyCode::Char('h'), none)),
        Some(Action::ScrollLeft)
    );
    assert_eq!(
        lookup(Ctx::Export, &key(KeyCode::Char(']'), none)),
        Some(Action::NextTarget)
    );
}

#[test]
fn hints_and_help_come_from_the_table() {
    let h = hints(Ctx::Nodes);
    assert!(h.iter().any(|x| x.key == "a" && x.label == "add a node"));
    assert!(h.iter().any(|x| x.key == "?" && x.label == "help"));
    let e = hints(Ctx::Export);
    assert_eq!(
        e.iter().filter(|x| x.key == "y").count(),
        1,
        "the export screen's own y wins: {e:?}"
    );
    let sections = help_sections();
    let total: usize = sections.iter().map(|(_, l)| l.len()).sum();
    assert_eq!(total, KEYMAP.len());
    assert!(
        sections.iter().any(|(t, _)| *t == "Rules"),
        "every pane has its section"
    );
}

/// Issue 15.6: the help (and the message log) scroll like the panes; M opens the log anywhere.
#[test]
fn the_help_scrolls_with_page_and_end_keys() {
    let none = KeyModifiers::NONE;
    let ctrl = KeyModifiers::CONTROL;
    for (k, m, want) in [
        (KeyCode::Char('d'), ctrl, Action::PageDown),
        (KeyCode::Char('u'), ctrl, Action::PageUp),
        (KeyCode::Char('G'), KeyModifiers::SHIFT, Action::Bottom),
        (KeyCode::Char('g'), none, Action::Top),
        (KeyCode::Char('M'), KeyModifiers::SHIFT, Action::Close),
    ] {
        assert_eq!(lookup(Ctx::Help, &key(k, m)), Some(want), "{k:?}");
    }
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Char('M'), KeyModifiers::SHIFT)),
        Some(Action::Messages)
    );
}

/// Issue 17: the changes screen is on 6 and D everywhere; enter there goes to the change.
#[test]
fn the_changes_screen_has_its_keys() {
    for (k, m) in [
        (KeyCode::Char('6'), KeyModifiers::NONE),
        (KeyCode::Char('D'), KeyModifiers::SHIFT),
    ] {
        for ctx in [Ctx::Nodes, Ctx::Rules, Ctx::Findings, Ctx::Export] {
            assert_eq!(
                lookup(ctx, &key(k, m)),
                Some(Action::Show(Screen::Changes)),
                "{k:?} in {ctx:?}"
            );
        }
    }
    assert_eq!(
        lookup(Ctx::Changes, &key(KeyCode::Enter, KeyModifiers::NONE)),
        Some(Action::Activate)
    );
    // d still deletes in the lists.
    assert_eq!(
        lookup(Ctx::Nodes, &key(KeyCode::Char('d'), KeyModifiers::NONE)),
        Some(Action::Delete)
    );
}
