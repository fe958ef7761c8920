//! The probe scripts print the flows' services (the site's own flows carry the hostile name) as
//! data, not in comments: hostile text must stay inside one single-quoted string.

use super::*;

/// A probe script's lines without comments, each single-quoted string (bash `'...'`, PowerShell
/// `'...'` with `''` inside) replaced by `'S'`: what is left is what the script does.
fn unquoted(powershell: bool, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut kept = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    loop {
                        match chars.next() {
                            None => panic!("unterminated string in {line}"),
                            Some('\'') if powershell && chars.peek() == Some(&'\'') => {
                                chars.next();
                            }
                            Some('\'') => break,
                            Some(_) => {}
                        }
                    }
                    kept.push_str("'S'");
                }
                '\\' if !powershell => {
                    kept.push(c);
                    kept.extend(chars.next());
                }
                _ => kept.push(c),
            }
        }
        out.push(kept);
    }
    out
}

#[test]
fn hostile_text_stays_in_quoted_strings_in_probe_scripts() {
    // The probe scripts print flows' services (the site's own flows carry the hostile name)
    // as data, not comments: each must stay one quoted string.
    let catalog = catalog();
    let (bad, good) = (hostile(), benign());
    let (mut compared, mut carried, mut windows_carried) = (0, 0, 0);
    // The site with its own flows once more with Windows nodes: PowerShell prints them too.
    let mut all = examples();
    if let Some((_, t)) = all.iter().find(|(s, _)| s == "real-site") {
        let mut t = t.clone();
        for n in &mut t.nodes {
            n.os = fwtopo::topology::Os::WindowsServer2022;
            n.firewall = None;
        }
        all.push(("real-site-windows".into(), t));
    }
    for (stem, example) in all {
        let hostile_t = with_text(&example, &bad);
        let benign_t = with_text(&example, &good);
        let catalog = fwtopo::topology::site_catalog(&catalog, &example);
        for node in &example.nodes {
            let windows = node.os.is_windows();
            let options = Options {
                egress: Egress::Strict,
                crlf: windows,
            };
            let ctx = format!("{stem} {} probe", node.name);
            let b = render_all(&catalog, &benign_t, &node.name, Target::Probe, options);
            let h = render_all(&catalog, &hostile_t, &node.name, Target::Probe, options);
            assert_eq!(unquoted(windows, &b), unquoted(windows, &h), "{ctx}");
            assert!(
                !unquoted(windows, &h).iter().any(|l| l.contains("PWNED")),
                "{ctx}: hostile text outside a string"
            );
            for line in h.split('\n') {
                let line = if windows {
                    line.strip_suffix('\r').unwrap_or(line)
                } else {
                    line
                };
                assert!(
                    line.chars().all(|c| (' '..='~').contains(&c)),
                    "{ctx}: non-ASCII or control character: {line}"
                );
            }
            let prints = h
                .lines()
                .any(|l| !l.starts_with('#') && l.contains("PWNED"));
            carried += usize::from(prints);
            windows_carried += usize::from(prints && windows);
            compared += 1;
        }
    }
    eprintln!(
        "hostile_names: compared {compared} probe scripts ({carried} print hostile text, {windows_carried} in PowerShell)"
    );
    assert!(
        compared > 30 && carried > 0 && windows_carried > 0,
        "{compared} {carried} {windows_carried}"
    );
}
