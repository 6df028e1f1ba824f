//! The Qualys API surface: request checks common to every call, parameter
//! reading, the record endpoints, DTDs and the SIMPLE_RETURN errors.

pub(crate) mod about;
pub(crate) mod access_log;
pub(crate) mod auth;
pub(crate) mod auth_list;
pub(crate) mod batch;
pub(crate) mod call;
pub(crate) mod dtd;
pub(crate) mod error;
pub(crate) mod gate;
pub(crate) mod limits;
pub(crate) mod params;
pub(crate) mod record_params;
pub(crate) mod records;
pub(crate) mod session;
