//! `reassemble=true`: script blocks split across several 4104 events are
//! joined before matching, through the whole protocol conversation.

use scriptblockhunt::chunk::{write_chunk, ChunkReader};
use scriptblockhunt::session::serve;

/// The cmdlet the default hunt looks for.
const NAME: &str = "Get-NetTCPConnection";

/// One 4104 piece: (ScriptBlockId, MessageNumber, MessageTotal, text,
/// _time).
type Piece<'a> = (&'a str, u32, u32, &'a str, &'a str);

/// A CSV body of pieces, every field quoted as Splunk quotes.
fn body(pieces: &[Piece<'_>]) -> Vec<u8> {
    let mut out = b"ScriptBlockText,ScriptBlockId,MessageNumber,MessageTotal,\
dest,_time\n"
        .to_vec();
    for (id, n, of, text, time) in pieces {
        let text = text.replace('"', "\"\"");
        out.extend(
            format!("\"{text}\",\"{id}\",{n},{of},\"host\",\"{time}\"\n")
                .as_bytes(),
        );
    }
    out
}

/// A whole stream: getinfo with `args`, then one execute chunk per body,
/// the last one finished.
fn stream(args: &[&str], bodies: &[Vec<u8>]) -> Vec<u8> {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    let getinfo = format!(
        r#"{{"action":"getinfo","searchinfo":{{"args":[{}]}}}}"#,
        args.join(",")
    );
    let mut out = Vec::new();
    write_chunk(&mut out, getinfo.as_bytes(), b"").unwrap();
    for (i, body) in bodies.iter().enumerate() {
        let finished = i + 1 == bodies.len();
        let metadata =
            format!(r#"{{"action":"execute","finished":{finished}}}"#);
        write_chunk(&mut out, metadata.as_bytes(), body).unwrap();
    }
    out
}

/// The replies: (metadata, body) of each.
fn replies(stream: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    serve(stream, &mut out).unwrap();
    let mut reader = ChunkReader::new(&out[..]);
    let mut replies = Vec::new();
    while let Some(chunk) = reader.read_chunk().unwrap() {
        replies.push((
            String::from_utf8(chunk.metadata.to_vec()).unwrap(),
            String::from_utf8(chunk.body.to_vec()).unwrap(),
        ));
    }
    replies
}

/// The rows of the final reply, header dropped.
fn rows(stream: &[u8]) -> Vec<String> {
    let replies = replies(stream);
    let last = &replies.last().unwrap().1;
    last.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn a_name_cut_at_every_position_is_found_only_when_reassembled() {
    let texts: Vec<(String, String, String)> = (1..NAME.len())
        .map(|k| {
            (
                format!("block-{k:02}"),
                format!("$c = {}", &NAME[..k]),
                format!("{} -State Listen", &NAME[k..]),
            )
        })
        .collect();
    let mut pieces = Vec::new();
    for (id, first, second) in &texts {
        pieces.push((id.as_str(), 2, 2, second.as_str(), "20"));
        pieces.push((id.as_str(), 1, 2, first.as_str(), "10"));
    }
    let args = ["by=ScriptBlockId,ScriptBlockText"];
    let plain = rows(&stream(&args, &[body(&pieces)]));
    assert!(plain.is_empty(), "{plain:?}");

    let args = ["by=ScriptBlockId,ScriptBlockText", "reassemble=true"];
    let joined = rows(&stream(&args, &[body(&pieces)]));
    let expected: Vec<String> = texts
        .iter()
        .map(|(id, first, second)| format!("{id},{first}{second},1,10,10"))
        .collect();
    assert_eq!(joined, expected);
}

#[test]
fn out_of_order_duplicated_missing_and_interleaved_across_chunks() {
    let first = body(&[
        ("b", 3, 3, "nection -x", "7"),
        ("a", 2, 2, "onnection", "3"),
        ("c", 1, 2, "Get-NetTCP only", "5"),
    ]);
    let second = body(&[
        ("b", 1, 3, "Get-Net", "9"),
        ("b", 1, 3, "Get-Net", "9"),
        ("a", 1, 2, "Get-NetTCPC", "4"),
        ("b", 2, 3, "TCPCon", "8"),
    ]);
    let args = ["by=ScriptBlockId,ScriptBlockText", "reassemble=true"];
    let replies = replies(&stream(&args, &[first, second]));
    let rows: Vec<&str> = replies[2].1.lines().skip(1).collect();
    // a: joined in MessageNumber order, earliest _time (3); b: the
    // duplicate piece dropped; c: incomplete, matched on what arrived
    // ("Get-NetTCP only" does not match).
    assert_eq!(
        rows,
        vec![
            "a,Get-NetTCPConnection,1,3,3",
            "b,Get-NetTCPConnection -x,1,7,7"
        ]
    );
    assert!(replies[2].0.contains(
        "1 script block(s) were still missing pieces at the end of the \
         input and were matched on the pieces that arrived"
    ));
}

#[test]
fn a_block_of_sixty_pieces() {
    // The cmdlet spans pieces 30 and 31 of 60, which arrive last first.
    let mut texts: Vec<String> = (1..=60).map(|n| format!("<{n}>")).collect();
    texts[29] = "Get-Net".to_string();
    texts[30] = "TcpConnection".to_string();
    let mut pieces: Vec<Piece<'_>> = Vec::new();
    for (n, text) in texts.iter().enumerate().rev() {
        pieces.push(("big", n as u32 + 1, 60, text.as_str(), "1"));
    }
    let args = ["by=ScriptBlockId", "reassemble=true"];
    assert_eq!(rows(&stream(&args, &[body(&pieces)])), vec!["big,1,1,1"]);
    let args = ["by=ScriptBlockId"];
    assert!(rows(&stream(&args, &[body(&pieces)])).is_empty());
}

#[test]
fn distributed_stays_on_the_search_head_when_reassembling() {
    let pieces = [
        ("a", 1, 2, "Get-Net", "1"),
        ("a", 2, 2, "TCPConnection", "2"),
    ];
    let args = ["by=ScriptBlockId", "reassemble=true", "distributed=true"];
    let replies = replies(&stream(&args, &[body(&pieces)]));
    assert!(
        !replies[0].0.contains("streaming_preop"),
        "{}",
        replies[0].0
    );
    assert!(replies[0].0.contains("distributed=true is not used"));
    assert!(replies[0].0.contains(r#""type":"reporting""#));
    assert_eq!(replies[1].1.lines().nth(1), Some("a,1,1,1"));
}

#[test]
fn every_hunt_sees_the_joined_block() {
    // The literal of the GetNetTcpconnection hunt, cut between two pieces:
    // found by the hunt in the one-pass run of every catalog hunt.
    let pieces = [
        ("a", 1, 2, "Get-NetTC", "1"),
        ("a", 2, 2, "PConnection", "1"),
    ];
    let args = ["hunts=all", "reassemble=true"];
    let mut body =
        b"ScriptBlockText,ScriptBlockId,MessageNumber,MessageTotal,\
dest,signature,signature_id,user_id,vendor_product,EventID,Guid,Opcode,Name,\
Path,ProcessID,_time\n"
            .to_vec();
    for (id, n, of, text, time) in pieces {
        body.extend(
            format!(
                "\"{text}\",{id},{n},{of},h,s,4104,u,v,4104,g,15,n,p,5,{time}\n"
            )
            .as_bytes(),
        );
    }
    assert!(rows(&stream(&["hunts=all"], &[body.clone()])).is_empty());
    let rows = rows(&stream(&args, &[body]));
    assert_eq!(
        rows,
        vec![
            "GetNetTcpconnection with PowerShell Script Block,h,s,4104,u,v,\
             4104,g,15,n,p,5,a,Get-NetTCPConnection,1,1,1"
        ]
    );
}
