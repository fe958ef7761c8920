//! The command line: a thin face over the core. Parses arguments, loads files through
//! [`fwtopo::files`], calls the same pure functions the designer uses, and prints.

mod parallel;
mod select;
mod text;
mod verify;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand};
use fwtopo::catalog::Catalog;
use fwtopo::date::Date;
use fwtopo::engine::{self, Severity};
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::files::{self, export_index, export_index::Written};
use fwtopo::target::Target;
use fwtopo::topology::{self, Topology};
use fwtopo::user_text::{escaped, quoted};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Design the host firewalls of a multi-server deployment from vendor port documents.
#[derive(Debug, Parser)]
#[command(name = "fwtopo", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Where extra catalog files (catalog/*.ron) and themes (themes/*.ron) are read (default:
    /// $FWTOPO_CONFIG_DIR or the platform config dir).
    #[arg(long, global = true, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// The day expiry findings are reckoned from (FW029, FW030), YYYY-MM-DD (default:
    /// $FWTOPO_TODAY, else today's date in UTC): for reproducible CI runs.
    #[arg(long, global = true, value_name = "YYYY-MM-DD")]
    today: Option<Date>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the products and roles of the catalog, or every flow of one product.
    Catalog {
        /// A product id (plesk-automation, mailstore-spe, communigate-pro, cpanel-whm, …).
        product: Option<String>,
        /// Print JSON for scripts and jq.
        #[arg(long)]
        json: bool,
        /// With a product: every flow's note (errata, the document's own words), switch and
        /// source, and every parameter's help, in full.
        #[arg(long, requires = "product")]
        notes: bool,
    },
    /// Print every node's inbound and outbound rules.
    Rules {
        /// A topology file (.ron).
        file: PathBuf,
        /// Only this node.
        #[arg(long)]
        node: Option<String>,
        /// Print JSON for scripts and jq.
        #[arg(long)]
        json: bool,
    },
    /// Check a topology and print its findings; exits 1 when there are errors.
    Check {
        /// A topology file (.ron).
        file: PathBuf,
    },
    /// Draw the site: zones, nodes (OS and roles), external hosts and any, one edge per source
    /// and destination labelled with protocols and ports, management access bold. DOT for
    /// Graphviz, Mermaid for Markdown, or SVG laid out by fwtopo itself.
    Diagram {
        /// A topology file (.ron).
        file: PathBuf,
        /// dot, mermaid or svg.
        #[arg(long, default_value = "dot", value_parser = ["dot", "mermaid", "svg"])]
        format: String,
        /// Only these nodes and what reaches them (repeat it, or separate names with commas).
        #[arg(long, value_delimiter = ',')]
        node: Vec<String>,
        /// Only the nodes playing a role of this product, and what reaches them.
        #[arg(long, value_delimiter = ',')]
        product: Vec<String>,
    },
    /// What a change does to the firewalls: per node the ports opened and closed to each peer,
    /// nodes added and removed, findings introduced and resolved. OLD may be `-` (standard input:
    /// `git show HEAD~1:site.ron | fwtopo diff - site.ron`). Exit status 0 when the derived
    /// firewalls are the same (whatever the files' formatting), 1 when they differ, 2 unusable input.
    Diff {
        /// The topology before (.ron, or - for standard input).
        old: PathBuf,
        /// The topology after (.ron).
        new: PathBuf,
        /// text (coloured on a terminal, unless NO_COLOR is set) or markdown (for a ticket or a
        /// pull request).
        #[arg(long, default_value = "text", value_parser = ["text", "markdown"])]
        format: String,
        /// Print JSON for scripts and jq.
        #[arg(long)]
        json: bool,
    },
    /// Can FROM reach TO on a port, and which rules say so: the inbound rule on TO and, with
    /// --egress strict, the outbound rule on FROM, each with its flows and document sections; when
    /// not, what would allow it. Exit status 0 allowed, 1 not allowed, 2 unusable input.
    Query {
        /// A topology file (.ron).
        file: PathBuf,
        /// A node, zone, external host or address.
        #[arg(long)]
        from: String,
        /// A node, zone, external host or address.
        #[arg(long)]
        to: String,
        /// The destination port (1-65535).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
        /// tcp or udp.
        #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp"])]
        proto: String,
        /// open (default: only inbound rules decide) or strict (FROM's outbound rules too).
        #[arg(long, default_value = "open")]
        egress: Egress,
        /// Print JSON for scripts and jq.
        #[arg(long)]
        json: bool,
    },
    /// Is a node's live firewall still the design? Reads the live rules (on the node: runs `nft -j
    /// list ruleset`, or `iptables-save` and `ip6tables-save`, as the node's firewall says; or
    /// --live captures taken elsewhere) and reports what the design allows that the live firewall
    /// blocks (missing), what the live firewall allows beyond the design (an extra port, a wider
    /// peer), and tables, chains and rules that are not fwtopo's. Exit status 0 in sync, 1 drift,
    /// 2 unusable input.
    #[command(after_help = verify::capture_help())]
    Verify {
        /// A topology file (.ron).
        file: PathBuf,
        /// The node whose firewall is read.
        #[arg(long)]
        node: String,
        /// A capture file (- for standard input) instead of running the tools; repeat it for
        /// iptables-save and ip6tables-save in two files.
        #[arg(long, value_name = "CAPTURE")]
        live: Vec<PathBuf>,
        /// The egress the export used: open (default: outbound not filtered) or strict.
        #[arg(long, default_value = "open")]
        egress: Egress,
        /// Print JSON for scripts and jq.
        #[arg(long)]
        json: bool,
    },
    /// Export firewall scripts: one node to standard output, or every node to files under --out.
    /// Refuses (exit status 1, nothing written) while an exported node has errors, unless --force.
    Export {
        /// A topology file (.ron).
        file: PathBuf,
        /// nftables, iptables, firewalld, ufw, csf, apf, netsh, powershell, or auto: each node's
        /// `firewall`, else from its OS (nftables; iptables on Ubuntu, Debian, CentOS and
        /// Virtuozzo; both netsh and powershell for Windows). Or probe: per node, a script to run
        /// on it after deploying that tries every flow it should reach (<node>.probe.sh, or
        /// <node>.probe.ps1 for Windows; exit status 0 all reached, 1 some failed). Or ansible
        /// (with --out): each node's script as auto picks it (PowerShell on Windows) and its
        /// probe script, an inventory and a playbook.
        #[arg(long, short)]
        target: TargetArg,
        /// Only these nodes (repeat it, or separate names with commas).
        #[arg(long, value_delimiter = ',')]
        node: Vec<String>,
        /// Only the nodes playing this role (product/role, or a role id; repeatable).
        #[arg(long, value_delimiter = ',')]
        role: Vec<String>,
        /// Write one file per node and target, plus index.txt, into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Outbound policy: open (default; derived outbound rules as comments) or strict (default drop).
        #[arg(long, default_value = "open")]
        egress: Egress,
        /// CRLF line ends for Windows targets on standard output too (files under --out get
        /// them by default, since cmd.exe and Notepad expect them).
        #[arg(long, conflicts_with = "lf")]
        crlf: bool,
        /// LF line ends for Windows scripts written under --out.
        #[arg(long)]
        lf: bool,
        /// Export even when `fwtopo check` reports errors for an exported node (they are printed).
        #[arg(long)]
        force: bool,
        /// Remove the scripts an earlier export wrote into --out and this one no longer writes
        /// (without it they are listed as stale); never a file fwtopo did not write.
        #[arg(long, requires = "out")]
        prune: bool,
    },
    /// Write a starter topology (to FILE, or to standard output).
    New {
        /// Lay out one node per role of this product.
        #[arg(long)]
        product: Option<String>,
        /// Where to write; refuses to overwrite an existing file unless --force.
        file: Option<PathBuf>,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Open the designer on FILE (a new topology is saved there on first save).
    Design {
        /// A topology file (.ron); it need not exist yet.
        file: Option<PathBuf>,
        /// dark, light, high-contrast, or a theme in <config>/themes/ (default: $FWTOPO_THEME or dark).
        #[arg(long)]
        theme: Option<String>,
        /// Where the crash-recovery copy is kept (default: $FWTOPO_DATA_DIR or the platform data dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

/// `--target`: one firewall, or `auto` to pick per node.
#[derive(Debug, Clone, Copy)]
enum TargetArg {
    Auto,
    One(Target),
    /// Every node's own script plus an Ansible inventory and playbook (needs --out).
    Ansible,
}

impl std::str::FromStr for TargetArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "auto" {
            Ok(TargetArg::Auto)
        } else if s == "ansible" {
            Ok(TargetArg::Ansible)
        } else {
            Target::export_named(s)
                .map(TargetArg::One)
                .map_err(|e| format!("{e}; or probe, ansible, or auto"))
        }
    }
}

