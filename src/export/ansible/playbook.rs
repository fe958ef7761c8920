//! `site.yml` and the per-OS task files it includes: the steps of one node's rollout.

use super::Host;
use super::yaml::quote;
use crate::export::text::comment_text;
use crate::topology::Topology;

/// One play: its hosts, batches and the include of the node's steps.
fn play(out: &mut Vec<String>, name: &str, hosts: &str, serial: &str) {
    out.extend([
        format!("- name: {}", quote(name)),
        format!("  hosts: {}", quote(hosts)),
        format!("  serial: {serial}"),
        "  # Any failed node stops the rollout: no later batch starts.".into(),
        "  max_fail_percentage: 0".into(),
        "  gather_facts: false".into(),
        "  tasks:".into(),
        "    - name: Roll the firewall out on a Linux node".into(),
        format!("      ansible.builtin.import_tasks: {}", super::LINUX_TASKS),
        "      when: fwtopo_os == \"linux\"".into(),
        "    - name: Roll the firewall out on a Windows node".into(),
        format!(
            "      ansible.builtin.import_tasks: {}",
            super::WINDOWS_TASKS
        ),
        "      when: fwtopo_os == \"windows\"".into(),
    ]);
}

pub fn site(topology: &Topology, hosts: &[Host]) -> String {
    let management: Vec<&str> = hosts
        .iter()
        .filter(|h| h.management)
        .map(|h| h.node.name.as_str())
        .collect();
    let mut out = vec![
        "---".to_string(),
        format!(
            "# fwtopo Ansible rollout for topology: {}",
            comment_text(&topology.name)
        ),
        "#   ansible-playbook -i inventory.yml site.yml".into(),
        "# Per node: copy its firewall script, check it with the firewall's own parser, and apply it only".into(),
        "# when the script or the live rules differ from what fwtopo last applied there (a second run".into(),
        "# changes nothing). The script applies with a rollback armed; the playbook drops its connections,".into(),
        "# connects again through the new rules and only then confirms. A node that cannot be reached".into(),
        "# again is never confirmed: its script rolls back by itself within fwtopo_confirm_seconds, and".into(),
        "# the play fails for it. Then the node's probe script tries every flow the node should reach;".into(),
        "# a failed flow fails the node (and stops the rollout).".into(),
        "# Order: the management nodes first, one at a time, so a broken management path stops the rollout".into(),
        "# before any other node changes; then the others in batches of fwtopo_batch (default 25%,".into(),
        "# e.g. -e fwtopo_batch=5). Any failure stops the batches that follow. Management nodes:".into(),
    ];
    let listed = if management.is_empty() {
        "none in this topology".to_string()
    } else {
        management.join(" ")
    };
    out.extend(
        crate::export::text::wrap(&listed, 96)
            .into_iter()
            .map(|l| format!("#   {l}")),
    );
    play(
        &mut out,
        "Management nodes first, one at a time (fwtopo)",
        "fwtopo_management",
        "1",
    );
    out.push(String::new());
    play(
        &mut out,
        "The other nodes, in batches (fwtopo)",
        "fwtopo:!fwtopo_management",
        "\"{{ fwtopo_batch | default('25%') }}\"",
    );
    let mut s = out.join("\n");
    s.push('\n');
    s
}

pub fn linux_tasks() -> String {
    LINUX.to_string()
}

pub fn windows_tasks() -> String {
    WINDOWS.to_string()
}

const LINUX: &str = r#"---
# fwtopo: one Linux node's rollout, included by site.yml.
- name: Make the directory for fwtopo's files
  ansible.builtin.file:
    path: "{{ fwtopo_remote_dir }}"
    state: directory
    mode: "0700"

- name: Copy the node's firewall script and fwtopo's helpers
  ansible.builtin.copy:
    src: "{{ playbook_dir }}/{{ item }}"
    dest: "{{ fwtopo_remote_dir }}/{{ item }}"
    mode: "0700"
  loop:
    - "{{ fwtopo_script }}"
    - "{{ fwtopo_probe }}"
    - fwtopo-ansible.sh

