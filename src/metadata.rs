//! Chunk metadata: the JSON objects Splunk sends (getinfo, execute) and the
//! ones the command sends back.
//!
//! Only the keys the command uses are read. The session key and the
//! splunkd URI are never copied out of the parsed JSON, so they cannot reach
//! a log line or an error message.

use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// A request from Splunk, decoded from a chunk's metadata.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// The first request: Splunk asks what the command needs.
    GetInfo(GetInfo),
    /// A batch of events; `finished` is true on Splunk's last one.
    Execute {
        /// True when no more input follows.
        finished: bool,
    },
}

/// What the command keeps from the getinfo request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GetInfo {
    /// `searchinfo.args`: the command's arguments, quotes stripped.
    pub args: Vec<String>,
    /// `searchinfo.splunk_version`, for the log.
    pub splunk_version: Option<String>,
    /// `searchinfo.sid`, the search id, for the log.
    pub sid: Option<String>,
    /// `searchinfo.command`: the name the search used for this command
    /// (Splunk 6.3 GA and later), for the streaming preop.
    pub command: Option<String>,
}

/// Decodes the metadata of chunk `chunk`.
pub fn parse_request(chunk: u64, bytes: &[u8]) -> Result<Request> {
    let bad =
        |reason: String| Error::new(ErrorKind::Metadata { chunk, reason });
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let Value::Object(object) = value else {
        return Err(bad("not a JSON object".to_string()));
    };
    let action = match object.get("action") {
        Some(Value::String(action)) => action.as_str(),
        Some(_) => return Err(bad("'action' is not a string".to_string())),
        None => return Err(bad("no 'action' key".to_string())),
    };
    match action {
        "getinfo" => Ok(Request::GetInfo(getinfo(&object).map_err(bad)?)),
        "execute" => {
            let finished = match object.get("finished") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(bad("'finished' is not a boolean".to_string()))
                }
            };
            Ok(Request::Execute { finished })
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            Err(bad(format!(
                "unknown action '{shown}' (expected getinfo or execute)"
            )))
        }
    }
}

/// Reads the keys the command uses from a getinfo object.
fn getinfo(
    object: &Map<String, Value>,
) -> std::result::Result<GetInfo, String> {
    let mut info = GetInfo::default();
    let Some(searchinfo) = object.get("searchinfo") else {
        return Ok(info);
    };
    let Value::Object(searchinfo) = searchinfo else {
        return Err("'searchinfo' is not an object".to_string());
    };
    match searchinfo.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => info.args.push(s.clone()),
                    _ => {
                        return Err("'searchinfo.args' holds a value that \
                                    is not a string"
                            .to_string())
                    }
                }
            }
        }
        Some(_) => {
            return Err("'searchinfo.args' is not an array".to_string());
        }
    }
    let text = |key: &str| match searchinfo.get(key) {
        Some(Value::String(s)) => Some(s.chars().take(64).collect()),
        _ => None,
    };
    info.splunk_version = text("splunk_version");
    info.sid = text("sid");
    info.command = text("command");
    Ok(info)
}

/// The metadata of a reply chunk.
#[derive(Debug, Default)]
pub struct Reply {
    /// `type`, for getinfo replies.
    pub command_type: Option<&'static str>,
    /// `required_fields`, for getinfo replies.
    pub required_fields: Vec<String>,
    /// `streaming_preop`, for getinfo replies of a distributable command.
    pub streaming_preop: Option<String>,
    /// `finished`; omitted from a getinfo reply unless an error ends the
    /// command.
    pub finished: Option<bool>,
    /// `error`: a terminating error shown to the user.
    pub error: Option<String>,
    /// `inspector.messages`: (level, text) pairs shown above the results.
    pub messages: Vec<(&'static str, String)>,
}

impl Reply {
    /// The reply to an execute request.
    pub fn execute(finished: bool) -> Reply {
        Reply {
            finished: Some(finished),
            ..Reply::default()
        }
    }

