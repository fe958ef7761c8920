//! Operating systems a node may run, and the family that decides management access and exports.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OsFamily {
    Linux,
    Windows,
}

/// A node's operating system, spelled as in topology files (`almalinux`, `windows-server-2012r2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Os {
    Almalinux,
    Rocky,
    Cloudlinux,
    Centos,
    Rhel,
    Ubuntu,
    Debian,
    Virtuozzo,
    WindowsServer2012r2,
    WindowsServer2016,
    WindowsServer2019,
    WindowsServer2022,
    WindowsServer2025,
}

impl Os {
    pub const ALL: [Os; 13] = [
        Os::Almalinux,
        Os::Rocky,
        Os::Cloudlinux,
        Os::Centos,
        Os::Rhel,
        Os::Ubuntu,
        Os::Debian,
        Os::Virtuozzo,
        Os::WindowsServer2012r2,
        Os::WindowsServer2016,
        Os::WindowsServer2019,
        Os::WindowsServer2022,
        Os::WindowsServer2025,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Os::Almalinux => "almalinux",
            Os::Rocky => "rocky",
            Os::Cloudlinux => "cloudlinux",
            Os::Centos => "centos",
            Os::Rhel => "rhel",
            Os::Ubuntu => "ubuntu",
            Os::Debian => "debian",
            Os::Virtuozzo => "virtuozzo",
            Os::WindowsServer2012r2 => "windows-server-2012r2",
            Os::WindowsServer2016 => "windows-server-2016",
            Os::WindowsServer2019 => "windows-server-2019",
            Os::WindowsServer2022 => "windows-server-2022",
            Os::WindowsServer2025 => "windows-server-2025",
        }
    }

    pub fn family(self) -> OsFamily {
        match self {
            Os::WindowsServer2012r2
            | Os::WindowsServer2016
            | Os::WindowsServer2019
            | Os::WindowsServer2022
            | Os::WindowsServer2025 => OsFamily::Windows,
            _ => OsFamily::Linux,
        }
    }

    pub fn is_windows(self) -> bool {
        self.family() == OsFamily::Windows
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Os {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Os::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Os::ALL.iter().map(|o| o.as_str()).collect();
                format!(
                    "unknown OS {} (expected one of: {})",
                    crate::user_text::quoted(s),
                    names.join(", ")
                )
            })
    }
}
