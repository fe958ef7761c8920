//! Saving over the designer's own file: asking before replacing another hand's changes
//! (overwrite, reload, save elsewhere) and before dropping the file's comments (once).

use super::render::{render, text};
use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{App, ConfirmKind, Modal, Purpose};
use crate::tui::effect::{Effect, Replace};
use crate::tui::keymap::{Ctx, lookup};
use fwtopo::files::OnDisk;
use fwtopo::topology::to_ron;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;

fn site() -> PathBuf {
    PathBuf::from("site.ron")
}

/// The save effect Save gives now, as it would write the topology.
fn save_of(app: &App, path: &str, replace: Replace) -> Effect {
    Effect::Save {
        path: PathBuf::from(path),
        text: to_ron(&app.topology),
        replace,
    }
}

#[test]
fn another_hands_changes_are_replaced_only_on_request() {
    let mut app = example_app();
    let opened = OnDisk::of(b"(version: 1) as opened");
    app.disk = Some(opened);
    run(&mut app, [A::ToggleManagement]);
    // The save carries the file as it was opened, for the loop to compare.
    let fx = run(&mut app, [A::Save]);
    assert_eq!(
        fx,
        [save_of(&app, "site.ron", Replace::AsKnown(Some(opened)))]
    );
    run(&mut app, [A::ChangedOnDisk(site())]);
    let asking = Some(Modal::Confirm(ConfirmKind::ChangedOnDisk(site())));
    assert_eq!(app.modal, asking);
    let shown = text(&render(&mut app, 120, 40));
    for words in ["changed on disk", "overwrite", "reload", "save elsewhere"] {
        assert!(shown.contains(words), "{words}:\n{shown}");
    }
    // Other keys leave the question open; the answers are the keymap's.
    assert!(run(&mut app, [A::Down, A::SaveFirst]).is_empty());
    let key = |c| {
        lookup(
            Ctx::Confirm,
            &KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        )
    };
    assert_eq!(
        [key('y'), key('r'), key('e'), key('n')],
        [Some(A::Yes), Some(A::Reload), Some(A::SaveAs), Some(A::No)]
    );

    // Overwrite: a save that replaces whatever is there.
    run(&mut app, [A::Save, A::ChangedOnDisk(site())]);
    assert_eq!(
        run(&mut app, [A::Yes]),
        [save_of(&app, "site.ron", Replace::Anything)]
    );

    // Cancel: nothing written, the work stays unsaved, a quit waiting for the save is off.
    run(&mut app, [A::Quit, A::SaveFirst, A::ChangedOnDisk(site())]);
    assert!(app.quit_after_save);
    assert!(run(&mut app, [A::No]).is_empty());
    assert!(app.modal.is_none() && app.dirty() && !app.quit_after_save);
    let status = app.status.clone().unwrap().text;
    assert!(
        status.starts_with("not saved: site.ron changed on disk"),
        "{status}"
    );

    // Save elsewhere: the file name prompt, then a save that replaces no other file.
    run(&mut app, [A::Save, A::ChangedOnDisk(site())]);
    assert!(run(&mut app, [A::SaveAs]).is_empty());
    assert!(matches!(&app.modal, Some(Modal::Input(s)) if s.purpose == Purpose::SaveAs));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("mine.ron"));
    assert_eq!(
        run(&mut app, [A::Activate]),
        [save_of(&app, "mine.ron", Replace::Nothing)]
    );

    // Reload: their file replaces the work; the next save compares with it.
    run(&mut app, [A::Save, A::ChangedOnDisk(site())]);
    assert_eq!(run(&mut app, [A::Reload]), [Effect::Load { path: site() }]);
    let theirs = OnDisk::of(b"(version: 1) theirs");
    let mut t = app.topology.clone();
    t.nodes.truncate(2);
    run(
        &mut app,
        [A::Loaded {
            path: site(),
            result: Ok((t, theirs)),
        }],
    );
    assert_eq!((app.topology.nodes.len(), app.dirty()), (2, false));
    run(&mut app, [A::ToggleManagement]);
    assert_eq!(
        run(&mut app, [A::Save]),
        [save_of(&app, "site.ron", Replace::AsKnown(Some(theirs)))]
    );
    // Once saved, the file as written is what the next save compares with.
    let written = OnDisk::of(to_ron(&app.topology).as_bytes());
    run(
        &mut app,
        [A::Saved {
            path: site(),
            result: Ok(written),
        }],
    );
    assert_eq!(app.disk, Some(written));
}

