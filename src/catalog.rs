//! The hunts the command can run, and the plan of one invocation.
//!
//! A hunt is what one ESCU detection computes: a condition on
//! `ScriptBlockText`, then `fillnull`, then `stats count min(_time) as
//! firstTime max(_time) as lastTime BY <list>`. The 101 ESCU detections of
//! that shape are compiled into the program from `hunts/escu-4104.tsv`;
//! a user adds more in a file of the same format (`hunts_file=`), read at
//! the start of each search, so nothing needs rebuilding.
//!
//! The format, one hunt a line, columns separated by one tab:
//!
//! ```text
//! # comment lines and blank lines are ignored
//! name<TAB>id<TAB>by<TAB>condition
//! My hunt<TAB>my-0001<TAB>dest,ScriptBlockText<TAB>ScriptBlockText="*x*"
//! ```
//!
//! The first other line is that header. A name and an id are each unique
//! (ignoring ASCII case), across the built-in hunts too; neither may
//! contain a comma, since `hunts=` lists them with commas, nor be `all`.
//! `by` is a comma-separated field list; the condition is SPL as
//! [`Condition`] reads it, over `ScriptBlockText`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::condition::Condition;
use crate::error::{Error, Result};
use crate::options::{Options, DEFAULT_FIELD};
use crate::order;

/// The built-in catalog's text.
pub const ESCU_4104: &str = include_str!("../hunts/escu-4104.tsv");

/// The header line of a hunts file.
pub const HEADER: &str = "name\tid\tby\tcondition";

/// The name of the output column that holds the hunt's name.
pub const HUNT_COLUMN: &str = "hunt";

/// One hunt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunt {
    /// The detection's name; empty for the one unnamed hunt that
    /// `pattern=` or `condition=` describe.
    pub name: String,
    /// The detection's id; empty for the unnamed hunt.
    pub id: String,
    /// The stats BY fields, in output order.
    pub by: Vec<String>,
    /// The condition on the match field.
    pub condition: Condition,
}

/// A list of hunts with unique names and ids.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// The hunts, in file order.
    hunts: Vec<Hunt>,
    /// Every name and id, ASCII lower case, tagged `name:` or `id:`.
    taken: HashSet<String>,
}

impl Catalog {
    /// The hunts compiled into the program.
    pub fn builtin() -> Result<Catalog> {
        Catalog::parse(ESCU_4104, "the built-in catalog")
    }

    /// Reads a hunts file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        let mut header = false;
        // Windows editors may start the file with a byte order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (n, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |reason: String| {
                Error::option(format!("{origin}, line {}: {reason}", n + 1))
            };
            if !header {
                if line.trim_end() != HEADER {
                    return Err(at(format!(
                        "expected the header line {}",
                        HEADER.replace('\t', "<TAB>")
                    )));
                }
                header = true;
                continue;
            }
            let hunt = hunt(line).map_err(at)?;
            catalog.push(hunt).map_err(at)?;
        }
        Ok(catalog)
    }

    /// Adds one hunt, refusing a name or id already present.
    fn push(&mut self, hunt: Hunt) -> std::result::Result<(), String> {
        let keys = [
            ("name", &hunt.name, format!("name:{}", hunt.name)),
            ("id", &hunt.id, format!("id:{}", hunt.id)),
        ];
        for (what, value, key) in &keys {
            if self.taken.contains(&key.to_ascii_lowercase()) {
                return Err(format!("the hunt {what} '{value}' is taken"));
            }
        }
        for (_, _, key) in keys {
            self.taken.insert(key.to_ascii_lowercase());
        }
        self.hunts.push(hunt);
        Ok(())
    }

    /// Adds the hunts of `other` (a user's file) after these.
    pub fn extend(&mut self, other: Catalog, origin: &str) -> Result<()> {
        for hunt in other.hunts {
            let name = hunt.name.clone();
            self.push(hunt).map_err(|reason| {
                Error::option(format!(
                    "{origin}: hunt '{name}': {reason} (by the built-in \
                     catalog or earlier in the file)"
                ))
            })?;
        }
        Ok(())
    }

    /// All hunts, in file order.
    pub fn hunts(&self) -> &[Hunt] {
        &self.hunts
    }

    /// The hunts `spec` names: `all`, or names and ids separated by
    /// commas (ASCII case ignored, repeats counted once), sorted by name.
    pub fn select(&self, spec: &str) -> Result<Vec<Hunt>> {
        let mut chosen: Vec<&Hunt> = Vec::new();
        let mut picked: HashSet<&String> = HashSet::new();
        if spec.trim().eq_ignore_ascii_case("all") {
            chosen.extend(&self.hunts);
        } else {
            for item in spec.split(',').map(str::trim) {
                if item.is_empty() {
                    return Err(Error::option(format!(
                        "option hunts: an empty name in '{spec}'; give all, \
                         or hunt names or ids separated by commas"
                    )));
                }
                let found = self.hunts.iter().find(|h| {
                    h.name.eq_ignore_ascii_case(item)
                        || h.id.eq_ignore_ascii_case(item)
                });
                match found {
                    Some(h) if !picked.insert(&h.id) => {}
                    Some(h) => chosen.push(h),
                    None => {
                        return Err(Error::option(format!(
                            "option hunts: no hunt has the name or id \
                             '{item}' ({} hunts are known; hunts=all runs \
                             every one)",
                            self.hunts.len()
                        )));
                    }
                }
            }
        }
        let mut hunts: Vec<Hunt> = chosen.into_iter().cloned().collect();
        hunts.sort_by(|a, b| {
            order::compare(a.name.as_bytes(), b.name.as_bytes())
        });
        Ok(hunts)
    }
}

