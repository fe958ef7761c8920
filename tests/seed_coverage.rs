//! Seed coverage: every port every seed document names is in the catalog, with its direction,
//! protocol and peer, and with an `errata` note where the document itself is wrong or ambiguous.
//!
//! The tables below were written by reading the five documents in `shared/seeds/` line by line
//! (`README.md` there says which file is which product). Each row is one port (or range) one line
//! of a document names, with the protocol(s) and, where the document gives it, the peer roles:
//!
//! * `from` / `to` are endpoints the matching catalog flow must include, spelled as the JSON report
//!   spells them (`role:mn`, `zone:admin`, `any`, `localhost`, `dns:my.mailstore.com`). A role also
//!   matches a flow endpoint naming one of its groups (`role:sn-iis` matches `role:sn`); a group
//!   (`role:sn`) matches the group itself or a side naming every member role. A name that is
//!   neither a role nor a group of the product fails its row. [`NET`]
//!   stands for "a peer on the network" (anything but `localhost`) where the document gives the
//!   direction but names no peer.
//! * `fix` says how the document is wrong or ambiguous: [`Fix::Flagged`] (the value stands, the
//!   flow carries `errata` and a note quoting the document) or [`Fix::Corrected`] (the catalog uses
//!   another port or protocol, in an `errata` flow whose note quotes what the document says).
//!
//! The rows are checked against `fwtopo catalog --json` as the library builds it
//! (`report::catalog`) and, once, against the real binary's output. When the seed documents are
//! present (`$FWTOPO_SEEDS_DIR`, default `../shared/seeds`), the tables are also checked against
//! them: every quoted excerpt is on its line, and every port-like number of every line is covered
//! by a row of that line or listed in the document's `not_ports` with a reason. Without them that
//! check prints `SKIPPED (...)`, or fails with `FWTOPO_REQUIRE_SEEDS` set or in CI
//! (`FWTOPO_REQUIRE_SYSTEM_TESTS=1`).

use assert_cmd::Command;
use fwtopo::catalog::Catalog;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

// ------------------------------------------------------------------------------------------------
// the tables' vocabulary

/// Any peer on the network (anything but `localhost`).
const NET: &str = "net";

const TCP: &[&str] = &["tcp"];
const UDP: &[&str] = &["udp"];
const TCP_UDP: &[&str] = &["tcp", "udp"];

/// How a row's document line is wrong or ambiguous.
#[derive(Clone, Copy, Debug)]
enum Fix {
    /// The document is right: a flow carries the row as it stands.
    None,
    /// The document's value stands but the line is ambiguous or partly wrong: the covering flow is
    /// tagged `errata` and its note quotes `quote`.
    Flagged { quote: &'static str },
    /// The document is wrong: the catalog uses `ports` / `protos` instead, in a flow tagged
    /// `errata` whose note quotes `quote`. If `ports` leaves out the document's ports, the flow
    /// must not cover them either.
    Corrected {
        ports: &'static str,
        protos: &'static [&'static str],
        quote: &'static str,
    },
}

/// One port (or range, or list) one line of a document names.
#[derive(Debug)]
struct Row {
    /// Line in the seed document (1-based).
    line: usize,
    /// Verbatim excerpt of that line (whitespace compared loosely).
    doc: &'static str,
    /// The ports as the document names them (`25`, `8352-8364`, `647,847`; a service named by
    /// protocol only, "via HTTPS", by its port); empty when the line names none (a lost
    /// placeholder, a rule without ports).
    ports: &'static str,
    protos: &'static [&'static str],
    from: &'static [&'static str],
    to: &'static [&'static str],
    /// Tags the flow must carry because the document says so (test-only, localhost-only, ...).
    tags: &'static [&'static str],
    /// Text the flow's service, note or source section must contain (tells apart two rows with the
    /// same port and peers).
    hint: &'static str,
    fix: Fix,
}

const fn row(
    line: usize,
    doc: &'static str,
    ports: &'static str,
    protos: &'static [&'static str],
    from: &'static [&'static str],
    to: &'static [&'static str],
) -> Row {
    Row {
        line,
        doc,
        ports,
        protos,
        from,
        to,
        tags: &[],
        hint: "",
        fix: Fix::None,
    }
}

impl Row {
    const fn tags(mut self, tags: &'static [&'static str]) -> Row {
        self.tags = tags;
        self
    }
    const fn hint(mut self, hint: &'static str) -> Row {
        self.hint = hint;
        self
    }
    const fn flagged(mut self, quote: &'static str) -> Row {
        self.fix = Fix::Flagged { quote };
        self
    }
    const fn corrected(
        mut self,
        ports: &'static str,
        protos: &'static [&'static str],
        quote: &'static str,
    ) -> Row {
        self.fix = Fix::Corrected {
            ports,
            protos,
            quote,
        };
        self
    }
}

/// One seed document and its table.
struct Seed {
    file: &'static str,
    product: &'static str,
    rows: &'static [Row],
    /// Numbers on a line that are not ports: (line, verbatim text, why).
    not_ports: &'static [(usize, &'static str, &'static str)],
}

// The tables keep one row per line (rustfmt would spread each row over several lines).
#[rustfmt::skip]
const SEEDS: &[Seed] = &[
    Seed { file: "000_85d20eae7ba860e6.txt", product: "plesk-automation", rows: PA, not_ports: PA_NOT_PORTS },
    Seed { file: "001_09302d99c9f0a00a.txt", product: "mailstore-spe", rows: MS, not_ports: MS_NOT_PORTS },
    Seed { file: "002_7bee08375cae51fd.txt", product: "communigate-pro", rows: CGP, not_ports: CGP_NOT_PORTS },
    Seed { file: "003_77545db7f3900c95.txt", product: "cpanel-whm", rows: CP, not_ports: CP_NOT_PORTS },
    Seed { file: "004_71fee41d8d9a3a87.txt", product: "virtuozzo-hybrid-server", rows: VZ, not_ports: VZ_NOT_PORTS },
];

/// The built-in common-services product (issue 13, item 2): no seed document, but the same checks,
/// row by row from the ports the issue names, each with the page the flow's note must cite (`hint`).
/// `line` numbers the row; `doc` is the fact as the issue and the page state it.
#[rustfmt::skip]
const COMMON: Seed = Seed { file: "common-services", product: "common-services", rows: CS, not_ports: &[] };

const CS_MON: &[&str] = &["role:monitoring-server"];
const CS_NODE: &[&str] = &["role:monitored-node"];
const CS_BACKUP: &[&str] = &["role:backup-server"];
const CS_CLIENT: &[&str] = &["role:backup-client"];

#[rustfmt::skip]
const CS: &[Row] = &[
    row(1, "Zabbix agent 10050 (server or proxy connects)", "10050", TCP, CS_MON, CS_NODE).hint("zabbix.com/documentation"),
    row(2, "Zabbix server/proxy 10051 (active agents connect)", "10051", TCP, CS_NODE, CS_MON).hint("zabbix.com/documentation"),
    row(3, "Prometheus scrapes node_exporter 9100", "9100", TCP, CS_MON, CS_NODE).hint("Default-port-allocations"),
    row(4, "SNMP 161 (agent)", "161", UDP, CS_MON, CS_NODE).hint("RFC 3417").tags(&["insecure"]),
    row(5, "SNMP traps 162 (manager)", "162", UDP, CS_NODE, CS_MON).hint("RFC 3417").tags(&["insecure"]),
    row(6, "syslog 514 udp", "514", UDP, CS_NODE, CS_MON).hint("RFC 5426").tags(&["insecure"]),
    row(7, "syslog 514 tcp", "514", TCP, CS_NODE, CS_MON).hint("RFC 6587").tags(&["insecure"]),
    row(8, "syslog over TLS 6514", "6514", TCP, CS_NODE, CS_MON).hint("RFC 5425"),
    row(9, "Bacula Console -> DIR:9101", "9101", TCP, &["zone:admin"], CS_BACKUP).hint("Dealing_with_Firewalls"),
    row(10, "Bacula DIR -> FD:9102", "9102", TCP, CS_BACKUP, CS_CLIENT).hint("Dealing_with_Firewalls"),
    row(11, "Bacula FD -> SD:9103", "9103", TCP, CS_CLIENT, CS_BACKUP).hint("Dealing_with_Firewalls"),
    row(12, "rsync over SSH 22 from the backup server", "22", TCP, CS_BACKUP, CS_CLIENT).hint("rsync(1)"),
    row(13, "mail relay 25/587 out to a relay", "25,587", TCP, &["role:relay-client"], &["role:mail-relay"]).hint("RFC 6409"),
    row(14, "the relay delivers on 25", "25", TCP, &["role:mail-relay"], &["any"]).hint("RFC 5321"),
    row(15, "NTP server 123/udp", "123", UDP, &["role:ntp-client"], &["role:ntp-server"]).hint("RFC 5905"),
    row(16, "Debian/Ubuntu repositories over 80/443", "80,443", TCP, &["role:updates-deb"], &["any"]).hint("deb.debian.org"),
    row(17, "RHEL-family repositories over 80/443", "80,443", TCP, &["role:updates-rpm"], &["any"]).hint("mirrorlist"),
    row(18, "Windows Update over 80/443", "80,443", TCP, &["role:updates-windows"], &["any"]).hint("Windows Update"),
    row(19, "load-balancer health checks (default port 80)", "80", TCP, &["role:load-balancer"], &["role:lb-target"]).hint("health check"),
];