- name: Check the nftables file with nft -c (nothing changes)
  ansible.builtin.command:
    argv: [nft, -c, -f, "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}"]
  changed_when: false
  when: fwtopo_firewall == "nftables"

- name: Check both iptables payloads with iptables-restore --test (nothing changes)
  ansible.builtin.command:
    argv: [bash, "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}", --test]
  changed_when: false
  when: fwtopo_firewall == "iptables"

- name: Check the script's syntax (bash -n)
  ansible.builtin.command:
    argv: [bash, -n, "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}"]
  changed_when: false
  when: fwtopo_firewall not in ["nftables", "iptables"]

- name: Compare the script and the live rules with what fwtopo last applied here
  ansible.builtin.command:
    argv: [bash, "{{ fwtopo_remote_dir }}/fwtopo-ansible.sh", show, "{{ fwtopo_firewall }}", "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}"]
  register: fwtopo_state
  changed_when: false

- name: Apply, confirmed only over a fresh connection
  when: fwtopo_state.stdout_lines | length < 2 or fwtopo_state.stdout_lines[0] != fwtopo_state.stdout_lines[1]
  vars:
    fwtopo_path: "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}"
    fwtopo_confirm_file: "{{ fwtopo_remote_dir }}/{{ fwtopo_script }}.confirm"
  block:
    - name: Start the apply (the script arms its rollback and waits for the confirmation)
      ansible.builtin.command:
        argv: "{{ ['bash', fwtopo_remote_dir ~ '/fwtopo-ansible.sh', 'nft-apply', fwtopo_path] if fwtopo_firewall == 'nftables'
          else (['bash', fwtopo_path, '--safe', fwtopo_confirm_seconds | string] if fwtopo_firewall == 'iptables'
          else ['bash', fwtopo_path]) }}"
      environment:
        FWTOPO_CONFIRM_FILE: "{{ fwtopo_confirm_file }}"
        FWTOPO_CONFIRM_SECONDS: "{{ fwtopo_confirm_seconds }}"
      async: "{{ fwtopo_confirm_seconds | int + fwtopo_apply_seconds | int }}"
      poll: 0
      register: fwtopo_job
      changed_when: true

    - name: Wait until the new rules are live and wait for their confirmation
      ansible.builtin.wait_for:
        path: "{{ fwtopo_confirm_file }}.waiting"
        timeout: "{{ fwtopo_apply_seconds | int }}"

    - name: Drop the connections to the node, so the next one is new
      ansible.builtin.meta: reset_connection

    - name: Connect again, through the new rules
      ansible.builtin.wait_for_connection:
        timeout: "{{ fwtopo_reconnect_seconds | int }}"

    - name: Confirm from the new connection
      ansible.builtin.command:
        argv: [touch, "{{ fwtopo_confirm_file }}"]
      changed_when: true

    - name: Wait for the script to keep the new rules
      ansible.builtin.async_status:
        jid: "{{ fwtopo_job.ansible_job_id }}"
      register: fwtopo_done
      until: fwtopo_done.finished
      retries: "{{ fwtopo_confirm_seconds | int + 30 }}"
      delay: 1

    - name: Remember what was applied (the next run compares with it)
      ansible.builtin.command:
        argv: [bash, "{{ fwtopo_remote_dir }}/fwtopo-ansible.sh", record, "{{ fwtopo_firewall }}", "{{ fwtopo_path }}"]
      changed_when: true
  rescue:
    - name: Report the node as not rolled out
      ansible.builtin.fail:
        msg: >-
          fwtopo: {{ inventory_hostname }} was not confirmed over a fresh connection (or its apply
          failed). Unconfirmed rules roll back by themselves within {{ fwtopo_confirm_seconds }} s;
          see the script's messages and {{ fwtopo_remote_dir }} on the node.

- name: Try every flow the node should reach (its probe script; a failed flow fails the node)
  ansible.builtin.command:
    argv: [bash, "{{ fwtopo_remote_dir }}/{{ fwtopo_probe }}"]
  environment:
    FWTOPO_PROBE_SECONDS: "{{ fwtopo_probe_seconds }}"
  changed_when: false