/// Reads one hunt line.
fn hunt(line: &str) -> std::result::Result<Hunt, String> {
    let columns: Vec<&str> = line.split('\t').collect();
    let [name, id, by, condition] = columns[..] else {
        return Err(format!(
            "expected 4 columns separated by tabs (name, id, by, \
             condition), found {}",
            columns.len()
        ));
    };
    let (name, id) = (name.trim(), id.trim());
    for (what, value) in [("name", name), ("id", id)] {
        if value.is_empty() {
            return Err(format!("the {what} is empty"));
        }
        if value.contains(',') || value.eq_ignore_ascii_case("all") {
            return Err(format!(
                "the {what} '{value}' contains a comma or is 'all'; \
                 hunts= could not name it"
            ));
        }
    }
    let mut fields: Vec<String> = Vec::new();
    for field in by.split(',').map(str::trim) {
        if field.is_empty() || fields.iter().any(|f| f == field) {
            return Err(format!(
                "the by column '{by}' needs distinct, non-empty field names \
                 separated by commas"
            ));
        }
        if field == HUNT_COLUMN {
            return Err(format!(
                "BY field '{HUNT_COLUMN}' would clash with the output \
                 column of that name"
            ));
        }
        fields.push(field.to_string());
    }
    let condition =
        Condition::parse(condition, DEFAULT_FIELD).map_err(|e| {
            format!(
                "condition of '{name}', byte {}: {}\n{}",
                e.offset,
                e.reason,
                e.pointer("  ")
            )
        })?;
    Ok(Hunt {
        name: name.to_string(),
        id: id.to_string(),
        by: fields,
        condition,
    })
}

/// What one invocation runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The hunts, sorted by name when they are named.
    pub hunts: Vec<Hunt>,
    /// True when the output carries the `hunt` column (`hunts=` was
    /// given).
    pub named: bool,
}

