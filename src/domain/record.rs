//! Authentication records: their kinds, fields and the rules a whole record obeys.
//!
//! Parameter parsing turns request text into these types; the store keeps them.
//! Rules that need other records (unique titles, IP conflicts) live in the store.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use super::ip_set::IpSet;
use super::vault::Vault;

/// The string type of short record fields, which keeps up to 24 bytes
/// inline; it dereferences to `str` and converts to and from `String`.
pub use compact_str::CompactString;

/// The record types served under `/api/2.0/fo/auth/<kind>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// VMware ESXi records, the main subject of the mock.
    Vmware,
    /// Unix records, kept so the disconnected-ESXi conflict rule is reachable.
    Unix,
    /// vCenter records, kept so `login_type=vcenter` can find one.
    Vcenter,
}

impl RecordKind {
    /// Every kind, in the order the generic list shows them.
    pub const ALL: [RecordKind; 3] = [RecordKind::Unix, RecordKind::Vmware, RecordKind::Vcenter];

    /// The path segment and lower-case name: `vmware`, `unix`, `vcenter`.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Vmware => "vmware",
            RecordKind::Unix => "unix",
            RecordKind::Vcenter => "vcenter",
        }
    }

    /// The upper-case name used in XML element names: `VMWARE`, `UNIX`, `VCENTER`.
    pub fn tag(self) -> &'static str {
        match self {
            RecordKind::Vmware => "VMWARE",
            RecordKind::Unix => "UNIX",
            RecordKind::Vcenter => "VCENTER",
        }
    }

    /// Maximum username length the kind accepts, in characters.
    pub fn max_username_len(self) -> usize {
        match self {
            RecordKind::Unix => 255,
            RecordKind::Vmware | RecordKind::Vcenter => 13,
        }
    }

    /// Whether records of this kind carry the VMware connection fields (port,
    /// SSL verification, hosts, disconnected flag).
    pub fn has_vsphere_fields(self) -> bool {
        !matches!(self, RecordKind::Unix)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the scanner obtains the password: `login_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginType {
    /// The password is stored in the record.
    Basic,
    /// The password is fetched from a third-party vault.
    Vault,
    /// ESXi hosts are reached through a vCenter record.
    Vcenter,
}

impl LoginType {
    /// The parameter value: `basic`, `vault` or `vcenter`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginType::Basic => "basic",
            LoginType::Vault => "vault",
            LoginType::Vcenter => "vcenter",
        }
    }
}

/// SSL certificate checking for the vSphere connection: `ssl_verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslVerify {
    /// Full certificate validation.
    All,
    /// Accept self-signed or custom-CA certificates without a hostname check.
    Skip,
    /// No verification.
    None,
}

impl SslVerify {
    /// The parameter value: `all`, `skip` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslVerify::All => "all",
            SslVerify::Skip => "skip",
            SslVerify::None => "none",
        }
    }
}

/// A stored password. Its `Debug` output is masked so it cannot reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(CompactString);

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<CompactString>) -> Self {
        Secret(value.into())
    }

    /// The password itself, for callers that must compare or export it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// When and by which login a record was created or last changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The time of the change, in UTC.
    pub at: OffsetDateTime,
    /// The login name that made the change. The store shares one copy
    /// between all records a login changed, and `Arc<String>` is a thin
    /// pointer, so each stamp spends 8 bytes on it.
    pub by: Arc<String>,
}

