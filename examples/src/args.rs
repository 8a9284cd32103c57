//! Tiny command-line parsing shared by the binaries: `--flag value`,
//! `--flag=value`, bare `--switch`, and `--help`.

use std::fmt;
use std::str::FromStr;

/// Why the command line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgError {
    /// `--help` or `-h` was given: print the usage and exit successfully.
    Help,
    /// The command line is wrong; the message says how.
    Invalid(String),
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Help => f.write_str("help requested"),
            Self::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ArgError {}

impl ArgError {
    /// Prints `usage` (and the error, if any) and exits: 0 for help, 2 otherwise.
    pub fn exit(self, usage: &str) -> ! {
        match self {
            Self::Help => {
                println!("{usage}");
                std::process::exit(0)
            }
            Self::Invalid(message) => {
                eprintln!("error: {message}\n\n{usage}");
                std::process::exit(2)
            }
        }
    }
}

/// A cursor over command-line arguments.
///
/// ```
/// use mjpeg_examples::args::Args;
///
/// let mut args = Args::new(["--fps=25", "--addr", "127.0.0.1:9000", "--overlay"]);
/// let mut seen = Vec::new();
/// while let Some(flag) = args.next_flag().unwrap() {
///     match flag.as_str() {
///         "--fps" => seen.push(args.value::<u32>(&flag).unwrap().to_string()),
///         "--addr" => seen.push(args.value::<String>(&flag).unwrap()),
///         _ => seen.push(flag),
///     }
/// }
/// assert_eq!(seen, ["25", "127.0.0.1:9000", "--overlay"]);
/// ```
#[derive(Debug)]
pub struct Args {
    rest: std::vec::IntoIter<String>,
    /// The value of a `--flag=value` argument, until taken.
    inline: Option<String>,
}

impl Args {
    /// Parses the given arguments (without the program name).
    pub fn new<I>(args: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        Self {
            rest: args.into_iter(),
            inline: None,
        }
    }

    /// Parses the process's own arguments.
    pub fn from_env() -> Self {
        Self::new(std::env::args().skip(1))
    }

    /// The next flag, `Ok(None)` at the end.
    ///
    /// # Errors
    /// [`ArgError::Help`] for `--help`/`-h`; [`ArgError::Invalid`] for a
    /// positional argument or an unused `=value`.
    pub fn next_flag(&mut self) -> Result<Option<String>, ArgError> {
        if let Some(value) = self.inline.take() {
            return Err(ArgError::Invalid(format!("unexpected value {value:?}")));
        }
        let Some(arg) = self.rest.next() else {
            return Ok(None);
        };
        if arg == "--help" || arg == "-h" {
            return Err(ArgError::Help);
        }
        if !arg.starts_with("--") {
            return Err(ArgError::Invalid(format!("unexpected argument {arg:?}")));
        }
        match arg.split_once('=') {
            Some((flag, value)) => {
                self.inline = Some(value.to_owned());
                Ok(Some(flag.to_owned()))
            }
            None => Ok(Some(arg)),
        }
    }

    /// The value of `flag`, parsed.
    ///
    /// # Errors
    /// [`ArgError::Invalid`] if the value is missing or does not parse.
    pub fn value<T>(&mut self, flag: &str) -> Result<T, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let value = self
            .inline
            .take()
            .or_else(|| self.rest.next())
            .ok_or_else(|| ArgError::Invalid(format!("{flag} needs a value")))?;
        value
            .parse()
            .map_err(|e| ArgError::Invalid(format!("{flag} {value:?}: {e}")))
    }
}

/// An unknown flag, as an error.
pub fn unknown(flag: &str) -> ArgError {
    ArgError::Invalid(format!("unknown flag {flag}"))
}

/// Checks that `value` lies in `min..=max`.
///
/// # Errors
/// [`ArgError::Invalid`] naming the flag and the range.
pub fn in_range<T>(flag: &str, value: T, min: T, max: T) -> Result<T, ArgError>
where
    T: PartialOrd + fmt::Display,
{
    if value < min || value > max {
        return Err(ArgError::Invalid(format!(
            "{flag} is {value}; it must be between {min} and {max}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_and_errors_are_reported() {
        assert_eq!(Args::new(["-h"]).next_flag(), Err(ArgError::Help));
        assert!(matches!(
            Args::new(["stray"]).next_flag(),
            Err(ArgError::Invalid(_))
        ));
        let mut args = Args::new(["--fps"]);
        let flag = args.next_flag().unwrap().unwrap();
        assert!(args.value::<u32>(&flag).is_err());
        let mut args = Args::new(["--fps", "fast"]);
        let flag = args.next_flag().unwrap().unwrap();
        let err = args.value::<u32>(&flag).unwrap_err();
        assert!(err.to_string().contains("--fps \"fast\""), "{err}");
    }

    #[test]
    fn an_unused_inline_value_is_an_error() {
        let mut args = Args::new(["--overlay=yes"]);
        assert_eq!(args.next_flag().unwrap().as_deref(), Some("--overlay"));
        assert!(args.next_flag().is_err());
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(in_range("--fps", 30, 1, 120), Ok(30));
        assert!(in_range("--fps", 0, 1, 120).is_err());
    }
}