// ------------------------------------------------------------------------------------------------
// 000: Plesk (Parallels) Automation. The document names no protocol for the PA ports; its netsh
// examples all use TCP (reference 1.1: all PA ports TCP).

const PA_MN: &[&str] = &["role:mn"];
const PA_SN: &[&str] = &["role:sn"];
const PA_IIS: &[&str] = &["role:sn-iis"];
const PA_SM: &[&str] = &["role:sn-smartermail"];
const PA_APACHE: &[&str] = &["role:sn-apache"];
const PA_POSTFIX: &[&str] = &["role:sn-postfix"];
const PA_WEBMAIL: &[&str] = &["role:sn-webmail"];
const PA_DB: &[&str] = &["role:sn-database"];
const PA_DNS: &[&str] = &["role:sn-dns"];
const PA_BACKUP: &[&str] = &["role:sn-backup"];

#[rustfmt::skip]
const PA: &[Row] = &[
    // "PA Management Node" - "Web Interface (Administration and Hosting Panel)", "Public API"
    row(3, "8880: HTTP access to PA Administration Panel", "8880", TCP, &[NET], PA_MN),
    row(4, "8443: HTTPS access to PA Administration Panel", "8443", TCP, &[NET], PA_MN),
    row(6, "8440: Public API Manager", "8440", TCP, &[NET], PA_MN),
    // "Communication with Service Nodes"
    row(8, "80: Connection to PA package repository from service nodes", "80", TCP, PA_SN, PA_MN),
    row(9, "8352-8364: PA internal ports for accepting requests from Service Node(s)", "8352-8364", TCP, PA_SN, PA_MN),
    row(10, "8412: PA internal port for accepting requests from Service Node(s)", "8412", TCP, PA_SN, PA_MN),
    row(11, "8490: PA internal port for accepting requests from Service Node(s)", "8490", TCP, PA_SN, PA_MN),
    row(12, "8532: PA internal port for accepting requests from Service Node(s)", "8532", TCP, PA_SN, PA_MN),
    row(13, "8400: PA internal port for accepting requests from Service Node(s)", "8400", TCP, PA_SN, PA_MN),
    // "Test (used by utility PA.sn_test)": only for the test
    row(16, "51618: For testing bi-directional communication with a service node", "51618", TCP, PA_SN, PA_MN).tags(&["temporary"]),
    // "Service Node(s)": "required to be opened on all of the service nodes"
    row(20, "8352-8364: PA internal ports for accepting requests from Management Node", "8352-8364", TCP, PA_MN, PA_SN),
    row(21, "8412: PA internal port for accepting requests from Management Node", "8412", TCP, PA_MN, PA_SN),
    row(22, "8490: PA internal port for accepting requests from Management Node", "8490", TCP, PA_MN, PA_SN),
    row(23, "8532: PA internal port for accepting requests from Management Node", "8532", TCP, PA_MN, PA_SN),
    row(24, "8443: PA internal port for accepting requests from Management Node", "8443", TCP, PA_MN, PA_SN),
    row(25, "51619: For testing bi-directional communication with a management node", "51619", TCP, PA_MN, PA_SN).tags(&["temporary"]),
    // "IIS Service Node": WinRM listener (lines 33/35 turn on AllowUnencrypted and Basic auth), then
    // netsh rules; 203.0.113.2 "is IP address of the Management Node" (lines 49-50)
    row(37, "Transport=http @{Port=\"5985\"}", "5985", TCP, PA_MN, PA_IIS),
    row(38, "protocol=TCP localport=5985 remoteip=203.0.113.2", "5985", TCP, PA_MN, PA_IIS).tags(&["insecure"]),
    row(41, "name=\"HTTP 80 port\" dir=in profile=any protocol=TCP localport=80 remoteip=any", "80", TCP, &["any"], PA_IIS),
    row(42, "name=\"HTTPS 443 port\" dir=in profile=any protocol=TCP localport=443 remoteip=any", "443", TCP, &["any"], PA_IIS),
    // Wrong: the rule name is wrapped in U+201D curly quotes (cmd.exe fails) and the rule names no
    // port at all (service=ftpsvc opens every TCP port of the FTP service): the catalog opens 21 ...
    row(44, "name=\u{201d}FTP Passive Connections\u{201d} dir=in action=allow service=ftpsvc protocol=TCP", "", TCP, &["any"], PA_IIS)
        .corrected("21", TCP, "name=\u{201d}FTP Passive Connections\u{201d}"),
    // ... and a fixed passive range, where the document only disables StatefulFTP globally.
    row(45, "netsh advfirewall set global StatefulFTP disable", "", TCP, &["any"], PA_IIS)
        .corrected("60000-65000", TCP, "StatefulFTP disable"),
    row(47, "name=\"POA in\" dir=in profile=any protocol=TCP localport=8352 remoteip=203.0.113.2", "8352", TCP, PA_MN, PA_IIS),
    row(48, "name=\"POA in 2\" dir=in profile=any protocol=TCP localport=8354 remoteip=203.0.113.2", "8354", TCP, PA_MN, PA_IIS),
    // "SmarterMail Service Node" (203.0.113.2 "is the IP address of the Management Node", 74-75)
    row(61, "Transport=http @{Port=\"5985\"}", "5985", TCP, PA_MN, PA_SM),
    row(62, "protocol=TCP localport=5985 remoteip=203.0.113.2", "5985", TCP, PA_MN, PA_SM).tags(&["insecure"]),
    row(65, "name=\"SMTP\" dir=in profile=any protocol=TCP localport=25 remoteip=any", "25", TCP, &["any"], PA_SM),
    row(66, "name=\"SMTPS\" dir=in profile=any protocol=TCP localport=465 remoteip=any", "465", TCP, &["any"], PA_SM),
    row(67, "name=\"587 mail submission\" dir=in profile=any protocol=TCP localport=587 remoteip=any", "587", TCP, &["any"], PA_SM),
    row(68, "name=\"POP3\" dir=in profile=any protocol=TCP localport=110 remoteip=any", "110", TCP, &["any"], PA_SM),
    row(69, "name=\"POP3S\" dir=in profile=any protocol=TCP localport=995 remoteip=any", "995", TCP, &["any"], PA_SM),
    row(70, "name=\"IMAP\" dir=in profile=any protocol=TCP localport=143 remoteip=any", "143", TCP, &["any"], PA_SM),
    row(71, "name=\"IMAPS\" dir=in profile=any protocol=TCP localport=993 remoteip=any", "993", TCP, &["any"], PA_SM),
    row(73, "name=\"SmarterMail admin port\" dir=in profile=any protocol=TCP localport=9998 remoteip=203.0.113.2", "9998", TCP, PA_MN, PA_SM),
    // "Apache Service Node"
    row(77, "80: HTTP", "80", TCP, &[NET], PA_APACHE),
    row(78, "443: HTTPS", "443", TCP, &[NET], PA_APACHE),
    row(79, "21: FTP", "21", TCP, &[NET], PA_APACHE),
    // Wrong: the directive and the path are wrapped in U+2018/U+2019 curly quotes (an operator
    // copying the line into proftpd.conf gets a line proftpd does not know).
    row(80, "Port range 60000:65000 for FTP passive mode", "60000-65000", TCP, &[NET], PA_APACHE).hint("PassivePorts 60000 65000")
        .flagged("\u{2018}PassivePorts 60000 65000\u{2019} into the \u{2018}/etc/proftpd.conf\u{2019}"),
    // "Postfix Service Node"
    row(82, "587: Mail submission TCP port", "587", TCP, &[NET], PA_POSTFIX),
    row(83, "143: Imap TCP port", "143", TCP, &[NET], PA_POSTFIX),
    row(84, "995: Secure POP TCP port", "995", TCP, &[NET], PA_POSTFIX),
    // Ambiguous: POP3S 995 is listed but plain POP3 110 is not (the SmarterMail node has both).
    row(84, "995: Secure POP TCP port", "", TCP, &[NET], PA_POSTFIX).corrected("110", TCP, "995: Secure POP TCP port").tags(&["optional"]),
    row(85, "465: Secure SMTP TCP port", "465", TCP, &[NET], PA_POSTFIX),
    row(86, "993: Secure IMAP TCP port", "993", TCP, &[NET], PA_POSTFIX),
    row(87, "25: SMTP port", "25", TCP, &[NET], PA_POSTFIX),
    // "Webmail Service Node": "HTTP post" is a typo for "HTTP port"
    row(89, "80: HTTP post", "80", TCP, &[NET], PA_WEBMAIL).flagged("HTTP post"),
    // "Database Service Node"
    row(91, "3306: MySQL TCP port", "3306", TCP, &[NET], PA_DB),
    row(92, "5432: Postgresql TCP port", "5432", TCP, &[NET], PA_DB),
    row(93, "1433: MSSQL TCP port", "1433", TCP, &[NET], PA_DB),
    // "DNS Service Node". Wrong: UDP only; DNS needs TCP 53 too (zone transfers, truncation).
    row(95, "53: DNS UDP port", "53", UDP, &[NET], PA_DNS).corrected("53", TCP_UDP, "53: DNS UDP port"),
    // "Backup Service Node"
    row(97, "21: FTP", "21", TCP, &[NET], PA_BACKUP),
    row(98, "Port range 60000:65000 for FTP passive mode", "60000-65000", TCP, &[NET], PA_BACKUP),
    row(99, "'PassivePorts 60000 65000'", "60000-65000", TCP, &[NET], PA_BACKUP).hint("PassivePorts 60000 65000"),
    // Wrong: no space between "the" and the quoted path.
    row(100, "into the'/etc/proftpd.conf'", "60000-65000", TCP, &[NET], PA_BACKUP).hint("PassivePorts 60000 65000").flagged("into the'/etc/proftpd.conf'"),
    // "Additional Information": the iptables example on the MN ...
    row(103, "Requests on ports 8354 and 8352 are accepted only from Service Node IP addresses", "8352,8354", TCP, PA_SN, PA_MN),
    row(107, "PA-SN-Rules-INPUT tcp -- anywhere anywhere tcp dpt:8354", "8354", TCP, PA_SN, PA_MN),
    row(108, "PA-SN-Rules-INPUT tcp -- anywhere anywhere tcp dpt:8352", "8352", TCP, PA_SN, PA_MN),
    // ... and on the SN. Ambiguous: the SN example takes 10.39.25.201 for the MN while the MN
    // example accepts 10.39.13.201; only 8352/8354 of the whole list are protected.
    row(122, "Requests on ports 8354 and 8352 are accepted only from the Management Node", "8352,8354", TCP, PA_MN, PA_SN),
    row(133, "DROP tcp -- !10.39.25.201 anywhere tcp dpt:8354", "8354", TCP, PA_MN, PA_SN).flagged("10.39.25.201"),
    row(134, "DROP tcp -- !10.39.25.201 anywhere tcp dpt:8352", "8352", TCP, PA_MN, PA_SN).flagged("10.39.25.201"),
];

