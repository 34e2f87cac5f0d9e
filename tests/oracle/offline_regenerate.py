"""Rebuilds (or checks) the expected outputs of the offline-format tests
(tests/offline.rs) with the oracle offline_hunt.py.

    python3 tests/oracle/offline_regenerate.py [--dump] [--check]

--dump first rewrites tests/data/derived/evtx_dump/*.xml with
`evtx_dump -o xml --no-indent` (crates.io `evtx`, which must be
installed); without it the committed dumps are used. --check compares
instead of writing and exits 1 if anything differs.

Writes, under tests/expected/offline/:
- jobs.tsv: one job a line: name, the command's inputs, its options;
- NAME.csv and NAME.summary for each job;
- fields/FILE.jsonl: every event's fields for each corpus file.
Run from the repository root.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "offline_hunt.py")
CORPUS = "tests/data/corpus"
DUMPS = "tests/data/derived/evtx_dump"
OUT = "tests/expected/offline"

XML_BY = ("dest,signature,signature_id,user_id,vendor_product,EventID,"
          "Guid,Opcode,Name,ProcessID,ScriptBlockId,ScriptBlockText")
JSON_BY = ("dest,signature,signature_id,vendor_product,EventID,Guid,Name,"
           "Path,ScriptBlockId,ScriptBlockText")
COMMON_BY = ("dest,signature,signature_id,vendor_product,EventID,Guid,Name,"
             "ScriptBlockId,ScriptBlockText")
PATTERNS = ["*Get-Domain*", "*Invoke-*", "*NetTCPIP*", "*NetTCP*",
            "*Certify*", "*Get-AD*", "*IEX*"]


def corpus_files():
    out = []
    for sub in ("evtx", "json", "xmlwineventlog"):
        for name in sorted(os.listdir(os.path.join(CORPUS, sub))):
            out.append(os.path.join(CORPUS, sub, name))
    return out


def oracle_input(path):
    """The file the oracle reads for one of the command's inputs."""
    if path.endswith(".evtx"):
        return os.path.join(DUMPS, os.path.basename(path) + ".xml")
    return path


def short(path):
    """A job name's first part: the technique id of an EVTX file, "otrf"
    for the JSON lines, the file name without extension otherwise."""
    name = os.path.basename(path)
    if path.endswith(".evtx"):
        return name.split("-")[0]
    if path.endswith(".jsonl"):
        return "otrf"
    return name.split(".")[0]


def jobs():
    out = []
    for path in corpus_files():
        s = short(path)
        by = JSON_BY if path.endswith(".jsonl") else XML_BY
        out.append((f"{s}.default", [path], []))
        out.append((f"{s}.all-default-by", [path], ["pattern=*"]))
        out.append((f"{s}.all", [path], ["pattern=*", f"by={by}"]))
    json_file = [p for p in corpus_files() if p.endswith(".jsonl")][0]
    out.append(("otrf.default-common-by", [json_file], [f"by={COMMON_BY}"]))
    everything = corpus_files()
    out.append(("corpus.default", everything, []))
    out.append(("corpus.default-common-by", everything,
                [f"by={COMMON_BY}"]))
    for p in PATTERNS:
        name = p.strip("*").lower().rstrip("-")
        out.append((f"corpus.{name}", everything,
                    [f"pattern={p}", f"by={COMMON_BY}"]))
        out.append((f"corpus.{name}-default-by", everything,
                    [f"pattern={p}"]))
    return out


def run_oracle(inputs, options, extra):
    cmd = [sys.executable, ORACLE] + options + extra + [
        oracle_input(i) for i in inputs]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def main(argv):
    check = "--check" in argv
    if "--dump" in argv and not check:
        for path in corpus_files():
            if path.endswith(".evtx"):
                with open(oracle_input(path), "wb") as f:
                    subprocess.run(
                        ["evtx_dump", "-o", "xml", "--no-indent", path],
                        check=True, stdout=f)
    tmp = os.path.join(OUT, ".tmp")
    os.makedirs(os.path.join(OUT, "fields"), exist_ok=True)
    wanted = {}
    lines = []
    for name, inputs, options in jobs():
        summary = tmp + ".summary"
        wanted[f"{name}.csv"] = run_oracle(
            inputs, options, ["--summary", summary])
        wanted[f"{name}.summary"] = open(summary, "rb").read()
        lines.append("\t".join([name, " ".join(inputs), " ".join(options)]))
    wanted["jobs.tsv"] = ("\n".join(lines) + "\n").encode()
    for path in corpus_files():
        fields = tmp + ".fields"
        run_oracle([path], [], ["--fields", fields])
        wanted[f"fields/{os.path.basename(path)}.jsonl"] = open(
            fields, "rb").read()
    for leftover in (tmp + ".summary", tmp + ".fields"):
        if os.path.exists(leftover):
            os.remove(leftover)

    differ = []
    for rel, data in sorted(wanted.items()):
        path = os.path.join(OUT, rel)
        old = open(path, "rb").read() if os.path.exists(path) else None
        if old != data:
            differ.append(rel)
            if not check:
                with open(path, "wb") as f:
                    f.write(data)
    if check:
        for rel in differ:
            print(f"differs: {rel}")
        sys.exit(1 if differ else 0)
    print(f"{len(wanted)} files, {len(differ)} rewritten")


if __name__ == "__main__":
    main(sys.argv[1:])
