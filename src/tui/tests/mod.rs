//! Designer tests without a terminal: action sequences through `update`, and rendered buffers.

mod changes;
mod custom;
mod newcomer;
mod ownership;
pub(super) mod render;
mod save;
mod update;

use super::EXAMPLE;
use super::action::Action;
use super::app::App;
use super::effect::Effect;
use super::theme::Theme;
use fwtopo::catalog::Catalog;
use fwtopo::topology::from_ron;
use std::path::PathBuf;

/// The built-in example with the embedded catalog and built-in themes only (no user files), at 120×40.
pub fn example_app() -> App {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = from_ron(EXAMPLE).expect("the example loads");
    let themes = ["dark", "light", "high-contrast"]
        .iter()
        .map(|n| Theme::built_in(n).expect("built-in theme"))
        .collect();
    let mut app = App::new(catalog, t, Some(PathBuf::from("site.ron")), themes, 0);
    super::update::update(&mut app, Action::Resize(120, 40));
    app
}

/// Runs actions in order, collecting every effect.
pub fn run(app: &mut App, actions: impl IntoIterator<Item = Action>) -> Vec<Effect> {
    actions
        .into_iter()
        .flat_map(|a| super::update::update(app, a))
        .collect()
}

/// Typing a string, one character at a time.
pub fn typed(s: &str) -> Vec<Action> {
    s.chars().map(Action::Char).collect()
}