#[rustfmt::skip]
const PA_NOT_PORTS: &[(usize, &str, &str)] = &[
    (28, "Windows 2012 R2", "Windows version"),
    (32, "/t 5", "timeout seconds"),
    (34, "/t 2", "timeout seconds"),
    (36, "/t 2", "timeout seconds"),
    (48, "POA in 2", "rule name"),
    (56, "/t 5", "timeout seconds"),
    (58, "/t 2", "timeout seconds"),
    (60, "/t 2", "timeout seconds"),
    (113, "(2 references)", "iptables chain reference count"),
    (131, "(1 references)", "iptables chain reference count"),
];

// ------------------------------------------------------------------------------------------------
// 001: MailStore SPE, multi server mode. "The below table lists all TCP ports" (line 8); Source ->
// Target is the connecting side -> the listening side. ADM = the admin zone, ANY = any, CA and the
// update server are external hosts.

const MS_MGMT: &[&str] = &["role:mgmt"];
const MS_CAS: &[&str] = &["role:cas"];
const MS_IH: &[&str] = &["role:ih"];
const MS_ANY: &[&str] = &["any"];
const MS_ADM: &[&str] = &["zone:admin"];

#[rustfmt::skip]
const MS: &[Row] = &[
    // Ambiguous: ANY as the *source*; the connecting side is every SPE server. CA = certificate
    // authorities' OCSP/CRL hosts, which have no fixed addresses (any).
    row(17, "80 | ANY | CA | Access to certificate authorities", "80", TCP, &["role:mgmt", "role:cas", "role:ih"], MS_ANY).flagged("80 | ANY | CA"),
    row(18, "110 | IH | ANY | Access to email servers for archiving via POP3", "110", TCP, MS_IH, MS_ANY),
    row(19, "143 | IH | ANY | Access to email servers for archiving via IMAP", "143", TCP, MS_IH, MS_ANY),
    row(20, "143 | ANY | CAS | IMAP access to archives", "143", TCP, MS_ANY, MS_CAS),
    row(21, "389 | IH | ANY | Access to LDAP servers", "389", TCP, MS_IH, MS_ANY),
    row(22, "443 | IH | ANY | Access to Microsoft Exchange Server", "443", TCP, MS_IH, MS_ANY).hint("EWS"),
    row(23, "443 | IH | ANY | Access to IceWarp Mail Servers", "443", TCP, MS_IH, MS_ANY).hint("IceWarp"),
    row(24, "443 | ANY | CAS | HTTPS access to instances", "443", TCP, MS_ANY, MS_CAS),
    row(25, "443 | MGMT | my.mailstore.com | Usage reporting and license update", "443", TCP, MS_MGMT, &["dns:my.mailstore.com"]),
    row(26, "587 | MGMT | ANY | Access to an email server", "587", TCP, MS_MGMT, MS_ANY),
    // Typo "send send" in the description.
    row(27, "587 | IH | ANY | Access to an email server to let instances send send status reports", "587", TCP, MS_IH, MS_ANY).flagged("send send"),
    row(28, "636 | IH | ANY | Access to LDAP servers", "636", TCP, MS_IH, MS_ANY),
    row(29, "993 | ANY | CAS | IMAP access to archives", "993", TCP, MS_ANY, MS_CAS),
    row(30, "993 | IH | ANY | Access to email servers for archiving via IMAP (TLS)", "993", TCP, MS_IH, MS_ANY),
    row(31, "995 | IH | ANY | Access to email servers for archiving via POP3 (TLS)", "995", TCP, MS_IH, MS_ANY),
    row(32, "4040 | IH | ANY | Access to Kerio Connect Servers", "4040", TCP, MS_IH, MS_ANY),
    row(33, "8470 | ADM | MGMT | Web-based access to the MailStore Management Console", "8470", TCP, MS_ADM, MS_MGMT),
    row(34, "8471 | CAS, IH | MGMT | Internal communication with Management Server", "8471", TCP, &["role:cas", "role:ih"], MS_MGMT),
    row(35, "8472 | MGMT, CAS | IH | Internal communication with Instance Hosts", "8472", TCP, &["role:mgmt", "role:cas"], MS_IH),
    row(36, "8473 | MGMT | CAS | Internal communication with Client Access Servers", "8473", TCP, MS_MGMT, MS_CAS),
    row(37, "8474 | ADM | MGMT | Access to the MailStore Management API", "8474", TCP, MS_ADM, MS_MGMT),
    row(38, "8474 | IH, CAS | MGMT | Optional: Required for initial pairing", "8474", TCP, &["role:ih", "role:cas"], MS_MGMT).tags(&["optional"]),
];

#[rustfmt::skip]
const MS_NOT_PORTS: &[(usize, &str, &str)] = &[
    (2, "12:12, 22 September 2023", "revision time and date"),
];

// ------------------------------------------------------------------------------------------------
// 002: CommuniGate Pro (German). "1) Ports für eingehenden Datenverkehr": inbound to a CGP server
// (catalog group `public`: single server and frontends); "2) ... ausgehenden": outbound;
// "3) Inter-Cluster Ports": between the members of a Dynamic Cluster (the listening side is the
// backend, which holds the accounts every protocol is proxied to, reference 1.3).

const CGP_SERVER: &[&str] = &["role:server"];
const CGP_CLUSTER: &[&str] = &["role:frontend", "role:backend"];
const CGP_BACKEND: &[&str] = &["role:backend"];
const TRUSTED: &[&str] = &["zone:trusted"];
/// Line 3, which the rows for 21, 80 and 443 contradict.
const CGP_DEFAULT_SETUP: &str =
    "Folgende Ports sind mit dem Default-Setup von CommuniGate Pro aktiv";

