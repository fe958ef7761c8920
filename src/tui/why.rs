//! "Can this reach that, and which rule says so?" in the designer: on the overview's selected cell
//! (a source row, a destination node column) `w` asks for one port and shows `fwtopo query`'s
//! answer, with the same words: the verdict per address family, the rule and the flows and
//! document sections behind it on both ends, and, when denied, what would allow it.

use super::app::{App, Modal, Purpose, Source};
use super::detail::Detail;
use super::update::open_input;
use fwtopo::ports::Protocol;
use fwtopo::query::{self, End, Question};

/// Opens the port prompt for the selected cell, filled with the cell's first allowed port.
pub fn open(app: &mut App) -> Result<(), String> {
    let from = app
        .overview_source(app.grid.row.sel)
        .ok_or("select a source row in the overview first")?;
    let to = app.grid.col.sel;
    if to >= app.topology.nodes.len() {
        return Err("select a destination node column in the overview first".into());
    }
    let first = app
        .cell(from, to)
        .and_then(|c| c.ports.first().cloned())
        .and_then(|line| {
            let (proto, ports) = line.split_once(' ')?;
            let port = ports.split([',', '-']).next()?;
            Some(format!("{proto}/{port}"))
        })
        .unwrap_or_default();
    open_input(app, Purpose::Query { from, to }, first);
    Ok(())
}

/// `443`, `tcp/443`, `udp 53`, `53/udp`: a port and its protocol (TCP when none is given).
pub fn parse_port(text: &str) -> Result<(Protocol, u16), String> {
    let words: Vec<&str> = text
        .split(|c: char| c == '/' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let proto = |w: &str| match w.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        _ => None,
    };
    let port = |w: &str| {
        w.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{} is not a port (1-65535)", fwtopo::user_text::quoted(w)))
    };
    match words[..] {
        [p] => Ok((Protocol::Tcp, port(p)?)),
        [a, b] => match (proto(a), proto(b)) {
            (Some(pr), _) => Ok((pr, port(b)?)),
            (None, Some(pr)) => Ok((pr, port(a)?)),
            _ => Err("give a port, optionally with tcp or udp: 443, udp/53".into()),
        },
        _ => Err("give a port, optionally with tcp or udp: 443, udp/53".into()),
    }
}

/// Answers the prompt: the answer opens in the detail view (scrollable, as `v` shows a row).
pub fn submit(app: &mut App, from: Source, to: usize, text: &str) -> Result<(), String> {
    let (protocol, port) = parse_port(text.trim())?;
    let from_end = match from {
        Source::Any => End::Any,
        Source::Zone(i) => End::Zone(i),
        Source::Host(i) => End::Host(i),
        Source::Node(i) => End::Node(i),
    };
    if to >= app.topology.nodes.len() {
        return Err("the destination node is gone".into());
    }
    let q = Question {
        from: from_end,
        to: End::Node(to),
        protocol,
        port,
        egress: app.egress,
    };
    let answer = query::ask(&app.catalog, &app.topology, &app.plan, &q);
    let text = query::text::answer(&answer);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let verdict = if answer.allowed {
        "allowed"
    } else {
        "NOT allowed"
    };
    lines.push(String::new());
    lines.push(format!(
        "The same answer on the command line: fwtopo query FILE --from {} --to {} --port {port} --proto {}{}",
        cli_end(app, from),
        app.topology.nodes[to].name,
        protocol.as_str(),
        if app.egress == fwtopo::export::Egress::Strict {
            " --egress strict"
        } else {
            ""
        }
    ));
    let title = format!(
        "Why: {} → {} {}/{port}: {verdict}",
        app.source_name(from),
        app.topology.nodes[to].name,
        protocol.as_str()
    );
    app.modal = Some(Modal::Detail {
        detail: Detail { title, lines },
        scroll: 0,
    });
    Ok(())
}

/// How the source is typed after `--from`.
fn cli_end(app: &App, s: Source) -> String {
    let t = &app.topology;
    match s {
        Source::Any => "any".into(),
        Source::Zone(i) => t.zones.get(i).map_or(String::new(), |z| z.name.clone()),
        Source::Host(i) => t
            .external_hosts
            .get(i)
            .map_or(String::new(), |h| h.name.clone()),
        Source::Node(i) => t.nodes.get(i).map_or(String::new(), |n| n.name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_with_or_without_their_protocol() {
        assert_eq!(parse_port("443"), Ok((Protocol::Tcp, 443)));
        assert_eq!(parse_port("tcp/22"), Ok((Protocol::Tcp, 22)));
        assert_eq!(parse_port("udp 53"), Ok((Protocol::Udp, 53)));
        assert_eq!(parse_port("53/UDP"), Ok((Protocol::Udp, 53)));
        assert!(parse_port("0").unwrap_err().contains("not a port"));
        assert!(parse_port("70000").is_err());
        assert!(parse_port("icmp/8").is_err());
        assert!(parse_port("").is_err());
        assert!(parse_port("tcp 1 2").is_err());
    }
}
