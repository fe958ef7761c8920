//! apf export (to be written).

use super::Export;

pub fn render(x: &Export) -> String {
    let _ = x;
    String::new()
}
