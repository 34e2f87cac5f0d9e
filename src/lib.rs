//! `scriptblockhunt`: the ESCU hunt "GetNetTcpconnection with PowerShell
//! Script Block", or any of ESCU's 101 hunts of that shape over PowerShell
//! script blocks, all in one pass, as a native Splunk custom search
//! command.
//!
//! The data flows one way, one module per step:
//! bytes -> [`chunk`] -> [`metadata`] and [`records`] -> [`search`]
//! ([`matcher`] over [`pattern`]s, then [`stats`] with [`order`]) ->
//! [`results`] -> [`output`] -> bytes. What the search runs comes from the
//! options: [`condition`]s, or hunts from the [`catalog`].
//! [`session`] drives that flow for Splunk; the offline front ends feed the
//! same [`search`] from event files and recorded streams: [`sources`]
//! tells each file's format and reads it ([`evtxlog`], [`xmlstream`],
//! [`jsonlines`], [`splunkcsv`]) into [`winevent`] fields, and [`hunt`]
//! runs the search over them. With `distributed=true` the work splits in
//! two ([`preop`]): [`map`] runs on the indexers and sends [`partial`]
//! rows, [`reduce`] merges them on the search head.

pub mod catalog;
pub mod chunk;
pub mod cli;
pub mod cluster;
pub mod condition;
pub mod error;
pub mod event;
pub mod eventtime;
pub mod evtxlog;
pub mod fault;
pub mod generate;
pub mod grouphash;
pub mod hunt;
pub mod input;
pub mod jsonlines;
pub mod jsonout;
pub mod literal;
pub mod literals;
pub mod logger;
pub mod map;
pub mod matcher;
pub mod metadata;
pub mod options;
pub mod order;
pub mod output;
pub mod partial;
pub mod pattern;
pub mod preop;
pub mod reassembly;
pub mod records;
pub mod reduce;
pub mod results;
pub mod search;
pub mod session;
pub mod sources;
pub mod splunkcsv;
pub mod stats;
pub mod stream;
pub mod time;
pub mod winevent;
pub mod xmlstream;
