//! Rules a Windows host already has: a block policy never overrides an allow rule, so where Remote
//! Desktop or WinRM was turned on, Windows' own rules keep 3389 or 5985 open to any address next to
//! fwtopo's admin-only rule. Both Windows exports disable the built-in remote access rules that open
//! a port the design restricts, and list every other enabled inbound allow rule they did not make.
//!
//! Built-in rules are found by their stable rule name (`Get-NetFirewallRule -Name`), which is the
//! same in every language: netsh can select a rule only by `name=`, its display name, which Windows
//! translates ("Windows-Remoteverwaltung (HTTP eingehend)"), and a group by its translated display
//! group. So the .cmd export runs these commands through `powershell -NoProfile -Command`: the
//! NetSecurity cmdlets and PowerShell 3 or later are part of Windows Server 2012 and later, and
//! `Where-Object -Property ... -In` (PowerShell 3) matches every name without an error for a rule
//! a server does not have (OpenSSH not installed), so a failure still means a failure.
//!
//! The rollback of both exports imports the backup taken before fwtopo's first run, which brings
//! these rules back as they were.

use super::Export;
use crate::ports::Protocol;

/// A rule Windows ships that allows one port from any address once its feature is turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BuiltIn {
    /// The stable rule name.
    pub name: &'static str,
    pub protocol: Protocol,
    pub port: u16,
}

const fn tcp(name: &'static str, port: u16) -> BuiltIn {
    BuiltIn {
        name,
        protocol: Protocol::Tcp,
        port,
    }
}

/// The built-in remote access rules: Remote Desktop (and its WebSocket transports), WinRM over
/// HTTP (and its compatibility listener on 80), and the OpenSSH server's rule. The `-NoScope` and
/// `-PUBLIC` variants are the same service for other profiles (Windows Server has `-NoScope` for
/// Domain and Private, clients `-PUBLIC` for Public).
pub(super) const REMOTE_ACCESS: [BuiltIn; 10] = [
    tcp("RemoteDesktop-UserMode-In-TCP", 3389),
    BuiltIn {
        name: "RemoteDesktop-UserMode-In-UDP",
        protocol: Protocol::Udp,
        port: 3389,
    },
    tcp("RemoteDesktop-In-TCP-WS", 3387),
    tcp("RemoteDesktop-In-TCP-WSS", 3392),
    tcp("WINRM-HTTP-In-TCP", 5985),
    tcp("WINRM-HTTP-In-TCP-NoScope", 5985),
    tcp("WINRM-HTTP-In-TCP-PUBLIC", 5985),
    tcp("WINRM-HTTP-Compat-In-TCP", 80),
    tcp("WINRM-HTTP-Compat-In-TCP-NoScope", 80),
    tcp("OpenSSH-Server-In-TCP", 22),
];

/// The built-in rules to disable on this node: those whose port the design does not open to any
/// address (it opens it to some peers, or not at all). `None` when the node has no management
/// rule: then the built-in remote access rules may be the operator's only way in, and stay.
pub(super) fn to_disable(x: &Export) -> Option<Vec<BuiltIn>> {
    let inbound = x.inbound();
    if !inbound.iter().any(|r| r.is_management()) {
        return None;
    }
    let open_to_any = |b: &BuiltIn| {
        inbound
            .iter()
            .any(|r| r.peers.is_any() && r.protocol == b.protocol && r.ports.contains(b.port))
    };
    Some(
        REMOTE_ACCESS
            .iter()
            .filter(|b| !open_to_any(b))
            .copied()
            .collect(),
    )
}

/// The PowerShell pipeline that disables these rules (the same text in both exports).
pub(super) fn disable_command(rules: &[BuiltIn]) -> String {
    let names: Vec<String> = rules.iter().map(|b| format!("'{}'", b.name)).collect();
    format!(
        "Get-NetFirewallRule | Where-Object -Property Name -In -Value {} | Disable-NetFirewallRule",
        names.join(",")
    )
}

/// The PowerShell pipeline that lists the enabled inbound allow rules fwtopo did not make (every
/// rule fwtopo makes has a display name starting `fwtopo-`).
pub(super) const LIST_OTHERS: &str = "Get-NetFirewallRule -Direction Inbound -Enabled True -Action Allow | Where-Object -Property DisplayName -NotLike -Value 'fwtopo-*' | Format-Table -Property Name,DisplayName,Profile -AutoSize";

/// What both exports say before the disabling command, as comment text.
pub(super) fn explain(rules: Option<&[BuiltIn]>) -> Vec<String> {
    let Some(rules) = rules else {
        return vec![
            "none: this node has no management rule, so the built-in Remote Desktop, WinRM and SSH"
                .into(),
            "rules stay as they are (they may be the only way in). Review them in wf.msc.".into(),
        ];
    };
    if rules.is_empty() {
        return vec!["none: this design opens each of their ports to any address.".into()];
    }
    let mut v = vec![
        "A block policy never overrides an allow rule: where Remote Desktop or WinRM was turned on,"
            .to_string(),
        "these built-in rules keep their port open to any address next to the rules above. Those whose"
            .into(),
        "port this design opens only to some addresses, or not at all, are disabled by their stable"
            .into(),
        "name (the same in every language; a rule the server lacks is skipped). The rollback's import"
            .into(),
        "of the backup turns them back on. Disabled here:".into(),
    ];
    for chunk in rules.chunks(2) {
        let items: Vec<String> = chunk
            .iter()
            .map(|b| format!("{} ({} {})", b.name, b.protocol.as_str(), b.port))
            .collect();
        v.push(format!("  {}", items.join(", ")));
    }
    v
}
