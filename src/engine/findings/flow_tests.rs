//! The topology's flow tests ([`crate::topology::flow_tests`]) asked of the finished plan: a
//! broken one is an error (export refuses it without `--force`), a kept one a note, so `check`
//! and the designer show every test's state.

use super::super::Plan;
use super::{Code, Finding, Severity};
use crate::catalog::Catalog;
use crate::export::Egress;
use crate::query::{End, Question, ask};
use crate::topology::Topology;
use crate::topology::flow_tests::Expect;

pub(in crate::engine) fn add(catalog: &Catalog, topology: &Topology, plan: &mut Plan) {
    if topology.tests.is_empty() {
        return;
    }
    let mut found = Vec::new();
    for (i, t) in topology.tests.iter().enumerate() {
        let (Ok(from), Ok(to)) = (End::parse(topology, &t.from), End::parse(topology, &t.to))
        else {
            // The loader checked the names; a name that is now ambiguous is said so.
            found.push(finding(
                Code::FlowTestFailed,
                Severity::Error,
                format!(
                    "tests[{i}] {}: an end names both a node and a zone or host; give an address",
                    t.describe()
                ),
            ));
            continue;
        };
        let q = Question {
            from,
            to,
            protocol: t.proto,
            port: t.port,
            egress: if t.strict {
                Egress::Strict
            } else {
                Egress::Open
            },
        };
        let answer = ask(catalog, topology, plan, &q);
        let kept = answer.allowed == (t.expect == Expect::Allow);
        let how = if answer.allowed {
            let by: Vec<String> = answer
                .families
                .iter()
                .filter(|f| f.allowed)
                .map(|f| f.family.to_string())
                .collect();
            format!("allowed over {}", by.join(" and "))
        } else {
            "not allowed".to_string()
        };
        let message = if kept {
            format!("tests[{i}] {}: {how}, as promised", t.describe())
        } else {
            let why = answer
                .missing
                .first()
                .map_or(String::new(), |m| format!("; what would allow it: {m}"));
            format!(
                "tests[{i}] {}: {how}{} (`fwtopo query` shows the rules)",
                t.describe(),
                if answer.allowed { "" } else { why.as_str() }
            )
        };
        found.push(if kept {
            finding(Code::FlowTestPassed, Severity::Info, message)
        } else {
            finding(Code::FlowTestFailed, Severity::Error, message)
        });
    }
    plan.findings.extend(found);
    plan.findings.sort();
}

fn finding(code: Code, severity: Severity, message: String) -> Finding {
    Finding {
        severity,
        node: None,
        code,
        message: message.into(),
    }
}
