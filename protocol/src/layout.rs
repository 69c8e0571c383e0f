//! What a value is made of, field by field, as the compiler laid it out.
//! The book's "what a held connection is made of" tables are these sizes,
//! written by the bench (`bench::held`) from the types themselves, so that
//! a field added to a connection shows up in its chapter with its bytes.

use std::mem::size_of;

/// One part of a value: a field, its type, its bytes, and what it is made
/// of in turn where that is worth showing (a field that is a struct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The field's name, or a description of the part.
    pub name: String,
    /// The field's type, without its module path.
    pub ty: String,
    /// `size_of` the field's type.
    pub bytes: usize,
    /// Its own fields, when shown (empty: not broken down).
    pub fields: Vec<Part>,
}

impl Part {
    /// A part of `bytes` bytes of type `ty`, not broken down.
    pub fn new(name: &str, ty: &str, bytes: usize) -> Part {
        Part {
            name: name.to_string(),
            ty: short_type(ty),
            bytes,
            fields: Vec::new(),
        }
    }

    /// A struct of `bytes` bytes made of `fields`; the bytes the fields do
    /// not account for are the padding the compiler added for alignment.
    pub fn whole(name: &str, ty: &str, bytes: usize, mut fields: Vec<Part>) -> Part {
        let used: usize = fields.iter().map(|f| f.bytes).sum();
        if bytes > used {
            fields.push(Part::new("(padding)", "", bytes - used));
        }
        Part {
            name: name.to_string(),
            ty: short_type(ty),
            bytes,
            fields,
        }
    }

    /// The same part, broken down into `inner`'s fields (the field's type
    /// is `inner`'s).
    pub fn of(mut self, inner: Part) -> Part {
        self.fields = inner.fields;
        self
    }

    /// The field named `name`, broken down into `inner`'s fields.
    pub fn expand(mut self, name: &str, inner: Part) -> Part {
        if let Some(field) = self.fields.iter_mut().find(|f| f.name == name) {
            field.fields = inner.fields;
        }
        self
    }
}

/// The size of the field an accessor returns: `size_of_field(|c: &Conn| &c.state)`.
pub fn size_of_field<T, F>(_field: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// The type name of the field an accessor returns.
pub fn type_of_field<T, F>(_field: fn(&T) -> &F) -> &'static str {
    std::any::type_name::<F>()
}

/// `core::option::Option<alloc::boxed::Box<protocol::connection::Exchange>>`
/// as `Option<Box<Exchange>>`: each path cut to its last segment.
fn short_type(ty: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in ty.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

/// The layout of a struct, field by field: `layout!(Conn { stream, state })`.
/// Every field must be named (a field left out shows up as padding).
#[macro_export]
macro_rules! layout {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        $crate::layout::Part::whole(
            stringify!($ty),
            std::any::type_name::<$ty>(),
            std::mem::size_of::<$ty>(),
            vec![$($crate::layout::Part::new(
                stringify!($field),
                $crate::layout::type_of_field(|v: &$ty| &v.$field),
                $crate::layout::size_of_field(|v: &$ty| &v.$field),
            )),*],
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    struct Pair {
        small: u8,
        big: u64,
    }

    #[test]
    fn a_layout_names_each_field_and_the_padding() {
        let pair = crate::layout!(Pair { small, big });
        assert_eq!(pair.bytes, 16);
        let rows: Vec<(&str, &str, usize)> = pair
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.ty.as_str(), f.bytes))
            .collect();
        assert_eq!(
            rows,
            [("small", "u8", 1), ("big", "u64", 8), ("(padding)", "", 7)]
        );
    }

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(
            short_type("core::option::Option<alloc::boxed::Box<protocol::connection::Exchange>>"),
            "Option<Box<Exchange>>"
        );
        assert_eq!(
            short_type("(std::time::Instant, usize)"),
            "(Instant, usize)"
        );
    }
}
