//! The shell pieces CSF and APF scripts share. Both tools build the kernel's rules from their own
//! configuration directory, so their scripts have one shape: find the configuration, back up its
//! files and the kernel's rules of both families, rewrite the configuration, restart the tool, and
//! keep or roll back. Only names differ; the tool-specific middle stays in `csf.rs` and `apf.rs`.

use super::firewalld::shell;
use crate::target::Target;

/// How one configuration-driven firewall is named in its script.
pub struct ConfFirewall {
    pub target: Target,
    /// The product's name in messages: `CSF`, `APF`.
    pub product: &'static str,
    /// The shell variable holding the configuration directory: `CSF_DIR`, `APF_DIR`.
    pub dir_var: &'static str,
    /// The main configuration file in that directory: `csf.conf`, `conf.apf`.
    pub conf: &'static str,
    /// Its IPv6 switch as the operator's old file had it: `IPV6 = "0"`, `USE_IPV6="0"`.
    pub ipv6_off: &'static str,
}

impl ConfFirewall {
    /// The command name: `csf`, `apf`.
    fn cmd(&self) -> &'static str {
        self.target.as_str()
    }

    /// The tool section's start: where its configuration is, and whether the tool is installed.
    pub fn locate(&self) -> Vec<String> {
        let (t, dir) = (self.cmd(), self.dir_var);
        vec![
            format!("# --- {t} ---"),
            "ROOT=\"${FWTOPO_ROOT:-}\"".into(),
            format!("{dir}=\"$ROOT/etc/{t}\""),
            format!("CONF=\"${dir}/{}\"", self.conf),
            format!(
                "[ -f \"$CONF\" ] || die \"$CONF not found: install {} first (and remove firewalld: they cannot coexist)\"",
                self.product
            ),
            format!(
                "if [ -n \"$ROOT\" ]; then LIVE=0; else command -v {t} >/dev/null || die \"{t} not found in PATH\"; fi"
            ),
        ]
    }

    /// The kernel's rules kept beside the files, the roll-back (`extra`: shell lines that print
    /// more roll-back lines before the files are restored), and the safe apply's start.
    pub fn backup(&self, extra: &[&str]) -> Vec<String> {
        let mut o = shell::netfilter_state(self.target);
        o.extend([
            format!(
                "# The roll-back: the files as saved, then the kernel's rules as saved (no {} -r: with the",
                self.cmd()
            ),
            format!(
                "# old {} it would leave the IPv6 rules of this export in place).",
                self.ipv6_off
            ),
            "rollback_body() {".into(),
            "  save_netfilter".into(),
        ]);
        o.extend(extra.iter().map(|l| format!("  {l}")));
        o.extend(
            [
                "  echo 'tar -xPf \"$BACKUP\"'",
                "  netfilter_rollback",
                "}",
                "safe_begin",
                "",
            ]
            .map(String::from),
        );
        o
    }

    /// The end: the tool's own safety-net note (`note`: shell lines), files only below a root,
    /// otherwise the restart and the confirmation.
    pub fn finish(&self, note: &[&str]) -> Vec<String> {
        let t = self.cmd();
        let mut o: Vec<String> = note.iter().map(|l| l.to_string()).collect();
        o.extend([
            "if [ -n \"$ROOT\" ]; then say \"done: files written below $ROOT\"; exit 0; fi".into(),
            format!("say \"{t} -r\""),
            format!("{t} -r >/dev/null"),
            "safe_end".into(),
            "say \"done\"".into(),
        ]);
        o
    }
}
