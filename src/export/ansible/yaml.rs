//! YAML text that no user text can break out of: double-quoted ASCII scalars and Ansible group
//! names.

use std::fmt::Write;

/// A YAML double-quoted scalar, ASCII only: `"` and `\` escaped, every control and non-ASCII
/// character written as an escape, so no text can end the string, start a key, or carry a line
/// break (YAML also breaks lines at U+0085, U+2028 and U+2029).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            ' '..='~' => out.write_char(c),
            c if u32::from(c) <= 0xFF => write!(out, "\\x{:02X}", u32::from(c)),
            c if u32::from(c) <= 0xFFFF => write!(out, "\\u{:04X}", u32::from(c)),
            c => write!(out, "\\U{:08X}", u32::from(c)),
        };
    }
    out.push('"');
    out
}

/// A text Ansible must never template (`{{ }}` in a note is data, not code): tagged `!unsafe`.
pub fn unsafe_text(s: &str) -> String {
    format!("!unsafe {}", quote(s))
}

/// An Ansible group name for an id: letters, digits and `_` only (Ansible's rule), behind a
/// prefix, so `plesk-automation` becomes `fwtopo_product_plesk_automation`.
pub fn group_name(prefix: &str, id: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + id.len() + 1);
    out.push_str(prefix);
    out.push('_');
    out.extend(id.chars().map(|c| match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => c,
        _ => '_',
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_one_ascii_line_that_cannot_close_early() {
        let q = quote("a\"b\\c\nd\re\u{2028}f\u{85}g\u{1F525}: #x");
        assert_eq!(
            q,
            "\"a\\\"b\\\\c\\x0Ad\\x0De\\u2028f\\x85g\\U0001F525: #x\""
        );
        assert!(q.is_ascii() && !q.contains('\n'));
    }

    #[test]
    fn group_names_use_only_what_ansible_allows() {
        assert_eq!(
            group_name("fwtopo_role", "plesk-automation/sn-apache"),
            "fwtopo_role_plesk_automation_sn_apache"
        );
        assert_eq!(group_name("g", "a.b c"), "g_a_b_c");
    }
}