/// Exit status for input that cannot be used (bad file, unknown name).
const EXIT_INPUT: u8 = 2;

/// Pretty JSON and a newline, buffered (standard output flushes at every line, and pretty JSON
/// has a line per value). Write errors stay `io::Error`s, so a closed pipe stays quiet.
fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut w, value).map_err(std::io::Error::from)?;
    writeln!(w)?;
    w.flush()
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            // Broken pipe (`fwtopo rules x | head`) is not an error worth a message.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("fwtopo: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    if let Some(dir) = cli.config_dir {
        files::set_config_dir(dir);
    }
    // Read when a command derives, so a bad $FWTOPO_TODAY troubles no other command.
    let flag = cli.today;
    let today = || -> Result<Date> {
        match flag {
            Some(d) => Ok(d),
            None => files::today().map_err(anyhow::Error::msg),
        }
    };
    let Some(command) = cli.command else {
        // Plain `fwtopo` opens the designer on the built-in example.
        return crate::tui::run(crate::tui::Options {
            today: Some(today()?),
            ..Default::default()
        });
    };
    let mut out = std::io::stdout().lock();
    match command {
        Command::Catalog {
            product,
            json,
            notes,
        } => {
            let catalog = load_catalog()?;
            if let Some(id) = &product
                && catalog.product(id).is_none()
            {
                let known: Vec<&str> = catalog.products().iter().map(|p| p.id.as_str()).collect();
                bail!(
                    "unknown product {} (known: {})",
                    quoted(id),
                    known.join(", ")
                );
            }
            if json {
                write_json(
                    &mut out,
                    &fwtopo::report::catalog(&catalog, product.as_deref()),
                )?;
            } else {
                out.write_all(text::catalog(&catalog, product.as_deref(), notes).as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { file, node, json } => {
            let catalog = load_catalog()?;
            let topology = load_checked(&file, &catalog)?;
            // The topology's own roles and flows join the catalog as one more product.
            let catalog = topology::site_catalog(&catalog, &topology);
            if let Some(n) = &node
                && topology.node(n).is_none()
            {
                bail!("{}: no node named {}", shown(&file), quoted(n));
            }
            let plan = engine::derive_on(&catalog, &topology, today()?);
            if json {
                let shown_file = shown(&file);
                let report = fwtopo::report::rules(&catalog, &topology, &plan, node.as_deref())
                    .from_file(&shown_file);
                write_json(&mut out, &report)?;
            } else {
                out.write_all(text::rules(&catalog, &topology, &plan, node.as_deref()).as_bytes())?;
                if !topology.custom.is_empty() {
                    let services: Vec<&str> = topology
                        .custom
                        .flows
                        .iter()
                        .map(|f| f.service.as_str())
                        .collect();
                    writeln!(
                        out,
                        "custom flows ({}/...), from the custom section of {}: {}",
                        topology::custom::PRODUCT,
                        shown(&file),
                        services.join(", ")
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagram {
            file,
            format,
            node,
            product,
        } => {
            let catalog = load_catalog()?;
            let topology = load_checked(&file, &catalog)?;
            let catalog = topology::site_catalog(&catalog, &topology);
            if let Some(n) = node.iter().find(|n| topology.node(n).is_none()) {
                bail!("{}: no node named {}", shown(&file), quoted(n));
            }
            if let Some(p) = product.iter().find(|p| catalog.product(p).is_none()) {
                bail!("{}: no product {} in the catalog", shown(&file), quoted(p));
            }
            let plan = engine::derive_on(&catalog, &topology, today()?);
            let filter = fwtopo::diagram::Filter {
                nodes: node,
                products: product,
            };
            let d = fwtopo::diagram::build(&catalog, &topology, &plan, &filter);
            let text = match format.as_str() {
                "mermaid" => fwtopo::diagram::mermaid(&d),
                "svg" => fwtopo::diagram::svg(&d),
                _ => fwtopo::diagram::dot(&d, &topology.name),
            };
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            old,
            new,
            format,
            json,
        } => {
            let catalog = load_catalog()?;
            let before = load_checked(&old, &catalog)?;
            let after = load_checked(&new, &catalog)?;
            // Each side with its own custom roles.
            let d = fwtopo::diff::diff(
                &engine::derive_on(
                    &topology::site_catalog(&catalog, &before),
                    &before,
                    today()?,
                ),
                &engine::derive_on(&topology::site_catalog(&catalog, &after), &after, today()?),
            );
            if json {
                write_json(&mut out, &d)?;
            } else {
                use std::io::IsTerminal;
                let color = format == "text"
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                out.write_all(fwtopo::diff::render(&d, format == "markdown", color).as_bytes())?;
            }
            Ok(if d.firewalls_same() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Query {
            file,
            from,
            to,
            port,
            proto,
            egress,
            json,
        } => {
            let catalog = load_catalog()?;
            let topology = load_checked(&file, &catalog)?;
            let catalog = topology::site_catalog(&catalog, &topology);
            let end = |text: &str, flag: &str| {
                fwtopo::query::End::parse(&topology, text)
                    .map_err(|e| anyhow::anyhow!("{}: --{flag}: {e}", shown(&file)))
            };
            let question = fwtopo::query::Question {
                from: end(&from, "from")?,
                to: end(&to, "to")?,
                protocol: if proto == "udp" {
                    fwtopo::ports::Protocol::Udp
                } else {
                    fwtopo::ports::Protocol::Tcp
                },
                port,
                egress,
            };
            let plan = engine::derive_on(&catalog, &topology, today()?);
            let answer = fwtopo::query::ask(&catalog, &topology, &plan, &question);
            if json {
                write_json(&mut out, &answer)?;
            } else {
                out.write_all(fwtopo::query::text::answer(&answer).as_bytes())?;
            }
            Ok(if answer.allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Verify {
            file,
            node,
            live,
            egress,
            json,
        } => verify::run(&mut out, &file, &node, &live, egress, json),
        Command::Check { file } => {
            let catalog = load_catalog()?;
            let topology = load_checked(&file, &catalog)?;
            // The topology's own roles and flows join the catalog as one more product.
            let catalog = topology::site_catalog(&catalog, &topology);
            let plan = engine::derive_on(&catalog, &topology, today()?);
            // Line by line through a buffer: a 10,000-node site has tens of thousands of findings,
            // and one string of them all would be the largest thing in memory.
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut out);
            for f in &plan.findings {
                writeln!(w, "{f}")?;
            }
            let count = |s| plan.findings.iter().filter(|f| f.severity == s).count();
            writeln!(
                w,
                "{}: {} nodes, {} errors, {} warnings, {} notes",
                shown(&file),
                topology.nodes.len(),
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Info)
            )?;
            w.flush()?;
            Ok(if plan.has_errors() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Export {
            file,
            target,
            node,
            role,
            out: dir,
            egress,
            crlf,
            lf,
            force,
            prune,
        } => {
            let catalog = load_catalog()?;
            let topology = load_checked(&file, &catalog)?;
            // The topology's own roles and flows join the catalog as one more product.
            let catalog = topology::site_catalog(&catalog, &topology);
            let plan = engine::derive_on(&catalog, &topology, today()?);
            // Files meant for cmd.exe get CRLF unless --lf; standard output stays LF unless
            // --crlf (it is piped or pasted, where LF is what the reader expects).
            let crlf = if dir.is_some() { !lf } else { crlf };
            let options = Options { egress, crlf };
            let nodes = select::nodes(&topology, &plan, &node, &role)
                .map_err(|e| anyhow::anyhow!("{}: {e}", shown(&file)))?;
            let selected = !node.is_empty() || !role.is_empty();
            let jobs: Vec<(&engine::NodePlan, Target)> = nodes
                .iter()
                .flat_map(|p| {
                    let targets = match target {
                        TargetArg::One(t) => vec![t],
                        TargetArg::Auto => export::auto_targets(&topology.nodes[p.node]),
                        TargetArg::Ansible => vec![
                            export::ansible::script_target(&topology.nodes[p.node]),
                            Target::Probe,
                        ],
                    };
                    targets.into_iter().map(move |t| (*p, t))
                })
                .collect();
            if dir.is_none() && matches!(target, TargetArg::Ansible) {
                bail!(
                    "--target ansible writes an inventory, a playbook and every node's script: give the directory with --out DIR"
                );
            }
            if dir.is_none() && jobs.len() != 1 {
                bail!(
                    "{} scripts would go to standard output ({}); choose one with --node and --target, or write them all with --out DIR",
                    jobs.len(),
                    jobs.iter()
                        .map(|(p, t)| format!("{} {}", p.name, t))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            // Decided before anything is written: a default-drop script from a design with errors
            // (no management rule, a firewall for the wrong OS, ...) locks operators out or opens
            // a hole.
            let names: Vec<&str> = nodes.iter().map(|p| p.name.as_str()).collect();
            let errors = plan.errors_for(&names);
            if !errors.is_empty() {
                let mut lines: String = errors.iter().map(|f| format!("{f}\n")).collect();
                let count = match errors.len() {
                    1 => "1 error".to_string(),
                    n => format!("{n} errors"),
                };
                if !force {
                    lines.push_str(&format!(
                        "fwtopo: {}: refusing to export: {count} above; nothing was written. Fix the topology (`fwtopo check {}`), or pass --force to export anyway.\n",
                        shown(&file),
                        shown(&file)
                    ));
                    std::io::stderr().write_all(lines.as_bytes())?;
                    return Ok(ExitCode::from(1));
                }
                lines.push_str(&format!(
                    "fwtopo: warning: exporting despite {count} above (--force); review the scripts before applying them.\n"
                ));
                std::io::stderr().write_all(lines.as_bytes())?;
            } else if plan.has_errors() {
                eprintln!(
                    "fwtopo: warning: nodes not exported have errors; run `fwtopo check {}`",
                    shown(&file)
                );
            }
            match dir {
                None => {
                    let (p, t) = jobs[0];
                    out.write_all(
                        export::copy_text(t, &Export::new(&catalog, &topology, &plan, p, options))
                            .as_bytes(),
                    )?;
                }
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("{}: cannot create the directory", shown(&dir)))?;
                    // What an earlier export wrote here, to tell what this one no longer writes.
                    let previous = export_index::previous(&dir).unwrap_or_else(|e| {
                        eprintln!("fwtopo: warning: {e}; no script is listed as stale");
                        Vec::new()
                    });
                    // Every script is written to a temporary first; only when all are there are
                    // they renamed into place, the index last.
                    let mut batch = files::AtomicBatch::new(&dir);
                    let addresses = export::AddressIndex::new(&topology);
                    let texts = export::SiteTexts::new(&catalog, &topology, &plan);
                    let written: Vec<Written> = jobs
                        .iter()
                        .map(|(p, t)| Written::for_node(&topology.nodes[p.node], *t))
                        .collect();
                    parallel::render_each(
                        jobs.len(),
                        |i| {
                            let (p, t) = jobs[i];
                            let x = Export::new(&catalog, &topology, &plan, p, options);
                            export::render(t, &x.with_addresses(&addresses).with_texts(&texts))
                        },
                        |i, script| batch.add(&written[i].file, script.as_bytes()),
                    )?;
                    // With --node or --role, only those nodes' scripts and those of nodes gone are
                    // judged. The probe scripts live beside the firewall scripts they check: an
                    // export of one kind leaves the other kind's scripts as they are.
                    let names: std::collections::HashSet<&str> =
                        nodes.iter().map(|p| p.name.as_str()).collect();
                    let probing = matches!(target, TargetArg::One(Target::Probe));
                    let ansible = matches!(target, TargetArg::Ansible);
                    let judged = |w: &Written| {
                        let n = w.node.as_str();
                        (ansible || (w.target == Target::Probe) == probing)
                            && (!selected || names.contains(n) || topology.node(n).is_none())
                    };
                    let leftovers = export_index::leftovers(&dir, previous, &written, judged);
                    let listed: &[Written] = if prune { &[] } else { &leftovers.stale };
                    let index = export_index::text(
                        &export::text::comment_text(&topology.name),
                        &written,
                        &leftovers.carried,
                        listed,
                    );
                    if matches!(target, TargetArg::Ansible) {
                        let hosts = export::ansible::hosts(&catalog, &topology, &nodes);
                        for (name, text) in export::ansible::files(&topology, &hosts) {
                            batch.add(name, text.as_bytes())?;
                        }
                    }
                    batch.add(export_index::INDEX, index.as_bytes())?;
                    batch.commit()?;
                    for w in &written {
                        writeln!(out, "{}", shown(&dir.join(&w.file)))?;
                    }
                    return report_leftovers(&dir, &leftovers, prune);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::New {
            product,
            file,
            force,
        } => {
            let catalog = load_catalog()?;
            let topology = fwtopo::starter::topology(&catalog, product.as_deref())
                .map_err(anyhow::Error::msg)?;
            let text = topology::to_ron(&topology);
            match file {
                None => out.write_all(text.as_bytes())?,
                Some(path) => {
                    if path.exists() && !force {
                        bail!(
                            "{}: already exists (use --force to overwrite)",
                            shown(&path)
                        );
                    }
                    files::write_atomic(&path, text.as_bytes())?;
                    eprintln!("wrote {}", shown(&path));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Design {
            file,
            theme,
            data_dir,
        } => {
            // The designer's signal handler must be able to restore the terminal from its thread.
            drop(out);
            crate::tui::run(crate::tui::Options {
                file,
                theme,
                data_dir,
                today: Some(today()?),
            })
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fwtopo", &mut out);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A path as messages and listings show it: its control characters escaped.
fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        return files::STDIN_NAME.to_string();
    }
    escaped(&path.display().to_string())
}

/// The most stale scripts named one by one on standard error; the index lists them all.
const STALE_SHOWN: usize = 20;

/// Says on standard error what an export left of earlier ones: scripts no longer fwtopo's, and
/// stale scripts listed (or, with `--prune`, removed). A script that could not be removed is an
/// error (exit status 2), after the export itself went through.
fn report_leftovers(dir: &Path, l: &export_index::Leftovers, prune: bool) -> Result<ExitCode> {
    let mut err = String::new();
    for (w, why) in &l.not_ours {
        err.push_str(&format!(
            "fwtopo: note: {}: an earlier export wrote it for {} ({}), but it is {why}: left alone, and no longer listed in index.txt\n",
            shown(&dir.join(&w.file)),
            w.node,
            w.target
        ));
    }
    let mut failed = Vec::new();
    if prune {
        let (removed, not_removed) = export_index::prune(dir, &l.stale);
        for path in removed {
            err.push_str(&format!("fwtopo: removed stale {}\n", shown(&path)));
        }
        failed = not_removed;
    } else {
        for w in l.stale.iter().take(STALE_SHOWN) {
            err.push_str(&format!(
                "fwtopo: warning: {} is stale: an earlier export wrote it for {} ({}), this one does not; --prune removes it\n",
                shown(&dir.join(&w.file)),
                w.node,
                w.target
            ));
        }
        if l.stale.len() > STALE_SHOWN {
            err.push_str(&format!(
                "fwtopo: warning: and {} more stale scripts, listed in {}\n",
                l.stale.len() - STALE_SHOWN,
                shown(&dir.join(export_index::INDEX))
            ));
        }
    }
    for (path, e) in &failed {
        err.push_str(&format!(
            "fwtopo: {}: could not remove the stale script: {e} (the export itself was written)\n",
            shown(path)
        ));
    }
    std::io::stderr().write_all(err.as_bytes())?;
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INPUT)
    })
}

fn load_catalog() -> Result<Catalog> {
    files::load_catalog().context("loading the catalog")
}

/// Loads a topology and runs the catalog checks; any problem is an input error naming the file.
fn load_checked(path: &Path, catalog: &Catalog) -> Result<Topology> {
    let topology = files::load_topology(path)?;
    let problems = topology::check(&topology, catalog);
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {p}", shown(path)))
            .collect();
        bail!("{}", lines.join("\n"));
    }
    Ok(topology)
}
