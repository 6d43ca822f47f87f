//! The value parser of options that take one of a fixed set of names (`--preset`, `--dtype`,
//! `--endpoint-api`, ...): parsing stays the type's own `FromStr`, with its message and its
//! aliases (`float32` for `f32`), and clap learns the names, so the completion scripts
//! (`swerm completions bash|zsh|fish`) offer them. `--help` keeps the doc comment's wording
//! (the names are not listed twice).

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;

pub(crate) struct Choices<T> {
    names: &'static [&'static str],
    t: PhantomData<fn() -> T>,
}

impl<T> Clone for Choices<T> {
    fn clone(&self) -> Self {
        Choices { names: self.names, t: PhantomData }
    }
}

/// A parser of `T` offering `names` to completions.
pub(crate) fn choices<T>(names: &'static [&'static str]) -> Choices<T> {
    Choices { names, t: PhantomData }
}

impl<T> TypedValueParser for Choices<T>
where
    T: FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let arg = arg.map_or_else(|| "...".to_string(), |a| a.to_string());
        let Some(s) = value.to_str() else {
            return Err(clap::Error::raw(ErrorKind::InvalidUtf8, format!("invalid UTF-8 in the value of '{arg}'\n"))
                .with_cmd(cmd));
        };
        s.parse::<T>().map_err(|e| {
            clap::Error::raw(ErrorKind::InvalidValue, format!("invalid value '{s}' for '{arg}': {e}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names.iter().map(|n| PossibleValue::new(*n))))
    }
}