/// The plan for `options`: the selected catalog hunts for `hunts=`,
/// otherwise one unnamed hunt from `condition=` or `pattern=` and `by=`.
pub fn plan(options: &Options) -> Result<Plan> {
    let Some(spec) = &options.hunts else {
        let condition = match &options.condition {
            Some(text) => {
                Condition::parse(text, &options.field).map_err(|e| {
                    Error::option(format!("option condition, {e}"))
                })?
            }
            None => Condition::any_of(&options.patterns),
        };
        let hunt = Hunt {
            name: String::new(),
            id: String::new(),
            by: options.by.clone(),
            condition,
        };
        return Ok(Plan {
            hunts: vec![hunt],
            named: false,
        });
    };
    let mut catalog = Catalog::builtin()?;
    if let Some(path) = &options.hunts_file {
        let path = hunts_file_path(path)?;
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::option(format!("hunts file {shown}: cannot read: {e}"))
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::option(format!(
                "hunts file {shown}: not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let origin = format!("hunts file {shown}");
        let mine = Catalog::parse(&text, &origin)?;
        catalog.extend(mine, &origin)?;
    }
    Ok(Plan {
        hunts: catalog.select(spec)?,
        named: true,
    })
}

/// Where `hunts_file=` points: an absolute path as it is; a relative one
/// inside the `local/` directory of the Splunk app the program belongs to,
/// `$SPLUNK_HOME/etc/apps/<app>/local/`, the directory Splunk keeps for an
/// admin's own settings (the offline front ends make relative paths
/// absolute against the working directory first).
pub fn hunts_file_path(path: &str) -> Result<PathBuf> {
    let given = Path::new(path);
    if given.is_absolute() {
        return Ok(given.to_path_buf());
    }
    let home = std::env::var_os("SPLUNK_HOME").map(PathBuf::from);
    let exe = std::env::current_exe().ok();
    let local = exe
        .as_deref()
        .and_then(|exe| app_local_dir(home.as_deref(), exe));
    match local {
        Some(dir) => Ok(dir.join(given)),
        None => Err(Error::option(format!(
            "option hunts_file: '{path}' is relative, so it is looked up in \
             $SPLUNK_HOME/etc/apps/<app>/local/, but {} ; give an absolute \
             path",
            match (&home, &exe) {
                (None, _) => "SPLUNK_HOME is not set".to_string(),
                (Some(h), Some(e)) => format!(
                    "the program {} is not inside {}",
                    e.display(),
                    h.join("etc").join("apps").display()
                ),
                (Some(_), None) => {
                    "the program's own path is unknown".to_string()
                }
            }
        ))),
    }
}

/// The `local/` directory of the app under `splunk_home` that holds
/// `exe`, looking through symbolic links when the plain paths disagree.
fn app_local_dir(splunk_home: Option<&Path>, exe: &Path) -> Option<PathBuf> {
    let apps = splunk_home?.join("etc").join("apps");
    let inside = |apps: &Path, exe: &Path| {
        let rest = exe.strip_prefix(apps).ok()?;
        let app = rest.components().next()?;
        (rest.components().count() > 1)
            .then(|| apps.join(app.as_os_str()).join("local"))
    };
    inside(&apps, exe).or_else(|| {
        let apps = apps.canonicalize().ok()?;
        let exe = exe.canonicalize().ok()?;
        inside(&apps, &exe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(lines: &[&str]) -> String {
        let mut text = format!("# test\n\n{HEADER}\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    #[test]
    fn builtin_catalog_has_the_101_escu_hunts() {
        let catalog = Catalog::builtin().unwrap();
        assert_eq!(catalog.hunts().len(), 101);
        let by13 = catalog
            .hunts()
            .iter()
            .filter(|h| h.by == crate::options::DEFAULT_BY)
            .count();
        assert_eq!(by13, 100);
        let tcp = catalog
            .select("091712ff-b02a-4d43-82ed-34765515d95d")
            .unwrap();
        assert_eq!(
            tcp[0].name,
            "GetNetTcpconnection with PowerShell Script Block"
        );
        assert_eq!(
            tcp[0].condition.normalized(),
            r#""*Get-NetTcpconnection*""#
        );
        let history = catalog
            .select("windows powershell history file deletion")
            .unwrap();
        assert_eq!(history[0].by.len(), 12);
        assert!(!history[0].by.iter().any(|f| f == "EventID"));
    }

    #[test]
    fn select_all_or_by_name_and_id_sorted_by_name() {
        let catalog = Catalog::parse(
            &file(&[
                "b hunt\tid-2\tdest\tScriptBlockText=*b*",
                "A hunt\tid-1\tdest\tScriptBlockText=*a*",
                "a2\tid-3\tdest\tScriptBlockText=*c*",
            ]),
            "test",
        )
        .unwrap();
        let names = |spec: &str| -> Vec<String> {
            catalog
                .select(spec)
                .unwrap()
                .into_iter()
                .map(|h| h.name)
                .collect()
        };
        assert_eq!(names("all"), vec!["A hunt", "a2", "b hunt"]);
        assert_eq!(names(" ID-2 , a hunt,b hunt"), vec!["A hunt", "b hunt"]);
        let err = catalog.select("a hunt,nope").unwrap_err().to_string();
        assert!(err.contains("no hunt has the name or id 'nope'"), "{err}");
        assert!(catalog.select("a2,,b hunt").is_err());
    }

    #[test]
    fn file_errors_name_the_line() {
        let err = |lines: &[&str]| {
            Catalog::parse(&file(lines), "hunts file my.tsv")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&["a\tb\tc"]),
            "hunts file my.tsv, line 4: expected 4 columns separated by tabs \
             (name, id, by, condition), found 3"
        );
        assert_eq!(
            err(&[
                "a\t1\tdest\tScriptBlockText=x",
                "A\t2\tdest\tScriptBlockText=x"
            ]),
            "hunts file my.tsv, line 5: the hunt name 'A' is taken"
        );
        assert!(err(&["a,b\t1\tdest\tScriptBlockText=x"]).contains("comma"));
        assert!(err(&["all\t1\tdest\tScriptBlockText=x"]).contains("'all'"));
        assert!(
            err(&["a\t1\tdest,,x\tScriptBlockText=x"]).contains("by column")
        );
        assert!(err(&["a\t1\thunt\tScriptBlockText=x"]).contains("clash"));
        assert_eq!(
            err(&["a\t1\tdest\tScriptBlockText=\"x"]),
            "hunts file my.tsv, line 4: condition of 'a', byte 16: this \
             quote never closes\n  ScriptBlockText=\"x\n                  ^"
        );
        let bom =
            format!("\u{feff}{}", file(&["a\t1\tdest\tScriptBlockText=x"]));
        assert_eq!(Catalog::parse(&bom, "f").unwrap().hunts().len(), 1);
        let no_header = Catalog::parse("a\tb\tc\td\n", "f").unwrap_err();
        assert!(no_header.to_string().contains("expected the header line"));
    }

    #[test]
    fn user_hunts_may_not_reuse_builtin_names_or_ids() {
        let mut catalog = Catalog::builtin().unwrap();
        let mine = Catalog::parse(
            &file(&["Mine\t091712FF-B02A-4D43-82ED-34765515D95D\tdest\tScriptBlockText=x"]),
            "f",
        )
        .unwrap();
        let err = catalog.extend(mine, "hunts file f").unwrap_err();
        assert!(err.to_string().contains("id '091712FF"), "{err}");
        let mine = Catalog::parse(
            &file(&["Mine\tm-1\tdest\tScriptBlockText=x"]),
            "f",
        )
        .unwrap();
        catalog.extend(mine, "f").unwrap();
        assert_eq!(catalog.select("m-1").unwrap()[0].name, "Mine");
    }

    #[test]
    fn large_user_files_load_and_compile() {
        let lines: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    "h{i}\tid{i}\tdest\tScriptBlockText=\"*lit{i}*x{}*\"",
                    i % 7
                )
            })
            .collect();
        let refs: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
        let catalog = Catalog::parse(&file(&refs), "big").unwrap();
        let hunts = catalog.select("all").unwrap();
        assert_eq!(hunts.len(), 2000);
        let conditions: Vec<_> = hunts.iter().map(|h| &h.condition).collect();
        let matcher = crate::matcher::Matcher::new(&conditions).unwrap();
        assert_eq!(matcher.patterns(), 2000);
        assert_eq!(matcher.literals(), 2007);
    }

    #[test]
    fn relative_hunts_files_live_in_the_apps_local_directory() {
        let home = Path::new("/opt/splunk");
        let exe = Path::new(
            "/opt/splunk/etc/apps/TA_scriptblockhunt/linux_x86_64/bin/\
             scriptblockhunt",
        );
        assert_eq!(
            app_local_dir(Some(home), exe).unwrap(),
            Path::new("/opt/splunk/etc/apps/TA_scriptblockhunt/local")
        );
        assert_eq!(app_local_dir(None, exe), None);
        assert_eq!(
            app_local_dir(Some(home), Path::new("/usr/bin/scriptblockhunt")),
            None
        );
        assert_eq!(
            app_local_dir(Some(home), Path::new("/opt/splunk/etc/apps/x")),
            None
        );
        assert_eq!(
            hunts_file_path("/abs/h.tsv").unwrap(),
            Path::new("/abs/h.tsv")
        );
    }

    #[test]
    fn plan_for_patterns_condition_and_hunts() {
        let options = Options::parse(&["pattern=*a*", "pattern=b"]).unwrap();
        let plan = plan(&options).unwrap();
        assert!(!plan.named);
        assert_eq!(plan.hunts[0].condition.normalized(), r#"OR("*a*", "b")"#);
        let options =
            Options::parse(&["condition=t=*a* NOT t=*b*", "field=t"]).unwrap();
        let plan = super::plan(&options).unwrap();
        assert_eq!(
            plan.hunts[0].condition.normalized(),
            r#"AND("*a*", NOT("*b*"))"#
        );
        let options = Options::parse(&["condition=t=(", "field=t"]).unwrap();
        let err = super::plan(&options).unwrap_err().to_string();
        assert!(err.starts_with("option condition, byte 2: "), "{err}");
        let options = Options::parse(&["hunts=all"]).unwrap();
        let plan = super::plan(&options).unwrap();
        assert!(plan.named);
        assert_eq!(plan.hunts.len(), 101);
        assert_eq!(plan.hunts[0].name, "AdsiSearcher Account Discovery");
        let options =
            Options::parse(&["hunts=all", "hunts_file=/nonexistent/h.tsv"])
                .unwrap();
        let err = super::plan(&options).unwrap_err().to_string();
        assert!(
            err.starts_with("hunts file /nonexistent/h.tsv: cannot read"),
            "{err}"
        );
    }
}
