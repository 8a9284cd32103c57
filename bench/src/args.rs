//! A tiny `--key value` / `--flag` argument reader.

use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, Default)]
pub(crate) struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    /// Parses `args`; names in `flags` take no value.
    pub(crate) fn parse(args: &[String], flags: &[&str]) -> Result<Self, String> {
        let mut out = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            if flags.contains(&name) {
                out.flags.push(name.to_owned());
            } else {
                let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                out.values.insert(name.to_owned(), value.clone());
            }
        }
        Ok(out)
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub(crate) fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: cannot parse {v:?}")),
        }
    }

    pub(crate) fn require(&self, name: &str) -> Result<&str, String> {
        self.str(name)
            .ok_or_else(|| format!("--{name} is required"))
    }
}
