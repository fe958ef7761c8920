//! What a finding is: its severity, its stable code (`FW001` …) and slug, and its text.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The design is wrong or dangerous: `fwtopo check` exits non-zero.
    Error,
    /// Works, but an operator should look.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Every kind of finding, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    PlaintextOpenToAny,
    LocalhostPortExposed,
    PeerRoleMissing,
    DynamicPortUnset,
    PortConflict,
    DnsPeer,
    NoManagementAccess,
    TrustedOnlyOpenToAny,
    WinrmBasicHttp,
    ErrataInUse,
    ZoneUndefined,
    TemporaryPort,
    RoleOsMismatch,
    NodeWithoutAddress,
    ZoneCoversAll,
    FirewallOsMismatch,
    RestrictionVoided,
    /// A management port (SSH, RDP, WinRM) opened to more than its peers by another flow.
    ManagementPortExposed,
    /// A flow whose peers have no address of the node's family: it allows nothing there.
    NoCommonFamily,
    /// Two nodes list one address.
    AddressOnTwoNodes,
    /// An external host pinned to a node's address.
    ExternalHostIsNode,
    /// An outbound need of the node's roles that `--egress strict` drops (a switch is off, or
    /// package updates are).
    StrictEgressBlocks,
    /// Package updates go to any address on 80/443 (repositories cannot be pinned).
    UpdatesToAnyAddress,
    /// A server administration interface (cPanel's WHM) open to any address while a switch could
    /// keep it to the admin zone.
    AdministrationOpenToAny,
    /// A product flow opens the node's management access (SSH) to any address, beyond the admin
    /// zone the built-in host product allows.
    ManagementOpenToAny,
    /// A zone still holding the starter's placeholder network.
    PlaceholderZone,
    /// A flow test of the topology the design breaks.
    FlowTestFailed,
    /// A flow test of the topology the design keeps.
    FlowTestPassed,
    /// A custom role, custom flow or node past its `expires` date, within the grace period.
    Expired,
    /// A custom role, custom flow or node past its `expires` date and the grace period.
    ExpiredPastGrace,
}

impl Code {
    pub const ALL: [Code; 30] = [
        Code::PlaintextOpenToAny,
        Code::LocalhostPortExposed,
        Code::PeerRoleMissing,
        Code::DynamicPortUnset,
        Code::PortConflict,
        Code::DnsPeer,
        Code::NoManagementAccess,
        Code::TrustedOnlyOpenToAny,
        Code::WinrmBasicHttp,
        Code::ErrataInUse,
        Code::ZoneUndefined,
        Code::TemporaryPort,
        Code::RoleOsMismatch,
        Code::NodeWithoutAddress,
        Code::ZoneCoversAll,
        Code::FirewallOsMismatch,
        Code::RestrictionVoided,
        Code::ManagementPortExposed,
        Code::NoCommonFamily,
        Code::AddressOnTwoNodes,
        Code::ExternalHostIsNode,
        Code::StrictEgressBlocks,
        Code::UpdatesToAnyAddress,
        Code::AdministrationOpenToAny,
        Code::ManagementOpenToAny,
        Code::PlaceholderZone,
        Code::FlowTestFailed,
        Code::FlowTestPassed,
        Code::Expired,
        Code::ExpiredPastGrace,
    ];

    /// The stable code, `FW001` …; never renumbered.
    pub fn id(self) -> &'static str {
        match self {
            Code::PlaintextOpenToAny => "FW001",
            Code::LocalhostPortExposed => "FW002",
            Code::PeerRoleMissing => "FW003",
            Code::DynamicPortUnset => "FW004",
            Code::PortConflict => "FW005",
            Code::DnsPeer => "FW006",
            Code::NoManagementAccess => "FW007",
            Code::TrustedOnlyOpenToAny => "FW008",
            Code::WinrmBasicHttp => "FW009",
            Code::ErrataInUse => "FW010",
            Code::ZoneUndefined => "FW011",
            Code::TemporaryPort => "FW012",
            Code::RoleOsMismatch => "FW013",
            Code::NodeWithoutAddress => "FW014",
            Code::ZoneCoversAll => "FW015",
            Code::FirewallOsMismatch => "FW016",
            Code::RestrictionVoided => "FW017",
            Code::ManagementPortExposed => "FW018",
            Code::NoCommonFamily => "FW019",
            Code::AddressOnTwoNodes => "FW020",
            Code::ExternalHostIsNode => "FW021",
            Code::StrictEgressBlocks => "FW022",
            Code::UpdatesToAnyAddress => "FW023",
            Code::AdministrationOpenToAny => "FW024",
            Code::ManagementOpenToAny => "FW025",
            Code::PlaceholderZone => "FW026",
            Code::FlowTestFailed => "FW027",
            Code::FlowTestPassed => "FW028",
            Code::Expired => "FW029",
            Code::ExpiredPastGrace => "FW030",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Code::PlaintextOpenToAny => "plaintext-open-to-any",
            Code::LocalhostPortExposed => "localhost-port-exposed",
            Code::PeerRoleMissing => "peer-role-missing",
            Code::DynamicPortUnset => "dynamic-port-unset",
            Code::PortConflict => "port-conflict",
            Code::DnsPeer => "dns-peer",
            Code::NoManagementAccess => "no-management-access",
            Code::TrustedOnlyOpenToAny => "trusted-only-open-to-any",
            Code::WinrmBasicHttp => "winrm-basic-http",
            Code::ErrataInUse => "errata-in-use",
            Code::ZoneUndefined => "zone-undefined",
            Code::TemporaryPort => "temporary-port",
            Code::RoleOsMismatch => "role-os-mismatch",
            Code::NodeWithoutAddress => "node-without-address",
            Code::ZoneCoversAll => "zone-covers-all-addresses",
            Code::FirewallOsMismatch => "firewall-os-mismatch",
            Code::RestrictionVoided => "restriction-voided",
            Code::ManagementPortExposed => "management-port-exposed",
            Code::NoCommonFamily => "no-common-address-family",
            Code::AddressOnTwoNodes => "address-on-two-nodes",
            Code::ExternalHostIsNode => "external-host-is-node",
            Code::StrictEgressBlocks => "strict-egress-blocks",
            Code::UpdatesToAnyAddress => "updates-to-any-address",
            Code::PlaceholderZone => "placeholder-zone",
            Code::FlowTestFailed => "flow-test-failed",
            Code::FlowTestPassed => "flow-test-passed",
            Code::Expired => "expired",
            Code::ExpiredPastGrace => "expired-past-grace",
            Code::AdministrationOpenToAny => "administration-open-to-any",
            Code::ManagementOpenToAny => "management-open-to-any",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id(), self.slug())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub severity: Severity,
    /// The node it is about; `None` for the whole topology.
    pub node: Option<String>,
    pub code: Code,
    /// Shared by the nodes of one shape, which get the same findings.
    pub message: std::sync::Arc<str>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<7} {} {}",
            self.severity.as_str(),
            self.code.id(),
            self.code.slug()
        )?;
        if let Some(n) = &self.node {
            write!(f, " [{n}]")?;
        }
        write!(f, ": {}", self.message)
    }
}
