#!/usr/bin/env python3
"""Writes a large synthetic XmlWinEventLog file of PowerShell 4104 events.

A stand-in until `scriptblockhunt gen` exists. Each event's script block is
a few to a few hundred lines of ordinary administration PowerShell (loops,
Select-Object, Copy-Item, Remove-Item, New-Object, $false: words that
several ESCU hunts' literals also contain, so the prefilter has work), and
about one event in a hundred also carries a line built from the literals
of a random ESCU hunt (read from hunts/escu-4104.tsv), so every hunt finds
something. Deterministic for a given seed.

Usage: bench/gen_events.py EVENTS OUT.xml [SEED]
"""

import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENIGN = [
    "function Get-Inventory {",
    "    [CmdletBinding()]",
    "    param([string[]]$ComputerName = $env:COMPUTERNAME, [switch]$Force)",
    "    $result = New-Object System.Collections.ArrayList",
    "    foreach ($name in $ComputerName) {",
    "        $items = Get-ChildItem -Path $root -Recurse -ErrorAction SilentlyContinue",
    "        $items | Where-Object { $_.Length -gt 1MB } | Select-Object Name, Length",
    "        Write-Verbose \"Processing $name\"",
    "        if ($Force -eq $false) { continue }",
    "        Copy-Item -Path $src -Destination $dst -Recurse -Force",
    "        Remove-Item -Path $tmp -Recurse -ErrorAction Ignore",
    "        [void]$result.Add([pscustomobject]@{ Name = $name; Count = $items.Count })",
    "    }",
    "    return $result",
    "}",
    "try {",
    "    $config = Get-Content -Raw -Path $configPath | ConvertFrom-Json",
    "} catch {",
    "    Write-Error $_.Exception.Message",
    "}",
    "$path = [System.IO.Path]::Combine($env:TEMP, 'report.csv')",
    "$services = Get-Service | Sort-Object Status | Select-Object -First 10",
    "Export-Csv -InputObject $data -Path $path -NoTypeInformation",
    "$sw = [System.Diagnostics.Stopwatch]::StartNew()",
    "Set-StrictMode -Version Latest",
    "$ErrorActionPreference = 'Stop'",
    "Import-Module -Name PSReadLine -ErrorAction SilentlyContinue",
    "$hash = @{}; $hash['key'] = 'value'",
    "Start-Sleep -Milliseconds 250",
    "Write-Host ('{0} items in {1} ms' -f $count, $sw.ElapsedMilliseconds)",
    "$null = Register-ObjectEvent -InputObject $timer -EventName Elapsed",
    "Get-Process | Measure-Object -Property WorkingSet -Sum",
    "$acl = Get-Acl -Path $folder; $acl.Access | Format-Table",
    "# Copyright (c) Contoso. All rights reserved.",
    "<# .SYNOPSIS Gets the inventory of a machine. #>",
    "$text = $text -replace '\\s+', ' '",
    "[string]::Join(',', $values)",
    "Test-Path -Path $file -PathType Leaf",
    "New-Item -ItemType Directory -Path $out -Force | Out-Null",
    "$response = Invoke-WebRequest -Uri $url -UseBasicParsing",
]


def hunt_lines():
    """One line per ESCU hunt, built from the literals of its condition."""
    lines = []
    tsv = ROOT / "hunts" / "escu-4104.tsv"
    for row in tsv.read_text(encoding="utf-8").splitlines():
        if row.startswith("#") or row.startswith("name\t"):
            continue
        condition = row.split("\t")[3]
        values = re.findall(r'"((?:[^"\\]|\\.)*)"|=\s*([^\s()",]+)', condition)
        parts = [(q or u).replace("\\\\", "\\") for q, u in values]
        literals = [p.replace("*", " ") for p in parts if "NOT" not in p]
        lines.append(" ".join(literals[:3]))
    return lines


def escape(text):
    """XML text escaping as Windows writes it."""
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def main(argv):
    """Writes the file."""
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    count, out = int(argv[0]), argv[1]
    rng = random.Random(int(argv[2]) if len(argv) == 3 else 4104)
    hits = hunt_lines()
    hosts = [f"ws-{i:03}.corp.local" for i in range(40)]
    users = [f"S-1-5-21-1111-2222-3333-{1000 + i}" for i in range(25)]
    with open(out, "w", encoding="utf-8", newline="") as f:
        for k in range(count):
            n = min(int(rng.paretovariate(1.3) * 8), 400)
            lines = [rng.choice(BENIGN) for _ in range(n)]
            if rng.random() < 0.01:
                lines.insert(rng.randrange(len(lines) + 1), rng.choice(hits))
            text = escape("\r\n".join(lines))
            sec = k % 86400
            stamp = (f"2025-03-{1 + k // 86400 % 28:02}T{sec // 3600:02}:"
                     f"{sec // 60 % 60:02}:{sec % 60:02}.{k % 10**7:07}Z")
            path = (f"C:\\Scripts\\job{rng.randrange(300)}.ps1"
                    if rng.random() < 0.7 else "")
            f.write(
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
                "<System><Provider Name='Microsoft-Windows-PowerShell' "
                "Guid='{A0C1853B-5C40-4B15-8766-3CF1C58F985A}'/>"
                "<EventID>4104</EventID><Version>1</Version><Level>5</Level>"
                "<Task>2</Task><Opcode>15</Opcode><Keywords>0x0</Keywords>"
                f"<TimeCreated SystemTime='{stamp}'/>"
                f"<EventRecordID>{k}</EventRecordID>"
                f"<Execution ProcessID='{rng.randrange(400, 9000)}' ThreadID='1'/>"
                "<Channel>Microsoft-Windows-PowerShell/Operational</Channel>"
                f"<Computer>{rng.choice(hosts)}</Computer>"
                f"<Security UserID='{rng.choice(users)}'/></System>"
                "<EventData><Data Name='MessageNumber'>1</Data>"
                "<Data Name='MessageTotal'>1</Data>"
                f"<Data Name='ScriptBlockText'>{text}</Data>"
                f"<Data Name='ScriptBlockId'>{rng.getrandbits(128):032x}</Data>"
                f"<Data Name='Path'>{path}</Data></EventData></Event>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