"#;

const WINDOWS: &str = r#"---
# fwtopo: one Windows node's rollout, included by site.yml (collection ansible.windows).
- name: Make the folder for fwtopo's files
  ansible.windows.win_file:
    path: "{{ fwtopo_windows_dir }}"
    state: directory

- name: Copy the node's PowerShell script and its probe script
  ansible.windows.win_copy:
    src: "{{ playbook_dir }}/{{ item }}"
    dest: "{{ fwtopo_windows_dir }}\\{{ item }}"
  loop:
    - "{{ fwtopo_script }}"
    - "{{ fwtopo_probe }}"

- name: Check the script parses (nothing changes)
  ansible.windows.win_powershell:
    script: |
      param([string]$Path)
      $errors = $null
      [void][System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$null, [ref]$errors)
      if ($errors) { throw ($errors | Out-String) }
      $Ansible.Changed = $false
    parameters:
      Path: "{{ fwtopo_windows_dir }}\\{{ fwtopo_script }}"
  changed_when: false

- name: Compare the script and the live rules with what fwtopo last applied here
  ansible.windows.win_powershell:
    script: &fwtopo_fingerprint |
      param([string]$Path, [string]$Group, [string]$Mode)
      $state = $Path + '.applied'
      $script = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash
      $rules = Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Sort-Object -Property Name |
        ForEach-Object { '{0} {1} {2} {3}' -f $_.Name, $_.Enabled, $_.Direction, $_.Action } | Out-String
      $sha = [System.Security.Cryptography.SHA256]::Create()
      $live = [BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($rules))) -replace '-', ''
      $now = "$script $live"
      if ($Mode -eq 'record') { Set-Content -LiteralPath $state -Value $now; return }
      $old = ''
      if (Test-Path -LiteralPath $state) { $old = (Get-Content -LiteralPath $state -Raw).Trim() }
      $Ansible.Changed = $false
      @{ apply = ($now -ne $old) }
    parameters:
      Path: "{{ fwtopo_windows_dir }}\\{{ fwtopo_script }}"
      Group: "fwtopo-{{ inventory_hostname }}"
      Mode: show
  register: fwtopo_state
  changed_when: false

- name: Apply, confirmed only over a fresh connection
  when: fwtopo_state.output[0].apply
  block:
    - name: Run the script (it schedules task fwtopo-rollback to restore the old policy unless confirmed)
      ansible.windows.win_command:
        cmd: powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{{ fwtopo_windows_dir }}\{{ fwtopo_script }}"
      changed_when: true

    - name: Drop the connections to the node, so the next one is new
      ansible.builtin.meta: reset_connection

    - name: Connect again, through the new rules
      ansible.builtin.wait_for_connection:
        timeout: "{{ fwtopo_reconnect_seconds | int }}"

    - name: Confirm from the new connection (removes the rollback task)
      ansible.windows.win_powershell:
        script: Unregister-ScheduledTask -TaskName fwtopo-rollback -Confirm:$false

    - name: Remember what was applied (the next run compares with it)
      ansible.windows.win_powershell:
        script: *fwtopo_fingerprint
        parameters:
          Path: "{{ fwtopo_windows_dir }}\\{{ fwtopo_script }}"
          Group: "fwtopo-{{ inventory_hostname }}"
          Mode: record
  rescue:
    - name: Report the node as not rolled out
      ansible.builtin.fail:
        msg: >-
          fwtopo: {{ inventory_hostname }} was not confirmed over a fresh connection (or its apply
          failed). Task fwtopo-rollback restores the policy from before fwtopo by itself; see the
          script's messages.

- name: Try every flow the node should reach (its probe script; a failed flow fails the node)
  ansible.windows.win_command:
    cmd: powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{{ fwtopo_windows_dir }}\{{ fwtopo_probe }}"
  environment:
    FWTOPO_PROBE_SECONDS: "{{ fwtopo_probe_seconds }}"
  changed_when: false
"#;