/// Everything a client sets on a record: the record minus its ID and stamps.
///
/// Every stored record has one, so the field types are chosen for size.
/// Title, username and password are stored inline up to 24 bytes, and the
/// fields that most records leave empty (`vault`, `hosts`, `comments`) take
/// 8 or 16 bytes and no heap memory when empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFields {
    /// Unique title, at most 255 ASCII characters.
    pub title: CompactString,
    /// Login name for the target, at most 13 ASCII characters for VMware.
    pub username: CompactString,
    /// The password, absent when a vault supplies it.
    pub password: Option<Secret>,
    /// How the password is obtained.
    pub login_type: LoginType,
    /// Vault settings, present exactly when `login_type` is `vault`.
    pub vault: Option<Box<Vault>>,
    /// vSphere web services port; `None` for kinds without vSphere fields.
    pub port: Option<u16>,
    /// SSL verification mode, when the client set one.
    pub ssl_verify: Option<SslVerify>,
    /// FQDNs of hosts with custom CA-signed certificates.
    pub hosts: Box<[String]>,
    /// Whether the ESXi hosts are disconnected (`is_disconect=1`).
    pub is_disconnect: bool,
    /// The addresses the record applies to.
    pub ips: IpSet,
    /// Free-text comments, at most 1999 characters.
    pub comments: Option<Box<str>>,
    /// Network the record belongs to, when the networks feature is on.
    pub network_id: Option<u64>,
}

/// A stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The ID, unique across every kind and never reused.
    pub id: u64,
    /// The record type.
    pub kind: RecordKind,
    /// The fields the client set.
    pub fields: RecordFields,
    /// Creation time and login.
    pub created: Stamp,
    /// Time and login of the last change.
    pub modified: Stamp,
}

/// A rule that a record's fields break taken together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// A basic or vcenter record without a password.
    #[error("a password is required unless login_type=vault")]
    MissingPassword,
    /// A vault record without vault settings.
    #[error("login_type=vault requires vault_type and vault_id")]
    MissingVault,
    /// Vault settings on a record that does not use a vault.
    #[error("vault parameters are valid only with login_type=vault")]
    VaultWithoutVaultLogin,
    /// A vault record that also carries a password.
    #[error("a record with login_type=vault takes no password")]
    PasswordWithVault,
    /// A disconnected record that does not log in through vCenter.
    #[error("is_disconect=1 is valid only with login_type=vcenter")]
    DisconnectWithoutVcenter,
}

impl RecordFields {
    /// Checks the rules that tie fields together.
    pub fn check(&self) -> Result<(), RuleViolation> {
        match (self.login_type, &self.vault) {
            (LoginType::Vault, None) => return Err(RuleViolation::MissingVault),
            (LoginType::Basic | LoginType::Vcenter, Some(_)) => {
                return Err(RuleViolation::VaultWithoutVaultLogin)
            }
            _ => {}
        }
        match (self.login_type, &self.password) {
            (LoginType::Vault, Some(_)) => return Err(RuleViolation::PasswordWithVault),
            (LoginType::Basic | LoginType::Vcenter, None) => {
                return Err(RuleViolation::MissingPassword)
            }
            _ => {}
        }
        if self.is_disconnect && self.login_type != LoginType::Vcenter {
            return Err(RuleViolation::DisconnectWithoutVcenter);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_with_password(password: &str) -> RecordFields {
        RecordFields {
            title: "esx".into(),
            username: "root".into(),
            password: Some(Secret::new(password)),
            login_type: LoginType::Basic,
            vault: None,
            port: Some(443),
            ssl_verify: None,
            hosts: Box::default(),
            is_disconnect: false,
            ips: IpSet::new(),
            comments: None,
            network_id: None,
        }
    }

    #[test]
    fn debug_masks_password() {
        for password in ["pw", "a-password-longer-than-inline-storage"] {
            let printed = format!("{:?}", fields_with_password(password));

            assert!(!printed.contains(password), "{printed}");
            assert!(printed.contains("Secret(***)"), "{printed}");
        }
    }

    /// With the 16 bytes of `Arc` counters, a record of at most 232 bytes
    /// takes a 256-byte block. mimalloc's size classes step from 224 to 256
    /// to 320 bytes. glibc malloc rounds a request of n bytes up to n + 8 in
    /// steps of 16. A larger record takes more in both.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn record_fits_a_256_byte_chunk() {
        let size = size_of::<Record>();

        assert!(size <= 232, "Record is {size} bytes");
    }
}