#[test]
fn a_save_that_drops_comments_asks_once() {
    let mut app = example_app();
    let commented = OnDisk::of(b"// one\n(version: 1, /* two */)\n");
    assert_eq!(commented.comments, 2);
    app.disk = Some(commented);
    run(&mut app, [A::ToggleManagement]);
    assert!(run(&mut app, [A::Save]).is_empty(), "nothing written yet");
    assert_eq!(
        app.modal,
        Some(Modal::Confirm(ConfirmKind::DropComments {
            path: site(),
            count: 2
        }))
    );
    let shown = text(&render(&mut app, 120, 40));
    assert!(
        shown.contains("2 comments") && shown.contains("note:"),
        "{shown}"
    );
    // No: nothing written, and the status says where comments can go.
    assert!(run(&mut app, [A::No]).is_empty());
    let status = app.status.clone().unwrap().text;
    assert!(
        status.contains("2 comments") && status.contains("note:"),
        "{status}"
    );
    // Yes: the save goes ahead (still comparing with the file as opened) ...
    run(&mut app, [A::Save]);
    let agreed = OnDisk {
        comments: 0,
        ..commented
    };
    assert_eq!(
        run(&mut app, [A::Yes]),
        [save_of(&app, "site.ron", Replace::AsKnown(Some(agreed)))]
    );
    // ... and is not asked about again, before or after it is written.
    assert_eq!(run(&mut app, [A::Save]).len(), 1);
    let written = OnDisk::of(to_ron(&app.topology).as_bytes());
    assert_eq!(written.comments, 0, "a saved file has no comments");
    run(
        &mut app,
        [A::Saved {
            path: site(),
            result: Ok(written),
        }],
    );
    run(&mut app, [A::ToggleManagement]);
    assert_eq!(run(&mut app, [A::Save]).len(), 1);
    // Saving to another file drops nothing of this one: no question.
    app.disk = Some(commented);
    run(&mut app, [A::SaveAs, A::ClearLine]);
    run(&mut app, typed("copy.ron"));
    assert_eq!(
        run(&mut app, [A::Activate]),
        [save_of(&app, "copy.ron", Replace::Nothing)]
    );
    // Save As to the same file is a save of it: asked.
    app.path = Some(site());
    run(&mut app, [A::SaveAs, A::ClearLine]);
    run(&mut app, typed("site.ron"));
    assert!(run(&mut app, [A::Activate]).is_empty());
    assert!(matches!(
        app.modal,
        Some(Modal::Confirm(ConfirmKind::DropComments { .. }))
    ));
    // Save and quit, declined: the quit waits no more.
    run(&mut app, [A::Close, A::Quit, A::SaveFirst]);
    assert!(matches!(
        app.modal,
        Some(Modal::Confirm(ConfirmKind::DropComments { .. }))
    ));
    run(&mut app, [A::No]);
    assert!(!app.quit_after_save);
}

#[test]
fn recovered_work_is_compared_with_its_file_as_it_is_now() {
    let mut app = example_app();
    let now = OnDisk::of(b"(version: 1) now");
    let t = app.topology.clone();
    run(
        &mut app,
        [A::Recovered {
            original: Some(site()),
            result: Ok(t),
            disk: Some(now),
            baseline: None,
        }],
    );
    assert!(app.dirty());
    assert_eq!(
        run(&mut app, [A::Save]),
        [save_of(&app, "site.ron", Replace::AsKnown(Some(now)))]
    );
}
