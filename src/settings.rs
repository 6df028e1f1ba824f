//! Server settings shared by the CLI, the library handle and the router.

use std::net::SocketAddr;

/// Everything that shapes how the mock behaves, with defaults that match a
/// fresh Qualys subscription as closely as is known.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Scheme, host and port that DOCTYPE and paging URLs start with. When
    /// `None`, each response uses the `Host` header of its request.
    pub base_url: Option<String>,
    /// The ID given to the first record.
    pub id_start: u64,
    /// The most records one list response holds before it ends with a WARNING.
    pub page_size: usize,
    /// Network IDs that `network_id` may name; `None` turns the networks
    /// feature off, as on a subscription without it.
    pub networks: Option<Vec<u64>>,
    /// Whether `login_type=vcenter` needs at least one vCenter record.
    pub require_vcenter_record: bool,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            id_start: 1,
            page_size: 1000,
            networks: None,
            require_vcenter_record: true,
            max_body_bytes: 1024 * 1024,
        }
    }
}