#[rustfmt::skip]
const CGP: &[Row] = &[
    // Wrong: line 3 calls every listed port active "mit dem Default-Setup", but 21, 80 and 443 are
    // not default listeners (FTP is 8021, WebUser 8100/9100; reference 1.3, pitfall 16).
    row(9, "21 FTP [TCP]", "21", TCP, &[NET], CGP_SERVER).flagged(CGP_DEFAULT_SETUP),
    // Wrong: FTP data is TCP only and never port 22 (SSH); passive data uses run-time ports.
    row(10, "22 FTP DATA [UDP,TCP]", "22", TCP_UDP, &[NET], CGP_SERVER).corrected("1024-65535", TCP, "22 FTP DATA [UDP,TCP]").tags(&["dynamic-port"]),
    row(11, "25 SMTP [TCP]", "25", TCP, &[NET], CGP_SERVER),
    // Ambiguous: CGP has no DNS server ("nur für DNS Server Traffic").
    row(12, "53 DNS [UDP,TCP] (nur für DNS Server Traffic)", "53", TCP_UDP, &[NET], CGP_SERVER).flagged("nur für DNS Server Traffic"),
    row(13, "69 TFTP [UDP] (Für \u{201c}Trusted\u{201d} Netze, Intranet)", "69", UDP, TRUSTED, CGP_SERVER).tags(&["trusted-only"]),
    row(14, "80 HTTP [TCP] (WebMail)", "80", TCP, &[NET], CGP_SERVER).flagged(CGP_DEFAULT_SETUP),
    row(15, "110 POP [TCP]", "110", TCP, &[NET], CGP_SERVER),
    row(16, "143 IMAP [TCP]", "143", TCP, &[NET], CGP_SERVER),
    // Wrong: LDAP is 389 (387 is AURP).
    row(17, "387 LDAP [TCP] (Für \u{201c}Trusted\u{201d} Netze, Intranet)", "387", TCP, TRUSTED, CGP_SERVER).corrected("389", TCP, "387 LDAP [TCP]").tags(&["trusted-only"]),
    row(18, "443 HTTPS [TCP]", "443", TCP, &[NET], CGP_SERVER).flagged(CGP_DEFAULT_SETUP),
    // Ambiguous: "only for Microsoft" - any mail client uses SMTPS.
    row(19, "465 SMTP SSL [TCP] (Nur für Microsoft )", "465", TCP, &[NET], CGP_SERVER).flagged("Nur für Microsoft"),
    row(20, "587 SMTP MSP [TCP]", "587", TCP, &[NET], CGP_SERVER),
    row(21, "636 LDAPS [TCP]", "636", TCP, &[NET], CGP_SERVER),
    row(22, "674 ACAP [TCP] ( Für \u{201c}Trusted\u{201d} Netze, Intranet)", "674", TCP, TRUSTED, CGP_SERVER).tags(&["trusted-only"]),
    row(23, "993 IMAPS [TCP]", "993", TCP, &[NET], CGP_SERVER),
    row(24, "995 POP3S [TCP]", "995", TCP, &[NET], CGP_SERVER),
    row(25, "5060 SIP [UDP,TCP]", "5060", TCP_UDP, &[NET], CGP_SERVER),
    // Wrong protocols: SIPS (TLS), XMPP and XIMSS run over TCP only, RTP over UDP only.
    row(26, "5061 SIPS [TCP,UDP]", "5061", TCP_UDP, &[NET], CGP_SERVER).corrected("5061", TCP, "5061 SIPS [TCP,UDP]"),
    row(27, "5222 XMPP [TCP,UDP] (Jabber)", "5222", TCP_UDP, &[NET], CGP_SERVER).corrected("5222", TCP, "5222 XMPP [TCP,UDP]"),
    row(28, "5223 XMPP SSL [TCP,UDP] (Jabber / XMPP Encryption)", "5223", TCP_UDP, &[NET], CGP_SERVER).corrected("5223", TCP, "5223 XMPP SSL [TCP,UDP]"),
    row(29, "8010 WebAdmin Interface [TCP]", "8010", TCP, &[NET], CGP_SERVER),
    row(30, "8021 FTP [TCP]", "8021", TCP, &[NET], CGP_SERVER),
    row(31, "8100 WebUser Interface [TCP] (WebMail default)", "8100", TCP, &[NET], CGP_SERVER),
    row(32, "9010 WebAdmin Interface Encrypted [TCP]", "9010", TCP, &[NET], CGP_SERVER),
    row(33, "9100 WebUser Interface Encrypted [TCP] (WebMail default)", "9100", TCP, &[NET], CGP_SERVER),
    row(34, "11024 XIMSS [TCP,UDP]", "11024", TCP_UDP, &[NET], CGP_SERVER).corrected("11024", TCP, "11024 XIMSS [TCP,UDP]"),
    row(35, "11025 XIMSS SSL [TCP,UDP]", "11025", TCP_UDP, &[NET], CGP_SERVER).corrected("11025", TCP, "11025 XIMSS SSL [TCP,UDP]"),
    row(36, "60000-60099 RTP [TCP,UDP]", "60000-60099", TCP_UDP, &[NET], CGP_SERVER).corrected("60000-60099", UDP, "60000-60099 RTP [TCP,UDP]"),
    // "2) Ports für ausgehenden Datenverkehr": every port outbound, and cluster members any port
    // to any port.
    row(41, "Alle \u{201c}Source Ports\u{201d} ausgehend sollten offen und der Zugriff erlaubt sein", "1-65535", TCP_UDP, &["role:server", "role:frontend", "role:backend"], &["any"]),
    row(41, "Cluster sollten ebenfalls von jedem Port zu jedem Port Daten senden dürfen", "1-65535", TCP_UDP, CGP_CLUSTER, CGP_CLUSTER),
    // "3) Inter-Cluster Ports"
    row(46, "wenn die TCP-Verbindungen (an Port 106) unterbrochen werden", "106", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(50, "21 FTP [TCP]", "21", TCP, CGP_CLUSTER, CGP_BACKEND).flagged(CGP_DEFAULT_SETUP),
    row(51, "25 SMTP [TCP]", "25", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(52, "69 TFTP [UDP]", "69", UDP, CGP_CLUSTER, CGP_BACKEND),
    row(53, "80 HTTP [TCP]", "80", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(54, "106 CGP CLI/API [TCP]", "106", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(55, "110 POP [TCP]", "110", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(56, "143 IMAP [TCP]", "143", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(57, "387 LDAP [TCP]", "387", TCP, CGP_CLUSTER, CGP_BACKEND).corrected("389", TCP, "387 LDAP [TCP]"),
    row(58, "674 ACAP [TCP]", "674", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(59, "5060 SIP [UDP,TCP]", "5060", TCP_UDP, CGP_CLUSTER, CGP_BACKEND),
    row(60, "5222 XMPP [TCP]", "5222", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(61, "8010 HTTP [TCP]", "8010", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(62, "8021 FTP [TCP]", "8021", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(63, "8100 HTTP [TCP]", "8100", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(64, "9010 HTTPS [TCP]", "9010", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(65, "9100 HTTPS [TCP]", "9100", TCP, CGP_CLUSTER, CGP_BACKEND),
    row(66, "11024 XIMSS [TCP]", "11024", TCP, CGP_CLUSTER, CGP_BACKEND),
];

#[rustfmt::skip]
const CGP_NOT_PORTS: &[(usize, &str, &str)] = &[
    (5, "1)", "section number"),
    (38, "2)", "section number"),
    (45, "3)", "section number"),
    (46, "1 Sekunde", "one second"),
];

// ------------------------------------------------------------------------------------------------
// 003: cPanel & WHM. The copy lost the TCP/UDP/Inbound/Outbound/Localhost columns; the marks below
// are the vendor table's as recovered in reference 1.4 (identical in the v112 and v126 pages).

const CP_SERVER: &[&str] = &["role:server"];
const CP_LOCAL: &[&str] = &["localhost"];

/// Inbound: a peer on the network connects to the server.
const fn cp_in(
    line: usize,
    doc: &'static str,
    ports: &'static str,
    protos: &'static [&'static str],
) -> Row {
    row(line, doc, ports, protos, &[NET], CP_SERVER)
}

/// Outbound: the server connects to a peer on the network.
const fn cp_out(
    line: usize,
    doc: &'static str,
    ports: &'static str,
    protos: &'static [&'static str],
) -> Row {
    row(line, doc, ports, protos, CP_SERVER, &[NET])
}

#[rustfmt::skip]
const CP: &[Row] = &[
    // "Ports": Port Service TCP UDP Inbound Outbound Localhost Notes
    cp_out(43, "1 CPAN", "1", TCP),
    cp_out(44, "7 Razor", "7", TCP),
    // "Instead of FTP, we recommend that you use the more-secure SFTP service via SSH."
    cp_in(45, "20 FTP", "20", TCP).tags(&["insecure"]),
    cp_out(45, "20 FTP", "20", TCP).tags(&["insecure"]),
    cp_in(46, "21 FTP", "21", TCP).tags(&["insecure"]),
    cp_out(46, "21 FTP", "21", TCP).tags(&["insecure"]),
    cp_in(47, "22 SSH", "22", TCP),
    cp_in(48, "25 SMTP", "25", TCP),
    cp_out(48, "25 SMTP", "25", TCP),
    // "cPanel & WHM only uses this port if you specify it in WHM's Service Manager interface"
    cp_in(49, "26 SMTP cPanel & WHM only uses this port if you specify it", "26", TCP).tags(&["optional"]),
    cp_out(49, "26 SMTP cPanel & WHM only uses this port if you specify it", "26", TCP).tags(&["optional"]),
    cp_out(50, "37 rdate", "37", TCP),
    cp_out(51, "43 whois", "43", TCP),
    // "Public DNS services" (in), "Communication with root nameservers for AutoSSL" (out)
    cp_in(52, "53 DNS", "53", TCP_UDP),
    cp_out(52, "53 DNS", "53", TCP_UDP),
    cp_in(56, "80 httpd", "80", TCP),
    cp_out(56, "80 httpd", "80", TCP),
    cp_in(58, "configure their websites on port 443", "443", TCP),
    cp_in(60, "110 POP3", "110", TCP),
    cp_out(61, "113 ident", "113", TCP),
    cp_in(62, "143 IMAP", "143", TCP),
    cp_in(63, "443 httpd", "443", TCP_UDP),
    cp_out(63, "443 httpd", "443", TCP_UDP),
    // "WHM's Manage AutoSSL interface ... requires outbound access to the store.cpanel.net server on
    // this port" (443)
    row(67, "requires outbound access to the store.cpanel.net server on this port", "443", TCP, CP_SERVER, &["dns:store.cpanel.net"]),
    cp_in(68, "465 SMTP, SSL/TLS", "465", TCP),
    cp_out(68, "465 SMTP, SSL/TLS", "465", TCP),
    // Ambiguous: no Localhost mark in the vendor table, but "should only accept connections on the
    // 127.0.0.x IPv4 address".
    row(71, "579 cPHulk This port should only accept connections on the 127.0.0.x IPv4 address", "579", TCP, CP_LOCAL, CP_SERVER).tags(&["localhost-only"]).flagged("127.0.0.x"),
    cp_in(72, "587 Exim", "587", TCP),
    cp_out(72, "587 Exim", "587", TCP),
    row(73, "783 Apache SpamAssassin", "783", TCP_UDP, CP_LOCAL, CP_SERVER).tags(&["localhost-only"]),
    cp_out(74, "873 rsync", "873", TCP_UDP),
    // Ambiguous: the vendor table marks no protocol for 953; "should only accept connections on
    // the 127.0.0.1 IPv4 address".
    row(75, "953 PowerDNS This port should only accept connections on the 127.0.0.1 IPv4 address", "953", TCP_UDP, CP_LOCAL, CP_SERVER).tags(&["localhost-only"]).flagged("no protocol"),
    cp_in(78, "993 IMAP SSL", "993", TCP),
    cp_in(79, "995 POP3 SSL", "995", TCP),
    cp_in(80, "2077 WebDAV", "2077", TCP),
    cp_out(80, "2077 WebDAV", "2077", TCP),
    cp_in(81, "2078 WebDAV SSL", "2078", TCP),
    cp_out(81, "2078 WebDAV SSL", "2078", TCP),
    // "This port is insecure ... We strongly recommend that you use port 2080 instead." (84)
    cp_in(82, "2079 CalDAV and CardDAV", "2079", TCP).tags(&["insecure"]),
    cp_out(82, "2079 CalDAV and CardDAV", "2079", TCP).tags(&["insecure"]),
    cp_in(84, "We strongly recommend that you use port 2080 instead", "2080", TCP),
    cp_in(85, "2080 CalDAV and CardDAV (SSL)", "2080", TCP),
    cp_out(85, "2080 CalDAV and CardDAV (SSL)", "2080", TCP),
    cp_in(86, "2082 cPanel and cPanel Licensing", "2082", TCP),
    cp_in(89, "2083 cPanel SSL and cPanel Licensing", "2083", TCP),
    cp_in(90, "2086 WHM and cPanel Licensing", "2086", TCP),
    cp_in(93, "2087 WHM SSL and cPanel Licensing", "2087", TCP),
    cp_out(94, "2089 cPanel Licensing", "2089", TCP),
    cp_out(96, "permit outbound TCP connections from source ports 4 and 1020 to destination port 2089", "2089", TCP),
    // Wrong: source ports 4 and 1020 are meaningless (ephemeral source ports are >= 1024).
    cp_out(96, "from source ports 4 and 1020", "4,1020", TCP).corrected("2089", TCP, "source ports 4 and 1020"),
    // "only available if you install both the Calendars and Contacts Server and Z-Push" plugins
    cp_in(97, "2091 Exchange ActiveSync (EAS) SSL/TLS", "2091", TCP).tags(&["optional"]),
    cp_in(102, "2095 Webmail", "2095", TCP),
    cp_in(105, "2096 Webmail SSL and cPanel Licensing", "2096", TCP),
    cp_out(106, "2195 Apple Push Notification service (APNs)", "2195", TCP),
    cp_out(107, "2703 Razor", "2703", TCP),
    cp_in(108, "3306 MySQL® MySQL uses this port for remote database connections", "3306", TCP),
    cp_out(109, "6277 DCC", "6277", TCP_UDP),
    cp_out(110, "11371 apt", "11371", TCP),
    cp_out(111, "24441 Pyzor", "24441", TCP_UDP),
    // "The License Callback Mechanism": the license system calls in on one of these ports
    cp_in(118, "cPanel 2082", "2082", TCP),
    cp_in(119, "cPanel SSL 2083", "2083", TCP),
    cp_in(120, "WHM 2086", "2086", TCP),
    cp_in(121, "WHM SSL 2087", "2087", TCP),
    cp_in(122, "Webmail SSL 2096", "2096", TCP),
    // APF example: "Common ingress (inbound) TCP ports"; EG_ = egress
    cp_in(208, "IG_TCP_CPORTS=\"80,443\"", "80,443", TCP),
    cp_out(209, "EG_TCP_CPORTS=\"80\"", "80", TCP),
];

#[rustfmt::skip]
const CP_NOT_PORTS: &[(usize, &str, &str)] = &[
    (3, "versions 116 through", "product version"),
    (7, "102", "product version"),
    (9, "112", "product version"),
    (11, "114", "product version"),
    (13, "116", "product version"),
    (16, "February 22, 2024", "date"),
    (143, "2001:0db8:0:0:1:0:0:1", "IPv6 address"),
    (145, "2001:0db8:0:0:1:0:0:1", "IPv6 address"),
    (159, "1. Run", "step number"),
    (160, "2. Run", "step number"),
    (161, "3. Run", "step number"),
    (162, "4. Run", "step number"),
    (163, "5. Run", "step number"),
    (164, "6. Run", "step number"),
    (178, "2001:0db8:0:0:1:0:0:1", "IPv6 address"),
    (180, "2001:0db8:0:0:1:0:0:1", "IPv6 address"),
    (204, "1", "code block line number"),
    (205, "2", "code block line number"),
    (206, "3", "code block line number"),
];

// ------------------------------------------------------------------------------------------------
// 004: Virtuozzo Hybrid Server 7. "`I` ... open for incoming traffic, and `O` ... for outgoing
// traffic" (line 13). The document gives no protocol; the ports are TCP (reference 1.5) except
// DHCP 67 (UDP) and the RPC services (TCP and UDP).

const VZ_HOST: &[&str] = &["role:vhs"];
const VZ_MDS: &[&str] = &["role:mds"];
const VZ_CS: &[&str] = &["role:cs"];
const VZ_CLIENT: &[&str] = &["role:client"];

#[rustfmt::skip]
const VZ: &[Row] = &[
    // "Opened Ports on Standalone Servers"
    row(17, "| 22 | (IO) Used for secure logins via SSH.", "22", TCP, &[NET], VZ_HOST),
    row(17, "| 22 | (IO) Used for secure logins via SSH.", "22", TCP, VZ_HOST, &[NET]),
    // Ambiguous: the (I) half has no stated purpose (the example, a download, is outgoing).
    row(18, "| 80 | (IO) Used for HTTP connections, for example, to download Virtuozzo Hybrid Server updates.", "80", TCP, &[NET], VZ_HOST).flagged("(IO) Used for HTTP connections"),
    row(18, "| 80 | (IO) Used for HTTP connections, for example, to download Virtuozzo Hybrid Server updates.", "80", TCP, VZ_HOST, &[NET]),
    // Wrong: a placeholder was lost in the copy ("the support ** team").
    row(19, "| 443 | (O) Used to send problem reports to the support ** team.", "443", TCP, VZ_HOST, &[NET]).flagged("support ** team"),
    row(20, "| 5224 | (O) Used to connect to the Key Administrator server", "5224", TCP, VZ_HOST, &[NET]),
    row(21, "| 64000 | (IO) Used to connect SDK with the dispatcher", "64000", TCP, &[NET], VZ_HOST),
    row(21, "| 64000 | (IO) Used to connect SDK with the dispatcher", "64000", TCP, VZ_HOST, &[NET]),
    // "does not use port 67 for any external connections"
    row(22, "Virtuozzo Hybrid Server does not use port 67 for any external connections", "67", UDP, &["localhost"], VZ_HOST).tags(&["localhost-only"]),
    // Wrong: the port placeholder (<RPC ports>) was lost; rpcbind 111 plus run-time ports.
    row(23, "| ` ports>` | Used by various RPC services", "", TCP_UDP, &[NET], VZ_HOST).corrected("111,1024-65535", TCP_UDP, "` ports>`").tags(&["dynamic-port"]),
    // "for the DHCP server, if you use one"
    row(24, "| 647, 847 | Reserved by the Linux `portreserve` program for the DHCP server, if you use one.", "647,847", TCP, &[NET], VZ_HOST).tags(&["optional"]),
    row(25, "| 5700-6900 | Range of ports used for VNC connections.", "5700-6900", TCP, &[NET], VZ_HOST),
    // Remote yum repositories, named by protocol: "most ... via HTTP, some ... HTTPS or FTP".
    // Wrong: the example (lines 31-33) shows Virtuozzo 9 placeholders on a VHS 7 page.
    row(27, "most of the repositories can be accessed via HTTP", "80", TCP, VZ_HOST, &[NET]),
    row(27, "some may require access via HTTPS or FTP", "443", TCP, VZ_HOST, &[NET]).flagged("VZ9_mirrorlist_URL"),
    row(27, "some may require access via HTTPS or FTP", "21", TCP, VZ_HOST, &[NET]),
    // "Opened Ports on Servers in Virtuozzo Storage Clusters" - "MDS Servers"
    row(47, "2510", "2510", TCP, VZ_MDS, VZ_MDS),
    row(51, "2511", "2511", TCP, &["role:cs", "role:client"], VZ_MDS),
    // Ambiguous: (IO) on the MDS's 2511, but nothing except an MDS listens on 2511; the catalog
    // keeps the listening half and must say why there is no MDS-initiated 2511 flow.
    row(51, "2511", "2511", TCP, &["role:cs", "role:client"], VZ_MDS).flagged("2511 (IO) Used for communication with chunks servers and clients"),
    // "Chunk Servers". Wrong: the port placeholder (<random port>) was lost: "``".
    row(56, "2511", "2511", TCP, VZ_CS, VZ_MDS),
    row(62, "(I) Used for communication with clients. The chunk server management service automatically binds to any available port.", "", TCP, VZ_CLIENT, VZ_CS).corrected("1024-65535", TCP, "``").tags(&["dynamic-port"]),
    // "Clients"
    row(65, "2511", "2511", TCP, VZ_CLIENT, VZ_MDS),
    row(71, "(O) Used for communication with chunk servers. The client management service automatically binds to any available port.", "", TCP, VZ_CLIENT, VZ_CS).corrected("1024-65535", TCP, "``").tags(&["dynamic-port"]),
];

const VZ_NOT_PORTS: &[(usize, &str, &str)] = &[];

// ------------------------------------------------------------------------------------------------
// the catalog as `fwtopo catalog --json` prints it

#[derive(Deserialize)]
struct Report {
    products: Vec<JProduct>,
}

#[derive(Deserialize)]
struct JProduct {
    id: String,
    document: JDocument,
    roles: Vec<JRole>,
}

#[derive(Deserialize)]
struct JDocument {
    id: String,
}

#[derive(Deserialize)]
struct JRole {
    id: String,
    groups: Vec<String>,
    flows: Vec<JFlow>,
}

#[derive(Deserialize, Clone)]
struct JFlow {
    id: String,
    protocol: String,
    ports: String,
    from: Vec<String>,
    to: Vec<String>,
    service: String,
    tags: Vec<String>,
    note: String,
    source: JSource,
}

#[derive(Deserialize, Clone)]
struct JSource {
    document: String,
    section: String,
    origin: String,
}

/// One product's flows (each flow once per protocol) and each role's groups.
struct Product {
    document: String,
    flows: Vec<JFlow>,
    groups: BTreeMap<String, Vec<String>>,
}

fn report_value() -> serde_json::Value {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    serde_json::to_value(fwtopo::report::catalog(&catalog, None)).expect("the report serializes")
}

fn products() -> BTreeMap<String, Product> {
    let report: Report =
        serde_json::from_value(report_value()).expect("the report has the documented fields");
    let mut out = BTreeMap::new();
    for p in report.products {
        let mut seen = BTreeSet::new();
        let mut flows = Vec::new();
        let mut groups = BTreeMap::new();
        for r in p.roles {
            groups.insert(r.id.clone(), r.groups.clone());
            for f in r.flows {
                if seen.insert((f.id.clone(), f.protocol.clone())) {
                    flows.push(f);
                }
            }
        }
        out.insert(
            p.id,
            Product {
                document: p.document.id,
                flows,
                groups,
            },
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// ports

/// `25`, `8352-8364`, `80,443`, `2082-2083,2086-2087,2096` as inclusive ranges.
fn parse_ports(s: &str) -> Vec<(u32, u32)> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let num = |x: &str| -> u32 {
                let n: u32 = x
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("bad port {x:?} in {s:?}"));
                assert!((1..=65535).contains(&n), "port {n} out of range in {s:?}");
                n
            };
            match p.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a), num(b));
                    assert!(a <= b, "reversed range in {s:?}");
                    (a, b)
                }
                None => (num(p), num(p)),
            }
        })
        .collect()
}

/// Whether `have` includes every port of `want`.
fn covers(have: &[(u32, u32)], want: &[(u32, u32)]) -> bool {
    want.iter()
        .all(|&(a, b)| (a..=b).all(|p| have.iter().any(|&(x, y)| x <= p && p <= y)))
}

/// Whether `have` includes any port of `want`.
fn touches(have: &[(u32, u32)], want: &[(u32, u32)]) -> bool {
    want.iter()
        .any(|&(a, b)| have.iter().any(|&(x, y)| x <= b && a <= y))
}

// ------------------------------------------------------------------------------------------------
// matching a row

/// Whitespace-insensitive text (the CommuniGate copy uses no-break spaces).
fn norm(s: &str) -> String {
    s.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a `role:` name of a table stands for in a product.
enum RoleName<'a> {
    /// A role, with the groups it belongs to.
    Role(&'a [String]),
    /// A group, with its member roles.
    Group(Vec<&'a str>),
    /// Neither: the table is wrong (or the catalog lost the role).
    Unknown,
}

fn role_name<'a>(name: &str, groups: &'a BTreeMap<String, Vec<String>>) -> RoleName<'a> {
    if let Some(g) = groups.get(name) {
        return RoleName::Role(g);
    }
    let members: Vec<&str> = groups
        .iter()
        .filter(|(_, gs)| gs.iter().any(|g| g == name))
        .map(|(r, _)| r.as_str())
        .collect();
    if members.is_empty() {
        RoleName::Unknown
    } else {
        RoleName::Group(members)
    }
}

/// The `role:` names of a row that are neither a role nor a group of the product.
fn unknown_roles(row: &Row, groups: &BTreeMap<String, Vec<String>>) -> Vec<&'static str> {
    row.from
        .iter()
        .chain(row.to)
        .filter_map(|e| e.strip_prefix("role:"))
        .filter(|r| matches!(role_name(r, groups), RoleName::Unknown))
        .collect()
}

/// Whether a flow side `have` includes the table's endpoint `want`. A role is included when the
/// flow names it or one of its groups; a group when the flow names it or includes every member role.
/// An unknown role name is never included ([`check_row`] reports it before matching).
fn endpoint_ok(want: &str, have: &[String], groups: &BTreeMap<String, Vec<String>>) -> bool {
    if want == NET {
        return have.iter().any(|e| e != "localhost");
    }
    if have.iter().any(|e| e == want) {
        return true;
    }
    let names = |g: &str| have.iter().any(|e| e.strip_prefix("role:") == Some(g));
    match want.strip_prefix("role:").map(|r| role_name(r, groups)) {
        Some(RoleName::Role(gs)) => gs.iter().any(|g| names(g)),
        Some(RoleName::Group(members)) => members
            .iter()
            .all(|m| endpoint_ok(&format!("role:{m}"), have, groups)),
        Some(RoleName::Unknown) | None => false,
    }
}

fn describe(f: &JFlow) -> String {
    format!(
        "{} {} {} [{}] -> [{}] tags [{}]",
        f.id,
        f.protocol,
        f.ports,
        f.from.join(","),
        f.to.join(","),
        f.tags.join(",")
    )
}

/// Checks one row against the product's flows; returns what is missing. Each port or range of the
/// row must be covered by one flow per protocol.
fn check_row(seed: &Seed, product: &Product, row: &Row) -> Vec<String> {
    // A role the catalog lacks is the row's failure, whatever flows share its port.
    let unknown = unknown_roles(row, &product.groups);
    if !unknown.is_empty() {
        return unknown
            .iter()
            .map(|r| {
                format!(
                    "{}:{} {:?}: the table names role {r:?}, which {} has neither as a role nor as a group",
                    seed.file, row.line, row.doc, seed.product
                )
            })
            .collect();
    }
    let (ports, protos, quote) = match row.fix {
        Fix::None => (row.ports, row.protos, None),
        Fix::Flagged { quote } => (row.ports, row.protos, Some(quote)),
        Fix::Corrected {
            ports,
            protos,
            quote,
        } => (ports, protos, Some(quote)),
    };
    let want = parse_ports(ports);
    assert!(
        !want.is_empty(),
        "{}:{}: the row names no ports to look for",
        seed.file,
        row.line
    );
    let doc_ports = parse_ports(row.ports);
    // Ports the document gets wrong must not be what the corrected flow opens.
    let wrong: Vec<(u32, u32)> = match row.fix {
        Fix::Corrected { .. } if !covers(&want, &doc_ports) => doc_ports,
        _ => Vec::new(),
    };
    // A flow over all ports or over run-time ports only counts for a row asking for one.
    let wide_ok = row.tags.contains(&"dynamic-port") || covers(&want, &[(1, 65535)]);
    let fits = |f: &JFlow| {
        let have = parse_ports(&f.ports);
        let wide = f.tags.iter().any(|t| t == "dynamic-port") || covers(&have, &[(1, 65535)]);
        let text = format!("{} {} {}", f.service, f.note, f.source.section).to_lowercase();
        (!wide || wide_ok)
            && row
                .from
                .iter()
                .all(|e| endpoint_ok(e, &f.from, &product.groups))
            && row
                .to
                .iter()
                .all(|e| endpoint_ok(e, &f.to, &product.groups))
            && row.tags.iter().all(|t| f.tags.iter().any(|x| x == t))
            && (row.hint.is_empty() || text.contains(&row.hint.to_lowercase()))
            && f.source.document == seed.file
            && !f.source.section.trim().is_empty()
            && ["seed", "vendor", "inferred"].contains(&f.source.origin.as_str())
            && !touches(&have, &wrong)
            && quote.is_none_or(|q| {
                f.tags.iter().any(|t| t == "errata")
                    && !f.note.trim().is_empty()
                    && norm(&f.note).contains(&norm(q))
            })
    };
    let mut errors = Vec::new();
    for proto in protos {
        for &range in &want {
            let same_port: Vec<&JFlow> = product
                .flows
                .iter()
                .filter(|f| f.protocol == *proto && covers(&parse_ports(&f.ports), &[range]))
                .collect();
            if same_port.iter().any(|f| fits(f)) {
                continue;
            }
            let (a, b) = range;
            let port = if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            };
            let mut msg = format!(
                "{}:{} {:?}: no {proto} flow on {port} from [{}] to [{}]",
                seed.file,
                row.line,
                row.doc,
                row.from.join(","),
                row.to.join(",")
            );
            if !row.tags.is_empty() {
                msg += &format!(" tagged [{}]", row.tags.join(","));
            }
            if !row.hint.is_empty() {
                msg += &format!(" about {:?}", row.hint);
            }
            if let Some(q) = quote {
                msg += &format!(" tagged errata with a note quoting {q:?}");
            }
            if !wrong.is_empty() {
                msg += &format!(" and not opening the document's {}", row.ports);
            }
            msg += "; flows on that port:";
            if same_port.is_empty() {
                msg += " none";
            }
            for f in &same_port {
                msg += &format!("\n        {}", describe(f));
            }
            errors.push(msg);
        }
    }
    errors
}

fn check_seed(seed: &Seed) {
    let products = products();
    let product = products
        .get(seed.product)
        .unwrap_or_else(|| panic!("catalog has no product {}", seed.product));
    assert_eq!(
        product.document, seed.file,
        "{} is built from {}",
        seed.product, seed.file
    );
    let errors: Vec<String> = seed
        .rows
        .iter()
        .flat_map(|r| check_row(seed, product, r))
        .collect();
    let fixes = seed
        .rows
        .iter()
        .filter(|r| !matches!(r.fix, Fix::None))
        .count();
    eprintln!(
        "{}: {} rows, {} of them errata, {} failing",
        seed.file,
        seed.rows.len(),
        fixes,
        errors.len()
    );
    assert!(
        errors.is_empty(),
        "{} of {} rows of {} are not in the catalog:\n    {}",
        errors.len(),
        seed.rows.len(),
        seed.file,
        errors.join("\n    ")
    );
}

// ------------------------------------------------------------------------------------------------
// the tests

#[test]
fn plesk_automation_seed_is_in_the_catalog() {
    check_seed(&SEEDS[0]);
}

#[test]
fn mailstore_spe_seed_is_in_the_catalog() {
    check_seed(&SEEDS[1]);
}

#[test]
fn communigate_pro_seed_is_in_the_catalog() {
    check_seed(&SEEDS[2]);
}

#[test]
fn cpanel_whm_seed_is_in_the_catalog() {
    check_seed(&SEEDS[3]);
}

#[test]
fn virtuozzo_seed_is_in_the_catalog() {
    check_seed(&SEEDS[4]);
}

#[test]
fn common_services_are_in_the_catalog() {
    check_seed(&COMMON);
}

/// The checks above can fail: a catalog without one flow, or with a flow stripped of its errata
/// tag, loses rows.
#[test]
fn the_checks_notice_a_missing_flow_and_a_missing_errata_tag() {
    let seed = &SEEDS[2];
    let mut product = products().remove(seed.product).unwrap();
    let ldap = seed.rows.iter().find(|r| r.line == 17).unwrap();
    let xmpp = seed.rows.iter().find(|r| r.line == 60).unwrap();
    assert!(check_row(seed, &product, ldap).is_empty());
    assert!(check_row(seed, &product, xmpp).is_empty());
    for f in product.flows.iter_mut().filter(|f| f.id == "ldap") {
        f.tags.retain(|t| t != "errata");
    }
    product.flows.retain(|f| f.id != "cluster-xmpp");
    assert_eq!(check_row(seed, &product, ldap).len(), 1);
    assert_eq!(
        check_row(seed, &product, xmpp).len(),
        1,
        "cluster-any-port must not stand in for 5222"
    );
    assert!(!covers(
        &parse_ports("2082-2083,2086-2087,2096"),
        &parse_ports("2084")
    ));
    assert!(covers(
        &parse_ports("2082-2083,2086-2087,2096"),
        &parse_ports("2083,2096")
    ));
}

/// Where the seed documents are: `$FWTOPO_SEEDS_DIR`, or `../shared/seeds` beside the repository.
fn seeds_path() -> PathBuf {
    match std::env::var_os("FWTOPO_SEEDS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds"),
    }
}

fn seeds_dir() -> Option<PathBuf> {
    let dir = seeds_path();
    dir.is_dir().then_some(dir)
}

/// Whether missing seed documents fail the run: `FWTOPO_REQUIRE_SEEDS` is set, or CI's
/// `FWTOPO_REQUIRE_SYSTEM_TESTS=1` (which turns every skip into a failure).
fn seeds_required() -> bool {
    std::env::var_os("FWTOPO_REQUIRE_SEEDS").is_some()
        || std::env::var("FWTOPO_REQUIRE_SYSTEM_TESTS").is_ok_and(|v| v == "1")
}

/// Port-like numbers of a line: digit runs not glued to letters or dots, `a-b` / `a:b` as ranges.
fn numbers(line: &str) -> Vec<(u32, u32)> {
    let c: Vec<char> = line.chars().collect();
    let glued = |x: Option<&char>| x.is_some_and(|x| x.is_alphanumeric() || *x == '_' || *x == '+');
    let digits = |mut i: usize| {
        let start = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        (
            c[start..i]
                .iter()
                .collect::<String>()
                .parse::<u32>()
                .unwrap_or(u32::MAX),
            i,
        )
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let (a, mut end) = digits(i);
        let mut b = a;
        if end + 1 < c.len() && (c[end] == '-' || c[end] == ':') && c[end + 1].is_ascii_digit() {
            let (n, e) = digits(end + 1);
            b = n;
            end = e;
        }
        let before = start.checked_sub(1).and_then(|k| c.get(k));
        let after = c.get(end);
        let dotted = |k: Option<usize>| k.and_then(|k| c.get(k)) == Some(&'.');
        let skip = glued(before)
            || glued(after)
            || (dotted(start.checked_sub(1)) && start >= 2 && c[start - 2].is_alphanumeric())
            || (dotted(Some(end)) && c.get(end + 1).is_some_and(|x| x.is_alphanumeric()));
        if !skip {
            out.push((a, b));
        }
        i = end;
    }
    out
}

#[test]
fn the_tables_quote_the_seed_documents_and_miss_no_port() {
    let Some(dir) = seeds_dir() else {
        let reason = format!(
            "seed documents not found in {} (set FWTOPO_SEEDS_DIR)",
            seeds_path().display()
        );
        assert!(
            std::env::var_os("FWTOPO_REQUIRE_SEEDS").is_none(),
            "seed documents not found (set FWTOPO_SEEDS_DIR): {reason}, FWTOPO_REQUIRE_SEEDS is set"
        );
        assert!(
            !seeds_required(),
            "{reason}; FWTOPO_REQUIRE_SYSTEM_TESTS=1 makes a missing seeds directory a failure"
        );
        // Straight to the stderr handle: libtest captures `eprintln!` of passing tests.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED ({reason}): table-versus-document check"
        );
        return;
    };
    let mut errors = Vec::new();
    for seed in SEEDS {
        let text = std::fs::read_to_string(dir.join(seed.file))
            .unwrap_or_else(|e| panic!("{}: {e}", seed.file));
        let lines: Vec<&str> = text.lines().collect();
        let line = |n: usize| lines.get(n.wrapping_sub(1)).copied().unwrap_or("");
        for r in seed.rows {
            if !norm(line(r.line)).contains(&norm(r.doc)) {
                errors.push(format!(
                    "{}:{}: {:?} is not on that line: {:?}",
                    seed.file,
                    r.line,
                    r.doc,
                    line(r.line)
                ));
            }
            if !r.ports.is_empty() {
                parse_ports(r.ports);
            }
        }
        for (n, text, _why) in seed.not_ports {
            if !line(*n).contains(text) {
                errors.push(format!(
                    "{}:{n}: not_ports {text:?} is not on that line",
                    seed.file
                ));
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let n = i + 1;
            let mut l = l.to_string();
            for (_, text, _) in seed.not_ports.iter().filter(|(m, _, _)| *m == n) {
                l = l.replacen(text, " ", 1);
            }
            for (a, b) in numbers(&l) {
                let named = seed
                    .rows
                    .iter()
                    .filter(|r| r.line == n && !r.ports.is_empty())
                    .any(|r| covers(&parse_ports(r.ports), &[(a, b)]));
                if !named {
                    let p = if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    };
                    errors.push(format!(
                        "{}:{n}: port {p} has no row: {:?}",
                        seed.file, lines[i]
                    ));
                }
            }
        }
    }
    assert!(
        errors.is_empty(),
        "the tables do not match the documents:\n    {}",
        errors.join("\n    ")
    );
}

/// Without the seed documents the table-versus-document check is a visible skip on a developer
/// machine and a failure in CI (`FWTOPO_REQUIRE_SYSTEM_TESTS=1`) or with `FWTOPO_REQUIRE_SEEDS`.
/// Runs this test binary again, with the seeds directory pointed somewhere empty.
#[test]
fn missing_seed_documents_skip_visibly_or_fail_in_ci() {
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("no-seeds-here");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "the_tables_quote_the_seed_documents_and_miss_no_port",
            "--test-threads=1",
        ])
        .env("FWTOPO_SEEDS_DIR", &missing)
        .env_remove("FWTOPO_REQUIRE_SEEDS")
        .env_remove("FWTOPO_REQUIRE_SYSTEM_TESTS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run(&[]);
    assert!(ok, "a missing seeds directory is a skip: {stderr}");
    assert!(
        stderr.contains("SKIPPED (seed documents not found in"),
        "the skip is visible: {stderr}"
    );
    let (ok, stderr) = run(&[("FWTOPO_REQUIRE_SYSTEM_TESTS", "1")]);
    assert!(!ok, "CI mode fails without the seeds: {stderr}");
    let (ok, stderr) = run(&[("FWTOPO_REQUIRE_SEEDS", "1")]);
    assert!(
        !ok,
        "FWTOPO_REQUIRE_SEEDS fails without the seeds: {stderr}"
    );
    // Any other value of FWTOPO_REQUIRE_SYSTEM_TESTS is a developer machine.
    let (ok, stderr) = run(&[("FWTOPO_REQUIRE_SYSTEM_TESTS", "0")]);
    assert!(ok, "FWTOPO_REQUIRE_SYSTEM_TESTS=0 skips: {stderr}");
}

