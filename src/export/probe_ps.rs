//! The probe script of a Windows node, in PowerShell: the same flows and lines as the bash one
//! ([`super::probe`]).
//!
//! Each attempt is a `System.Net.Sockets.TcpClient` connect bounded by a wait, rather than
//! `Test-NetConnection`: that cmdlet has no timeout in Windows PowerShell 5.1 (a dropped port
//! costs about 21 seconds) and pings first, so a site with a few failures would take minutes;
//! the client also needs no module and runs alike in PowerShell 5.1 and 7.

use super::probe::{DEFAULT_SECONDS, header, probes};
use super::{Export, text};

/// One Windows node's probe script.
pub fn render(x: &Export) -> String {
    let p = probes(x);
    let file = format!("{}.probe.ps1", x.node().name);
    let mut o: Vec<String> = header(
        x,
        &format!("powershell -ExecutionPolicy Bypass -File .\\{file}"),
        &p,
    )
    .into_iter()
    .map(|l| format!("# {l}"))
    .collect();
    o.push(String::new());
    o.extend(
        PS_PRELUDE
            .iter()
            .map(|l| l.replace("{SECONDS}", &DEFAULT_SECONDS.to_string())),
    );
    for a in &p.attempts {
        o.push(format!(
            "Test-FwtopoFlow {} {} {} {}",
            text::ps_quote(&a.address.to_string()),
            a.port,
            text::ps_quote(&a.peer),
            text::ps_quote(&a.what)
        ));
    }
    for u in &p.unprobed {
        o.push(format!("Write-Output {}", text::ps_quote(&u.line())));
    }
    o.extend(PS_END.iter().map(|l| l.to_string()));
    let mut s = o.join("\n");
    s.push('\n');
    s
}

/// Fixed text: the wait, the counting, and one bounded connect per flow.
const PS_PRELUDE: &[&str] = &[
    "$fwtopoWait = {SECONDS}",
    "if ($env:FWTOPO_PROBE_SECONDS) {",
    "  if ($env:FWTOPO_PROBE_SECONDS -notmatch '^[1-9][0-9]{0,2}$') {",
    "    [Console]::Error.WriteLine('fwtopo probe: FWTOPO_PROBE_SECONDS must be a whole number of seconds from 1 to 999')",
    "    exit 2",
    "  }",
    "  $fwtopoWait = [int]$env:FWTOPO_PROBE_SECONDS",
    "}",
    "$fwtopoTried = 0",
    "$fwtopoReached = 0",
    "# Test-FwtopoFlow ADDRESS PORT PEER SERVICES: one TCP flow, counted.",
    "function Test-FwtopoFlow([string]$Address, [int]$Port, [string]$Peer, [string]$What) {",
    "  $script:fwtopoTried++",
    "  $ok = $false",
    "  $client = New-Object System.Net.Sockets.TcpClient([System.Net.IPAddress]::Parse($Address).AddressFamily)",
    "  try {",
    "    $wait = $client.BeginConnect($Address, $Port, $null, $null)",
    "    if ($wait.AsyncWaitHandle.WaitOne($fwtopoWait * 1000) -and $client.Connected) {",
    "      $client.EndConnect($wait)",
    "      $ok = $true",
    "    }",
    "  } catch {",
    "    $ok = $false",
    "  } finally {",
    "    $client.Close()",
    "  }",
    "  if ($ok) {",
    "    $script:fwtopoReached++",
    "    Write-Output ('ok     tcp/{0} to {1} ({2}): {3}' -f $Port, $Address, $Peer, $What)",
    "  } else {",
    "    Write-Output ('FAILED tcp/{0} to {1} ({2}): {3}' -f $Port, $Address, $Peer, $What)",
    "  }",
    "}",
    "",
];

const PS_END: &[&str] = &[
    "Write-Output ('flows reached {0}/{1}' -f $fwtopoReached, $fwtopoTried)",
    "if ($fwtopoReached -lt $fwtopoTried) { exit 1 }",
    "exit 0",
];
