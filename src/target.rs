//! Export targets: the firewall a node's rules are written for.

use std::fmt;

/// One export format, named as the operator types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Nftables,
    Iptables,
    Firewalld,
    Ufw,
    Csf,
    Apf,
    Netsh,
    Powershell,
    /// Not a firewall: a script run on the node after deploying that tries every flow the node
    /// should reach (bash on Linux, PowerShell on Windows). Never a node's `firewall`, never
    /// picked by `--target auto`.
    Probe,
}

impl Target {
    /// The firewalls: what a node's `firewall` may name and the designer cycles through.
    pub const ALL: [Target; 8] = [
        Target::Nftables,
        Target::Iptables,
        Target::Firewalld,
        Target::Ufw,
        Target::Csf,
        Target::Apf,
        Target::Netsh,
        Target::Powershell,
    ];

    /// Everything `fwtopo export --target` writes: the firewalls, then the probe script.
    pub const EXPORTS: [Target; 9] = [
        Target::Nftables,
        Target::Iptables,
        Target::Firewalld,
        Target::Ufw,
        Target::Csf,
        Target::Apf,
        Target::Netsh,
        Target::Powershell,
        Target::Probe,
    ];

    /// An export target by name: a firewall ([`FromStr`](std::str::FromStr)) or `probe`.
    pub fn export_named(s: &str) -> Result<Target, String> {
        match s {
            "probe" => Ok(Target::Probe),
            _ => s.parse(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Nftables => "nftables",
            Target::Iptables => "iptables",
            Target::Firewalld => "firewalld",
            Target::Ufw => "ufw",
            Target::Csf => "csf",
            Target::Apf => "apf",
            Target::Netsh => "netsh",
            Target::Powershell => "powershell",
            Target::Probe => "probe",
        }
    }

    /// Whether the target runs on Windows (and so wants ASCII, CRLF-able, cmd or PowerShell text).
    pub fn is_windows(self) -> bool {
        matches!(self, Target::Netsh | Target::Powershell)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown firewall {} (expected one of: {})",
                    crate::user_text::quoted(s),
                    names.join(", ")
                )
            })
    }
}
