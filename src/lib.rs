//! `scriptblockhunt`: the ESCU hunt "GetNetTcpconnection with PowerShell
//! Script Block" as a native Splunk custom search command.
//!
//! The data flows one way, one module per step:
//! bytes -> [`chunk`] -> [`metadata`] and [`records`] -> [`search`]
//! ([`pattern`], then [`stats`] with [`order`]) -> [`output`] -> bytes.
//! [`session`] drives that flow for Splunk; the offline front ends feed the
//! same [`search`] from event files ([`winevent`]) and recorded streams.

pub mod chunk;
pub mod cli;
pub mod error;
pub mod event;
pub mod generate;
pub mod hunt;
pub mod input;
pub mod literal;
pub mod logger;
pub mod metadata;
pub mod options;
pub mod order;
pub mod output;
pub mod pattern;
pub mod records;
pub mod search;
pub mod session;
pub mod stats;
pub mod stream;
pub mod time;
pub mod winevent;