    /// A terminating error reply: `finished` true, the text as `error` and
    /// as an ERROR inspector message, so that every Splunk version shows it.
    pub fn fatal(text: &str) -> Reply {
        Reply {
            finished: Some(true),
            error: Some(text.to_string()),
            messages: vec![("ERROR", text.to_string())],
            ..Reply::default()
        }
    }

    /// Serialises the reply as compact JSON with keys in alphabetical order,
    /// as the Python SDK writes them.
    pub fn to_json(&self) -> Vec<u8> {
        let mut object = Map::new();
        if let Some(error) = &self.error {
            object.insert("error".into(), json!(error));
        }
        if let Some(finished) = self.finished {
            object.insert("finished".into(), json!(finished));
        }
        if !self.messages.is_empty() {
            let messages: Vec<Value> = self
                .messages
                .iter()
                .map(|(level, text)| json!([level, text]))
                .collect();
            object.insert("inspector".into(), json!({ "messages": messages }));
        }
        if !self.required_fields.is_empty() {
            object
                .insert("required_fields".into(), json!(self.required_fields));
        }
        if let Some(preop) = &self.streaming_preop {
            object.insert("streaming_preop".into(), json!(preop));
        }
        if let Some(command_type) = self.command_type {
            object.insert("type".into(), json!(command_type));
        }
        serde_json::to_vec(&Value::Object(object))
            .expect("a JSON map of strings always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getinfo_keeps_args_and_drops_the_session_key() {
        let request = parse_request(
            1,
            br#"{"action":"getinfo","preview":false,"searchinfo":{
                "args":["pattern=*x*"],"session_key":"SECRET",
                "splunkd_uri":"https://127.0.0.1:8089",
                "splunk_version":"8.2.1","sid":"1627357489.9"}}"#,
        )
        .unwrap();
        let Request::GetInfo(info) = request else {
            panic!("not getinfo")
        };
        assert_eq!(info.args, vec!["pattern=*x*"]);
        assert_eq!(info.splunk_version.as_deref(), Some("8.2.1"));
        assert!(!format!("{info:?}").contains("SECRET"));
    }

    #[test]
    fn execute_finished_flag() {
        let parse = |s: &str| parse_request(2, s.as_bytes()).unwrap();
        assert_eq!(
            parse(r#"{"action":"execute","finished":true}"#),
            Request::Execute { finished: true }
        );
        assert_eq!(
            parse(r#"{"action":"execute"}"#),
            Request::Execute { finished: false }
        );
    }

    #[test]
    fn malformed_metadata_is_named() {
        let err = |s: &[u8]| parse_request(3, s).unwrap_err().to_string();
        assert!(err(b"{nope").starts_with("chunk 3: bad metadata: not valid"));
        assert_eq!(err(b"[1]"), "chunk 3: bad metadata: not a JSON object");
        assert_eq!(err(b"{}"), "chunk 3: bad metadata: no 'action' key");
        assert!(err(br#"{"action":"x"}"#).contains("unknown action 'x'"));
        assert!(err(br#"{"action":"execute","finished":1}"#)
            .contains("'finished' is not a boolean"));
        assert!(err(br#"{"action":"getinfo","searchinfo":{"args":[1]}}"#)
            .contains("not a string"));
        assert!(err(b"\xff\xfe").contains("not valid JSON"));
    }

    #[test]
    fn replies_are_compact_and_sorted() {
        let reply = Reply {
            command_type: Some("reporting"),
            required_fields: vec!["ScriptBlockText".into(), "_time".into()],
            ..Reply::default()
        };
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            r#"{"required_fields":["ScriptBlockText","_time"],"type":"reporting"}"#
        );
        assert_eq!(
            String::from_utf8(Reply::execute(false).to_json()).unwrap(),
            r#"{"finished":false}"#
        );
        assert_eq!(
            String::from_utf8(Reply::fatal("bad \"x\"").to_json()).unwrap(),
            r#"{"error":"bad \"x\"","finished":true,"inspector":{"messages":[["ERROR","bad \"x\""]]}}"#
        );
    }
}