/// Row matching looks at every flow on a row's port, so it does not depend on the order of the
/// catalog's flows; a role name the catalog lacks fails its row instead of panicking.
#[test]
fn row_matching_does_not_depend_on_flow_order() {
    for seed in SEEDS {
        let mut product = products().remove(seed.product).unwrap();
        let forward: Vec<Vec<String>> = seed
            .rows
            .iter()
            .map(|r| check_row(seed, &product, r))
            .collect();
        product.flows.reverse();
        let backward: Vec<Vec<String>> = seed
            .rows
            .iter()
            .map(|r| check_row(seed, &product, r))
            .collect();
        assert_eq!(forward, backward, "{}: reversed flows", seed.file);
    }
    // PA line 8 names the group `sn`: flows on port 80 that do not come from a service node are
    // looked at first.
    let seed = &SEEDS[0];
    let mut product = products().remove(seed.product).unwrap();
    let repo = seed.rows.iter().find(|r| r.line == 8).unwrap();
    assert_eq!(repo.from, PA_SN);
    product
        .flows
        .sort_by_key(|f| f.from.iter().any(|e| e == "role:sn"));
    let first_on_80 = product
        .flows
        .iter()
        .find(|f| f.protocol == "tcp" && covers(&parse_ports(&f.ports), &[(80, 80)]))
        .unwrap();
    assert!(!first_on_80.from.iter().any(|e| e == "role:sn"));
    assert!(check_row(seed, &product, repo).is_empty());
    // A group is also met by a flow naming each of its roles, and not by one naming only some.
    let members: Vec<String> = product
        .groups
        .iter()
        .filter(|(_, gs)| gs.iter().any(|g| g == "sn"))
        .map(|(r, _)| format!("role:{r}"))
        .collect();
    assert!(members.len() > 1);
    let mut spelled = products().remove(seed.product).unwrap();
    for f in spelled.flows.iter_mut() {
        if let Some(i) = f.from.iter().position(|e| e == "role:sn") {
            f.from.splice(i..=i, members.iter().cloned());
        }
    }
    assert!(check_row(seed, &spelled, repo).is_empty());
    for f in spelled.flows.iter_mut() {
        f.from.retain(|e| e != &members[0]);
    }
    assert_eq!(check_row(seed, &spelled, repo).len(), 1);
    // A role the catalog lacks: one clear error, in either flow order.
    let bogus = row(
        8,
        "80: Connection to PA package repository from service nodes",
        "80",
        TCP,
        &["role:no-such-role"],
        PA_MN,
    );
    for _ in 0..2 {
        let errors = check_row(seed, &product, &bogus);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("\"no-such-role\"")
                && errors[0].contains("neither as a role nor as a group"),
            "{}",
            errors[0]
        );
        product.flows.reverse();
    }
}

/// The real binary prints the same report, with all five products and the host product.
#[test]
fn fwtopo_catalog_json_carries_every_product() {
    let config = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("fwtopo")
        .unwrap()
        .env("FWTOPO_CONFIG_DIR", config.path())
        .args(["catalog", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fwtopo catalog --json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("fwtopo catalog --json prints JSON");
    let ids: BTreeSet<&str> = printed["products"]
        .as_array()
        .expect("products is a list")
        .iter()
        .map(|p| p["id"].as_str().expect("product id"))
        .collect();
    let mut expected: BTreeSet<&str> = SEEDS.iter().map(|s| s.product).collect();
    expected.insert("host");
    expected.insert("common-services");
    assert_eq!(ids, expected);
    for seed in SEEDS {
        let p = printed["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == seed.product)
            .unwrap();
        assert_eq!(p["document"]["id"], seed.file);
        let flows: usize = p["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["flows"].as_array().unwrap().len())
            .sum();
        assert!(flows > 0, "{} has no flows", seed.product);
    }
    // Every row checked against the library's report holds for the binary's output too.
    assert_eq!(
        printed,
        report_value(),
        "the binary prints the library's report"
    );
}
